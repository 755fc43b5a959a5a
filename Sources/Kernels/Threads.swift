import CBLAS
import Dispatch
import Synchronization

/// The number of threads the kernels use: OpenBLAS's GEMM threads and the row-parallel loops of the other kernels.
///
/// Every kernel of this module computes each output element with the same sequence of floating-point operations
/// whatever the thread count, so its results depend only on its inputs. GEMM results depend on OpenBLAS, which is
/// deterministic for a given thread count.
public enum KernelThreads {
    private static let storage = Atomic<Int>(Int(openblas_get_num_threads()))

    /// The current thread count (OpenBLAS's default at start: the number of cores).
    public static var count: Int { storage.load(ordering: .relaxed) }

    /// Sets the thread count for the kernels and OpenBLAS; values below 1 mean 1.
    public static func set(_ threads: Int) {
        let threads = max(1, threads)
        storage.store(threads, ordering: .relaxed)
        openblas_set_num_threads(Int32(threads))
    }
}

/// Row-parallel loops over the kernel threads.
public enum Parallel {
    /// Splits `0..<count` into at most `KernelThreads.count` contiguous chunks of at least `grain` items and runs
    /// `body` on each, on the calling thread when a single chunk suffices. `body` must only write to disjoint
    /// places per chunk.
    /// `threads` caps the chunks below `KernelThreads.count`.
    @inlinable
    public static func forChunks(_ count: Int, grain: Int = 1, threads: Int? = nil, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = min(threads ?? KernelThreads.count, KernelThreads.count, max(1, count / max(1, grain)))
        if chunks <= 1 {
            body(0..<count)
            return
        }
        withoutActuallyEscaping(body) { body in
            // The chunks write to disjoint places (the contract of `body`), so sharing it across threads is safe.
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let start = count * chunk / chunks
                let end = count * (chunk + 1) / chunks
                if start < end { shared.value(start..<end) }
            }
        }
    }
}

/// Carries a value across threads where the caller guarantees the accesses do not race.
@usableFromInline
struct UncheckedSendable<Value>: @unchecked Sendable {
    @usableFromInline let value: Value
    @usableFromInline init(_ value: Value) { self.value = value }
}

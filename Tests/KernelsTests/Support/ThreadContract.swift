import Kernels
import Testing

/// The determinism contract (docs/architecture.md, "Determinism"), as the kernel tests assert it:
/// - the same inputs, thread count and OpenBLAS core give bitwise the same results;
/// - across thread counts, kernels of our own (no OpenBLAS call, or OpenBLAS calls on one thread each) give bitwise
///   the same results; results that pass through a multi-threaded OpenBLAS GEMM agree within a tolerance, since
///   OpenBLAS may split a sum differently for another thread count (its Prescott kernels do).
enum ThreadContract {
    /// Runs `body` with `threads` kernel threads (OpenBLAS's included), then restores the count.
    static func withThreads<T>(_ threads: Int, _ body: () -> T) -> T {
        let saved = KernelThreads.count
        KernelThreads.set(threads)
        defer { KernelThreads.set(saved) }
        return body()
    }

    /// A kernel of our own: bitwise the same results with 1 and 2 threads.
    static func expectBitwiseAcrossThreads(
        _ run: () -> [[Float]], sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let one = withThreads(1, run), two = withThreads(2, run)
        expectBitwise(one, two, "1 and 2 threads", sourceLocation: sourceLocation)
    }

    /// A computation through OpenBLAS's GEMM: bitwise the same when repeated with 2 threads (where chunks could race),
    /// and between 1 and 2 threads within `tolerance` times the buffer's largest magnitude (a reordered float32 sum
    /// errs relative to the size of its terms, not of its result, which cancellation can make small).
    static func expectThroughGEMM(
        tolerance: Double = 1e-5, _ run: () -> [[Float]], sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let one = withThreads(1, run), two = withThreads(2, run), twoAgain = withThreads(2, run)
        expectBitwise(two, twoAgain, "2 threads, twice", sourceLocation: sourceLocation)
        #expect(one.count == two.count, sourceLocation: sourceLocation)
        for (index, (a, b)) in zip(one, two).enumerated() where a.count == b.count {
            let scale = a.reduce(0) { max($0, abs(Double($1))) }
            let worst = a.indices.max { abs(Double(a[$0]) - Double(b[$0])) < abs(Double(a[$1]) - Double(b[$1])) }
            guard let worst else { continue }
            let error = abs(Double(a[worst]) - Double(b[worst]))
            #expect(error <= tolerance * scale, "buffer \(index), 2 threads against 1: element \(worst) is \(b[worst]) against \(a[worst]) (largest magnitude \(scale))",
                    sourceLocation: sourceLocation)
        }
    }

    /// Bit patterns equal buffer by buffer (NaN and -0 included); a failure names the first differing element.
    static func expectBitwise(
        _ a: [[Float]], _ b: [[Float]], _ what: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(a.count == b.count, "\(what): \(a.count) buffers against \(b.count)", sourceLocation: sourceLocation)
        for (index, (x, y)) in zip(a, b).enumerated() {
            guard x.count == y.count else {
                Issue.record("\(what): buffer \(index) has \(x.count) values against \(y.count)", sourceLocation: sourceLocation)
                continue
            }
            if let element = x.indices.first(where: { x[$0].bitPattern != y[$0].bitPattern }) {
                let differing = x.indices.filter { x[$0].bitPattern != y[$0].bitPattern }.count
                Issue.record("\(what): buffer \(index) differs at \(differing) elements, first at \(element): \(x[element]) against \(y[element])",
                             sourceLocation: sourceLocation)
            }
        }
    }
}

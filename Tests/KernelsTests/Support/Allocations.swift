import CAllocationCounter
import Kernels
import Testing

/// Runs `body` with one kernel thread and returns how many heap allocations the calling thread made inside it.
/// Kernels run on the calling thread when the thread count is 1, so every allocation of theirs is seen.
func allocations(_ body: () -> Void) -> Int {
    let saved = KernelThreads.count
    KernelThreads.set(1)
    defer { KernelThreads.set(saved) }
    body()  // warm-up: lazy one-time initialisation (OpenBLAS buffers, Swift metadata) is not the kernel's.
    allocation_counter_start()
    body()
    return allocation_counter_stop()
}

/// Expects `body` (kernel calls whose arguments are prepared outside it) to make no heap allocation.
func expectNoAllocations(_ what: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () -> Void) {
    let count = allocations(body)
    #expect(count == 0, "\(what): \(count) allocations", sourceLocation: sourceLocation)
}

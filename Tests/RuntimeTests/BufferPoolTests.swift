@testable import Runtime
import Testing

/// The pool reuses storage by size and, trimmed before each run, keeps only the sizes the last run took.
@Suite struct BufferPoolTests {
    @Test func trimFreesSizesTheLastRunDidNotTake() {
        let pool = BufferPool()
        do {
            _ = HostTensor(.f32, shape: [16], pool: pool)
            _ = HostTensor(.f32, shape: [32], pool: pool)
        }
        #expect(pool.freeBytes == 64 + 128)
        pool.trim()
        #expect(pool.freeBytes == 64 + 128, "both sizes were taken since the last trim")
        // A "run" on another shape takes only 16-element buffers.
        do { _ = HostTensor(.f32, shape: [16], pool: pool) }
        pool.trim()
        #expect(pool.freeBytes == 64, "the 32-element block is freed")
        pool.trim()
        #expect(pool.freeBytes == 0)
    }
}

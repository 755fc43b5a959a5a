import Synchronization

/// Storage for tensors, reused by size: a tensor made from a pool gives its storage back when it is released, and
/// the next tensor of the same byte count takes it, already mapped and without being cleared. Repeated runs of a
/// graph then allocate nothing after the first one (until the compiler's memory planner places everything in one
/// arena).
///
/// Runs on other shapes (training batches of other lengths) need other sizes: `trim()`, called by the interpreter
/// before each run, frees the blocks of sizes the previous run did not take, so the pool holds about one run's
/// worth of storage instead of growing with every new shape.
public final class BufferPool: Sendable {
    private struct State {
        /// Free storage by byte count, as addresses (raw pointers are not Sendable; the pool owns these blocks).
        var free: [Int: [UInt]] = [:]
        /// The byte counts taken since the last trim.
        var taken: Set<Int> = []
    }

    private let state = Mutex(State())

    public init() {}

    deinit {
        state.withLock { state in
            for addresses in state.free.values {
                for address in addresses { UnsafeMutableRawPointer(bitPattern: address)?.deallocate() }
            }
        }
    }

    /// Storage of `byteCount` bytes, 64-byte aligned, contents undefined.
    func take(_ byteCount: Int) -> UnsafeMutableRawPointer {
        let reused = state.withLock { state -> UInt? in
            state.taken.insert(byteCount)
            return state.free[byteCount]?.popLast()
        }
        if let reused, let pointer = UnsafeMutableRawPointer(bitPattern: reused) { return pointer }
        return UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
    }

    func give(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
        let address = UInt(bitPattern: pointer)
        state.withLock { state in state.free[byteCount, default: []].append(address) }
    }

    /// Frees the blocks of sizes not taken since the last trim.
    func trim() {
        let released = state.withLock { state -> [UInt] in
            var released = [UInt]()
            for (size, addresses) in state.free where !state.taken.contains(size) {
                released += addresses
                state.free[size] = nil
            }
            state.taken.removeAll(keepingCapacity: true)
            return released
        }
        for address in released { UnsafeMutableRawPointer(bitPattern: address)?.deallocate() }
    }

    /// Bytes held free (for tests and reports).
    public var freeBytes: Int { state.withLock { state in state.free.reduce(0) { $0 + $1.key * $1.value.count } } }
}

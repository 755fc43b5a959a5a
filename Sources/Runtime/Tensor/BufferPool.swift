import Synchronization

/// Storage for tensors, reused by size: a tensor made from a pool gives its storage back when it is released, and
/// the next tensor of the same byte count takes it, already mapped and without being cleared. Repeated runs of a
/// graph then allocate nothing after the first one (until the compiler's memory planner places everything in one
/// arena).
public final class BufferPool: Sendable {
    /// Free storage by byte count, as addresses (raw pointers are not Sendable; the pool owns these blocks).
    private let free = Mutex<[Int: [UInt]]>([:])

    public init() {}

    deinit {
        free.withLock { lists in
            for addresses in lists.values {
                for address in addresses { UnsafeMutableRawPointer(bitPattern: address)?.deallocate() }
            }
        }
    }

    /// Storage of `byteCount` bytes, 64-byte aligned, contents undefined.
    func take(_ byteCount: Int) -> UnsafeMutableRawPointer {
        if let address = free.withLock({ lists in lists[byteCount]?.popLast() }),
           let reused = UnsafeMutableRawPointer(bitPattern: address) {
            return reused
        }
        return UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
    }

    func give(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
        let address = UInt(bitPattern: pointer)
        free.withLock { lists in lists[byteCount, default: []].append(address) }
    }
}

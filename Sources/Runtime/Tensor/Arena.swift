import Synchronization

/// One block of memory that a run's values are placed in at the offsets of a `MemoryPlan`: tensors made from it are
/// views that do not own their storage. The block lives while any view of it does.
final class Arena: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        base = UnsafeMutableRawPointer.allocate(byteCount: max(64, capacity), alignment: 64)
    }

    deinit { base.deallocate() }
}

/// The arena of an interpreter, lent to one run at a time: a run takes it (or a new one when it is lent out or too
/// small) and gives it back at the end, so concurrent runs never share one. The kept arena is the largest returned.
final class ArenaStore: Sendable {
    private let kept = Mutex<Arena?>(nil)

    /// An arena of at least `bytes`, for one run's exclusive use.
    func take(_ bytes: Int) -> Arena {
        let arena = kept.withLock { kept -> Arena? in
            defer { kept = nil }
            return kept
        }
        if let arena, arena.capacity >= bytes { return arena }
        return Arena(capacity: bytes)
    }

    /// The capacity of the kept arena (0: none), for the tests.
    var keptCapacity: Int { kept.withLock { $0?.capacity ?? 0 } }

    /// Gives an arena back after a run.
    func give(_ arena: Arena) {
        kept.withLock { kept in
            if kept == nil || (kept?.capacity ?? 0) < arena.capacity { kept = arena }
        }
    }
}

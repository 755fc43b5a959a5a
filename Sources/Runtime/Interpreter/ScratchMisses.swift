import Synchronization

/// Counts kernel scratch an optimised run took from the pool instead of its planned place in the arena: a kernel
/// asking for more, or for more buffers, than `Interpreter.auxiliaryBuffers` says. Zero when the two agree.
final class ScratchMisses: Sendable {
    private let misses = Atomic<Int>(0)

    func record() { misses.add(1, ordering: .relaxed) }

    var count: Int { misses.load(ordering: .relaxed) }
}

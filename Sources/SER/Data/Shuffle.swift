import Kernels

/// Deterministic permutations and draws from the counter-based generator: the same (seed, step, node) give the same
/// result on every machine and in every run.
public enum Shuffle {
    /// A uniform integer in `0..<bound` from element `index` of a Philox stream (multiply-shift on one 32-bit word;
    /// 0 when `bound` is not positive).
    public static func draw(_ stream: Philox, index: Int, bound: Int) -> Int {
        guard bound > 1 else { return 0 }
        if bound <= Int(UInt32.max) { return stream.integer(at: index, below: bound) }
        let word = stream.block(UInt32(truncatingIfNeeded: index >> 2))[index & 3]
        // Longer than 2^32 (never for utterances): combine two words.
        let other = stream.block(UInt32(truncatingIfNeeded: (index >> 2) &+ (1 << 30)))[index & 3]
        let wide = (UInt64(word) << 32) | UInt64(other)
        return Int(wide % UInt64(bound))
    }

    /// A permutation of `0..<count` (Fisher-Yates driven by the stream).
    public static func permutation(_ count: Int, stream: Philox) -> [Int] {
        var order = Array(0..<max(0, count))
        var i = order.count - 1
        while i > 0 {
            let j = draw(stream, index: i, bound: i + 1)
            order.swapAt(i, j)
            i -= 1
        }
        return order
    }

    /// `items` in the order of `permutation(items.count, stream:)`.
    public static func shuffled<T>(_ items: [T], stream: Philox) -> [T] {
        permutation(items.count, stream: stream).map { items[$0] }
    }
}

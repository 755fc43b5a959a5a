import Kernels

/// A sequential reader of one Philox stream: the n-th value read is a pure function of (seed, step, node, n).
///
/// The demo corpus keys its streams by utterance (step) and purpose (node), never by a global generator, so an
/// utterance's audio does not depend on which thread made it or on what was generated before it.
struct RandomStream {
    let generator: Philox
    private var nextBlock: UInt32 = 0

    init(seed: UInt64, step: UInt64, node: UInt32) {
        generator = Philox(seed: seed, step: step, node: node)
    }

    /// The next four 32-bit words.
    @inline(__always)
    mutating func words() -> SIMD4<UInt32> {
        let block = generator.block(nextBlock)
        nextBlock &+= 1
        return block
    }

    /// A uniform value in [0, 1).
    mutating func uniform() -> Double { Double(Philox.unit(words()[0])) }

    /// A uniform value in `range`.
    mutating func uniform(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * uniform()
    }

    /// True with probability `probability`.
    mutating func chance(_ probability: Double) -> Bool { uniform() < probability }

    /// An index in `0..<count` (0 when count < 1).
    mutating func index(_ count: Int) -> Int {
        guard count > 1 else { return 0 }
        return min(count - 1, Int(uniform() * Double(count)))
    }

    /// An approximately normal value of mean 0 and variance 1: the centred sum of four uniforms (Irwin-Hall),
    /// bounded by ±3.46, without logarithms.
    @inline(__always)
    mutating func normal() -> Float {
        let w = words()
        let sum = Philox.unit(w[0]) + Philox.unit(w[1]) + Philox.unit(w[2]) + Philox.unit(w[3])
        return (sum - 2) * 1.732_050_8
    }

    /// Two independent noise values of mean 0 and variance 1 (each the centred sum of two uniforms, a triangular
    /// distribution): white noise for the aspiration and frication sources from one block.
    @inline(__always)
    mutating func noisePair() -> (Float, Float) {
        let w = words()
        let first = Philox.unit(w[0]) + Philox.unit(w[1]) - 1
        let second = Philox.unit(w[2]) + Philox.unit(w[3]) - 1
        return (first * 2.449_489_7, second * 2.449_489_7)
    }
}

/// Elementary functions for the demo synthesizer, written with IEEE basic operations only.
///
/// libm's `sin` and `exp` may differ in the last bit between C libraries and versions; these polynomials use
/// only additions, multiplications and exact roundings, so the synthesized audio is bit-identical on any machine.
/// Their accuracy (about 1e-12 relative) is far beyond what audio needs.
enum SynthMath {
    /// sin(2π x), x in turns (cycles).
    static func sinTurns(_ x: Double) -> Double {
        guard x.isFinite else { return 0 }
        // Reduce to r in [-1/4, 1/4] turns, where sin is odd and monotonic: sin(2π(1/2 - r)) = sin(2πr).
        var r = x - x.rounded()
        if r > 0.25 { r = 0.5 - r } else if r < -0.25 { r = -0.5 - r }
        let t = 2 * Double.pi * r
        let t2 = t * t
        // Taylor series to t^17 / 17!: the next term is below 3e-15 for |t| <= π/2.
        var sum = 1.0 / 355_687_428_096_000  // 1 / 17!
        sum = sum * -t2 + 1.0 / 1_307_674_368_000  // 1 / 15!
        sum = sum * -t2 + 1.0 / 6_227_020_800  // 1 / 13!
        sum = sum * -t2 + 1.0 / 39_916_800  // 1 / 11!
        sum = sum * -t2 + 1.0 / 362_880  // 1 / 9!
        sum = sum * -t2 + 1.0 / 5_040  // 1 / 7!
        sum = sum * -t2 + 1.0 / 120  // 1 / 5!
        sum = sum * -t2 + 1.0 / 6  // 1 / 3!
        sum = sum * -t2 + 1
        return t * sum
    }

    /// cos(2π x), x in turns.
    static func cosTurns(_ x: Double) -> Double { sinTurns(x + 0.25) }

    /// e^x, clamped to [e^-700, e^700].
    static func exp(_ x: Double) -> Double {
        guard !x.isNaN else { return 1 }
        let value = min(max(x, -700), 700)
        let ln2 = 0.693_147_180_559_945_3
        let k = (value / ln2).rounded()
        let r = value - k * ln2  // |r| <= ln 2 / 2
        // Taylor series to r^14 / 14!: the next term is below 1e-17 for |r| <= 0.35.
        var sum = 1.0
        var index = 14.0
        while index >= 1 {
            sum = sum * r / index + 1
            index -= 1
        }
        return Double(sign: .plus, exponent: Int(k), significand: sum)
    }

    /// tanh(x) = (1 - e^{-2|x|}) / (1 + e^{-2|x|}) with the sign of x.
    static func tanh(_ x: Double) -> Double {
        let t = exp(-2 * abs(x))
        let magnitude = (1 - t) / (1 + t)
        return x < 0 ? -magnitude : magnitude
    }

    /// 2^(semitones / 12): the frequency ratio of an interval.
    static func semitones(_ semitones: Double) -> Double { exp(semitones * (0.693_147_180_559_945_3 / 12)) }
}

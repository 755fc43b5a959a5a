import Foundation

/// The resampler's low-pass filter for one pair of rates, in polyphase form: one short filter per output phase.
///
/// Output sample `j` lies at input time `j * down / up`, in input samples (`up / down` is the output rate over the
/// input rate in lowest terms). Writing `j * down = center * up + phase`, the output is the dot product of phase
/// filter `phase` with the inputs `x[center - before] ... x[center - before + taps - 1]`, inputs outside the signal
/// being 0. Every coefficient is a sample of one continuous filter, a Kaiser-windowed sinc
///
///     h(t) = g sinc(g t) w(t),  g = 0.95 min(in, out) / in,  t in input samples,
///
/// that passes everything below 0.9 of the lower Nyquist frequency (ripple 3e-5), stops everything above the
/// lower Nyquist frequency by 90 dB, and has its -6 dB point at 0.95 of it (the Kaiser design formulas, with the
/// 0.1 Nyquist transition band centred on the cutoff). Downsampling thus removes what would alias; upsampling
/// removes the images. Each phase filter is scaled to sum to exactly 1, so a constant signal stays constant.
final class PolyphaseFilter: Sendable {
    /// Output rate over input rate is `up / down`, in lowest terms.
    let up: Int
    let down: Int
    /// The number of phase filters: `up`, unless `up * taps` coefficients would exceed `maximumCoefficients` (only
    /// for a pair of large, nearly coprime rates, such as 999,983 Hz and 16,000 Hz), in which case the fractional
    /// input time `phase / up` is rounded to the nearest of `phases` equal steps. The rounding moves an output sample
    /// by at most `1 / (2 phases)` input samples, under -80 dB of error for any signal below the lower Nyquist
    /// frequency; the rate pairs of real audio never need it.
    let phases: Int
    /// Coefficients per phase filter: twice the filter's half-length rounded up to whole input samples.
    let taps: Int
    /// Taps before the input sample at or just before the output time (`taps / 2 - 1`).
    let before: Int
    /// Phase filter `p` is `coefficients[p * taps ..< (p + 1) * taps]`, applied to inputs in time order.
    let coefficients: [Float]

    /// Stopband attenuation of the design, in dB.
    static let attenuation = 90.0
    /// The -6 dB point of the low-pass, as a fraction of the lower of the two Nyquist frequencies.
    static let cutoff = 0.95
    /// The transition band (passband edge to stopband edge), as a fraction of the lower Nyquist frequency.
    static let transition = 0.1
    /// The most coefficients one table holds (16 MiB).
    static let maximumCoefficients = 1 << 22

    /// Designs the filter for `source` Hz to `target` Hz; both must be positive.
    init(from source: Int, to target: Int) {
        let divisor = Self.gcd(source, target)
        up = target / divisor
        down = source / divisor

        // Kaiser: length (A - 7.95) / (2.285 * 2 pi * width) for a transition `width` in cycles per sample, beta for A > 50.
        let lower = Double(min(source, target))
        let width = Self.transition * lower / 2 / Double(source)
        let halfLength = (Self.attenuation - 7.95) / (2.285 * 2 * Double.pi * width) / 2
        let beta = 0.1102 * (Self.attenuation - 8.7)
        let g = Self.cutoff * lower / Double(source)

        let half = Int(halfLength.rounded(.up))
        taps = 2 * half
        before = half - 1
        phases = up * taps <= Self.maximumCoefficients ? up : max(1, Self.maximumCoefficients / taps)

        let normaliser = 1 / Self.besselI0(beta)
        var table = [Float](repeating: 0, count: phases * taps)
        var phase = [Double](repeating: 0, count: taps)
        for p in 0..<phases {
            var total = 0.0
            for k in 0..<taps {
                // The input sample this tap multiplies lies `t` input samples before the output time.
                let t = Double(p) / Double(phases) + Double(before - k)
                let x = t / halfLength
                guard x * x < 1 else { phase[k] = 0; continue }
                let window = Self.besselI0(beta * (1 - x * x).squareRoot()) * normaliser
                let value = g * Self.sinc(g * t) * window
                phase[k] = value
                total += value
            }
            let scale = total != 0 ? 1 / total : 0
            for k in 0..<taps { table[p * taps + k] = Float(phase[k] * scale) }
        }
        coefficients = table
    }

    /// sin(pi x) / (pi x), 1 at 0.
    static func sinc(_ x: Double) -> Double {
        guard x != 0 else { return 1 }
        return sin(Double.pi * x) / (Double.pi * x)
    }

    /// The modified Bessel function of the first kind, order 0, by its power series (which converges for every x).
    static func besselI0(_ x: Double) -> Double {
        let quarterSquare = x * x / 4
        var term = 1.0, sum = 1.0, k = 1.0
        while term > 1e-17 * sum {
            term *= quarterSquare / (k * k)
            sum += term
            k += 1
        }
        return sum
    }

    /// The greatest common divisor of two positive integers.
    static func gcd(_ a: Int, _ b: Int) -> Int {
        var (a, b) = (a, b)
        while b != 0 { (a, b) = (b, a % b) }
        return a
    }
}

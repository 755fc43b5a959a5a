/// A second-order digital resonator (Klatt 1980): y[n] = a x[n] + b y[n-1] + c y[n-2].
///
/// The vocal tract is a cascade of these, one per formant, tuned to unity gain at 0 Hz so that a cascade keeps the
/// source's spectral slope; the frication filter is tuned to unity gain at its centre frequency instead.
struct Resonator {
    /// The coefficients a, b, c of the difference equation.
    struct Coefficients {
        var a: Float = 1
        var b: Float = 0
        var c: Float = 0

        /// Poles at `frequency` with -3 dB `bandwidth` (Hz), gain 1 at 0 Hz (a formant of the cascade).
        static func formant(frequency: Double, bandwidth: Double, sampleRate: Double) -> Coefficients {
            let (b, c) = poles(frequency: frequency, bandwidth: bandwidth, sampleRate: sampleRate)
            return Coefficients(a: Float(1 - b - c), b: Float(b), c: Float(c))
        }

        /// Poles at `frequency` with -3 dB `bandwidth` (Hz), gain 1 at `frequency` (a band-pass for noise).
        static func bandPass(frequency: Double, bandwidth: Double, sampleRate: Double) -> Coefficients {
            let (b, c) = poles(frequency: frequency, bandwidth: bandwidth, sampleRate: sampleRate)
            let r = (-c).squareRoot()
            // |H(e^{jθ})| = a / ((1 - r) |1 - r e^{-2jθ}|) at the pole angle θ.
            let cos2 = SynthMath.cosTurns(2 * frequency / sampleRate)
            let gain = (1 - r) * max(1e-9, 1 - 2 * r * cos2 + r * r).squareRoot()
            return Coefficients(a: Float(gain), b: Float(b), c: Float(c))
        }

        private static func poles(frequency: Double, bandwidth: Double, sampleRate: Double) -> (b: Double, c: Double) {
            let nyquist = sampleRate / 2
            let f = min(max(frequency, 20), nyquist * 0.95)
            let r = SynthMath.exp(-Double.pi * max(bandwidth, 10) / sampleRate)
            return (2 * r * SynthMath.cosTurns(f / sampleRate), -r * r)
        }
    }

    var coefficients = Coefficients()
    private var y1: Float = 0
    private var y2: Float = 0

    /// Filters one sample.
    @inline(__always)
    mutating func process(_ x: Float) -> Float {
        let y = coefficients.a * x + coefficients.b * y1 + coefficients.c * y2
        y2 = y1
        y1 = y
        return y
    }
}

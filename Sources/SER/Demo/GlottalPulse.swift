/// The glottal flow pulse of one period: a polynomial Rosenberg pulse (Rosenberg 1971, model B/C).
///
/// Over the phase τ in [0, 1) of a period, the flow rises smoothly (3u² - 2u³, u = τ / opening) while the glottis
/// opens, falls (1 - v², v = (τ - opening) / closing) while it closes, and is 0 while it is closed. The excitation
/// of the vocal tract is the flow's derivative (the lips radiate the derivative of the volume velocity): its abrupt
/// step at closure is what gives voiced speech its harmonics, so a short closing phase (a tense voice) makes a
/// brighter sound than a long, symmetric one (a lax, breathy voice).
struct GlottalPulse {
    /// The opening and closing phases as fractions of the period.
    let opening: Float
    let closing: Float
    private let inverseOpening: Float
    private let inverseClosing: Float

    /// A pulse open for `openQuotient` of the period, opening `speedQuotient` times as long as it closes.
    init(openQuotient: Double, speedQuotient: Double) {
        let open = min(max(openQuotient, 0.2), 0.95)
        let speed = min(max(speedQuotient, 0.5), 6)
        opening = Float(open * speed / (1 + speed))
        closing = Float(open / (1 + speed))
        inverseOpening = 1 / opening
        inverseClosing = 1 / closing
    }

    /// The flow (0 to 1) and its derivative with respect to the phase, at `phase` in [0, 1).
    @inline(__always)
    func sample(at phase: Float) -> (flow: Float, derivative: Float) {
        if phase < opening {
            let u = phase * inverseOpening
            return (u * u * (3 - 2 * u), 6 * u * (1 - u) * inverseOpening)
        }
        let v = (phase - opening) * inverseClosing
        if v < 1 { return (1 - v * v, -2 * v * inverseClosing) }
        return (0, 0)
    }
}

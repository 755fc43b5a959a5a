/// A synthetic speaker: base pitch and vocal tract length.
public struct Voice: Sendable, Hashable {
    public var gender: Gender
    /// The speaker's neutral mean F0 in Hz (female 180-230, male 95-135 in the demo corpus).
    public var baseF0: Double
    /// Formant scaling relative to an adult male tract (about 1.15 for a female tract, which is shorter).
    public var tractScale: Double

    public init(gender: Gender, baseF0: Double, tractScale: Double) {
        self.gender = gender
        self.baseF0 = baseF0
        self.tractScale = tractScale
    }

    /// The demo corpus's voice for a speaker: drawn from the speaker's own stream of `seed`.
    static func demo(gender: Gender, speaker: Int, seed: UInt64) -> Voice {
        var random = RandomStream(seed: seed, step: UInt64(max(0, speaker)), node: DemoStreams.speaker)
        switch gender {
        case .female: return Voice(gender: .female, baseF0: random.uniform(180...230), tractScale: random.uniform(1.12...1.2))
        case .male: return Voice(gender: .male, baseF0: random.uniform(95...135), tractScale: random.uniform(0.96...1.04))
        }
    }
}

/// The Philox node of each use of randomness in the demo corpus (the step is the utterance or speaker index).
enum DemoStreams {
    /// Segments, durations, accents.
    static let plan: UInt32 = 1
    /// Jitter and shimmer, one draw a glottal period.
    static let source: UInt32 = 2
    /// Aspiration and frication noise, one block a sample.
    static let noise: UInt32 = 3
    /// The recording's noise floor.
    static let floor: UInt32 = 4
    /// A speaker's voice (step: speaker index).
    static let speaker: UInt32 = 16
    /// An utterance's length, timing in its dialog and evaluator ratings.
    static let corpus: UInt32 = 32
}

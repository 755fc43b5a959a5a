/// The four emotion classes the demo synthesizer renders (IEMOCAP's four-class protocol).
public enum SpeechEmotion: String, CaseIterable, Hashable, Sendable {
    case neutral
    case happy
    case angry
    case sad
}

/// How an emotion is spoken: pitch level, range and contour, speaking rate, loudness and voice quality.
///
/// The values follow the directions reported for acted emotional speech (Scherer 2003; Murray and Arnott 1993):
/// happy and angry speech is higher, wider in range and faster, angry speech louder and tenser with more
/// high-frequency energy, sad speech lower, flatter, slower, softer and breathier. The magnitudes are chosen to make
/// the classes clearly separable: the demo corpus is a smoke test for the pipeline, not a model of real emotions.
public struct Prosody: Sendable, Hashable {
    /// The shape of the pitch contour over a phrase.
    public enum Contour: Sendable, Hashable {
        /// Steady declination with moderate accents (statements).
        case declining
        /// Wide rise-fall arcs on accented syllables, sometimes a final rise.
        case arched
        /// Early, steep accent peaks that fall sharply; a strong final fall.
        case emphatic
        /// Small excursions and a slow fall.
        case flat
    }

    /// Mean pitch relative to the speaker's base F0.
    public var pitchLevel: Double
    /// The height of a full pitch accent, in semitones.
    public var pitchRange: Double
    /// The fall over a phrase, in semitones.
    public var declination: Double
    public var contour: Contour
    /// The probability that a syllable (other than a phrase's first) carries an accent.
    public var accentProbability: Double
    /// Syllables per second.
    public var syllableRate: Double
    /// The probability of a pause after a syllable, and the pause lengths in seconds.
    public var pauseProbability: Double
    public var pauseSeconds: ClosedRange<Double>
    /// The peak level of the finished utterance (full scale 1): how loud the emotion is.
    public var peakLevel: Double
    /// How much quieter unaccented syllables are than accented ones (0: all equal).
    public var loudnessContrast: Double
    /// Period-to-period F0 perturbation (relative standard deviation).
    public var jitter: Double
    /// Period-to-period amplitude perturbation (relative standard deviation).
    public var shimmer: Double
    /// Aspiration noise relative to the voiced excitation.
    public var breathiness: Double
    /// The glottal open quotient (fraction of the period the glottis is open): high for lax, breathy voice.
    public var openQuotient: Double
    /// Opening time over closing time of the glottal pulse: high for tense voice (abrupt closure, strong harmonics).
    public var speedQuotient: Double
    /// The one-pole low-pass coefficient on the voiced source (0: none): spectral tilt, high for soft voice.
    public var spectralTilt: Double
    /// Frication noise level relative to the vowels' level.
    public var fricationLevel: Double
    /// Vowel space expansion around the neutral vowel (below 1: reduced articulation).
    public var articulation: Double
    /// F1 scaling (a wider jaw opening raises F1 in loud speech).
    public var firstFormantScale: Double
    /// The drive of a soft saturation (tanh) before peak normalisation, 0 for none: vocal effort. Loud speech has
    /// compressed peaks (a lower crest factor, so more energy at the same peak) and more high-frequency energy.
    public var saturation: Double

    /// The settings of an emotion.
    public init(_ emotion: SpeechEmotion) {
        switch emotion {
        case .neutral:
            self.init(pitchLevel: 1.0, pitchRange: 4, declination: 3, contour: .declining, accentProbability: 0.35,
                      syllableRate: 4.5, pauseProbability: 0.12, pauseSeconds: 0.15...0.3, peakLevel: 0.7,
                      loudnessContrast: 0.3, jitter: 0.006, shimmer: 0.04, breathiness: 0.1, openQuotient: 0.6,
                      speedQuotient: 2.0, spectralTilt: 0.35, fricationLevel: 0.3, articulation: 0.9, firstFormantScale: 1,
                      saturation: 0)
        case .happy:
            self.init(pitchLevel: 1.2, pitchRange: 8, declination: 2, contour: .arched, accentProbability: 0.55,
                      syllableRate: 5.2, pauseProbability: 0.1, pauseSeconds: 0.12...0.25, peakLevel: 0.78,
                      loudnessContrast: 0.35, jitter: 0.008, shimmer: 0.05, breathiness: 0.08, openQuotient: 0.55,
                      speedQuotient: 2.2, spectralTilt: 0.25, fricationLevel: 0.3, articulation: 1.0, firstFormantScale: 1.03,
                      saturation: 0.8)
        case .angry:
            self.init(pitchLevel: 1.15, pitchRange: 7, declination: 4, contour: .emphatic, accentProbability: 0.6,
                      syllableRate: 5.6, pauseProbability: 0.08, pauseSeconds: 0.1...0.2, peakLevel: 0.9,
                      loudnessContrast: 0.25, jitter: 0.012, shimmer: 0.07, breathiness: 0.04, openQuotient: 0.42,
                      speedQuotient: 3.0, spectralTilt: 0.05, fricationLevel: 0.4, articulation: 1.1, firstFormantScale: 1.08,
                      saturation: 1.6)
        case .sad:
            self.init(pitchLevel: 0.9, pitchRange: 1, declination: 1.5, contour: .flat, accentProbability: 0.15,
                      syllableRate: 3.2, pauseProbability: 0.2, pauseSeconds: 0.25...0.5, peakLevel: 0.54,
                      loudnessContrast: 0.15, jitter: 0.01, shimmer: 0.06, breathiness: 0.28, openQuotient: 0.72,
                      speedQuotient: 1.3, spectralTilt: 0.6, fricationLevel: 0.2, articulation: 0.7, firstFormantScale: 0.97,
                      saturation: 0)
        }
    }

    /// Settings given one by one.
    public init(pitchLevel: Double, pitchRange: Double, declination: Double, contour: Contour, accentProbability: Double,
                syllableRate: Double, pauseProbability: Double, pauseSeconds: ClosedRange<Double>, peakLevel: Double,
                loudnessContrast: Double, jitter: Double, shimmer: Double, breathiness: Double, openQuotient: Double,
                speedQuotient: Double, spectralTilt: Double, fricationLevel: Double, articulation: Double,
                firstFormantScale: Double, saturation: Double) {
        self.pitchLevel = pitchLevel
        self.pitchRange = pitchRange
        self.declination = declination
        self.contour = contour
        self.accentProbability = accentProbability
        self.syllableRate = syllableRate
        self.pauseProbability = pauseProbability
        self.pauseSeconds = pauseSeconds
        self.peakLevel = peakLevel
        self.loudnessContrast = loudnessContrast
        self.jitter = jitter
        self.shimmer = shimmer
        self.breathiness = breathiness
        self.openQuotient = openQuotient
        self.speedQuotient = speedQuotient
        self.spectralTilt = spectralTilt
        self.fricationLevel = fricationLevel
        self.articulation = articulation
        self.firstFormantScale = firstFormantScale
        self.saturation = saturation
    }
}

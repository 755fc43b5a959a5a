/// What the synthesizer plays, as control tracks at block rate: pitch, source levels, formant and frication targets.
///
/// An utterance is leading silence, phrases of consonant-vowel syllables separated by pauses, and trailing
/// silence. Each syllable is an optional onset consonant (a fricative, a stop with closure, burst and aspiration,
/// /h/, or a sonorant: nasal, lateral or glide) and a vowel; pitch accents fall on the vowels of stressed syllables.
/// The tracks hold targets; the renderer smooths them, so formants glide between vowels and levels do not click.
struct SpeechScore {
    /// Samples per control block (2 ms at 16 kHz).
    static let blockSize = 32

    var blocks: Int
    /// F0 in Hz.
    var f0: [Float]
    /// Voiced source level (0 to 1).
    var voicing: [Float]
    /// Aspiration level independent of voicing (/h/, the release of voiceless stops).
    var aspiration: [Float]
    /// Frication level (0 to about 1.3 for bursts).
    var frication: [Float]
    /// The centre and bandwidth of the frication band-pass, Hz.
    var fricationBand: [SIMD2<Double>]
    /// Vocal tract targets after the speaker's and the emotion's scaling.
    var formants: [FormantTarget]

    /// Onset consonants.
    enum Consonant: CaseIterable {
        case s, sh, f, z, v, h
        case p, t, k, b, d, g
        case m, n, l, w

        /// The frication band (centre, bandwidth) of a male speaker, Hz.
        var band: SIMD2<Double> {
            switch self {
            case .s, .z: [5_500, 2_000]
            case .sh: [3_000, 1_400]
            case .f, .v: [5_000, 5_000]
            case .h: [1_500, 3_000]
            case .p, .b: [1_200, 2_500]
            case .t, .d: [4_000, 2_000]
            case .k, .g: [2_200, 1_200]
            case .m, .n, .l, .w: [2_000, 2_000]
            }
        }

        var isVoiced: Bool {
            switch self {
            case .z, .v, .b, .d, .g, .m, .n, .l, .w: true
            default: false
            }
        }
    }

    /// One syllable as planned: onset, vowel, accent weight (0 to 1) and the phrase it belongs to.
    private struct Syllable {
        var onset: Consonant?
        var vowel: Int
        var accent: Double
        var seconds: Double
    }

    /// A piece of the utterance in order: a syllable or a pause.
    private enum Unit {
        case syllable(Syllable)
        case pause(Double)

        var seconds: Double {
            switch self {
            case let .syllable(syllable): syllable.seconds
            case let .pause(seconds): seconds
            }
        }
    }

    /// Plans `sampleCount` samples of speech for a voice and an emotion, with draws from `random`.
    init(sampleCount: Int, sampleRate: Int, voice: Voice, prosody: Prosody, random: inout RandomStream) {
        let blockSize = Self.blockSize
        let blocks = max(0, (sampleCount + blockSize - 1) / blockSize)
        let blockSeconds = Double(blockSize) / Double(max(1, sampleRate))
        let totalSeconds = Double(blocks) * blockSeconds

        // Silence around the speech; very short requests keep 80% for speech.
        var lead = random.uniform(0.08...0.2), tail = random.uniform(0.1...0.25)
        if totalSeconds - lead - tail < 0.3 {
            lead = totalSeconds * 0.1
            tail = totalSeconds * 0.1
        }
        let speechSeconds = max(0, totalSeconds - lead - tail)

        // Syllables and pauses until the speech time is filled, then stretched to fit it exactly.
        let rate = max(0.5, prosody.syllableRate)
        var units = [Unit]()
        var planned = 0.0
        var phraseStart = true
        while true {
            let seconds = random.uniform(0.75...1.25) / rate
            if !units.isEmpty, planned + seconds / 2 > speechSeconds { break }
            let onset: Consonant? = random.chance(0.8) ? Self.drawConsonant(&random) : nil
            let vowel = random.index(Formants.vowels.count)
            let accent: Double
            if phraseStart {
                accent = random.uniform(0.6...1)
            } else if random.chance(prosody.accentProbability) {
                accent = random.uniform(0.4...1)
            } else {
                accent = random.uniform(0...0.15)
            }
            units.append(.syllable(Syllable(onset: onset, vowel: vowel, accent: accent, seconds: seconds)))
            planned += seconds
            phraseStart = false
            if random.chance(prosody.pauseProbability) {
                let pause = random.uniform(prosody.pauseSeconds)
                if planned + pause + 1 / rate < speechSeconds {
                    units.append(.pause(pause))
                    planned += pause
                    phraseStart = true
                }
            }
        }
        let stretch = planned > 0 ? speechSeconds / planned : 0

        var voicing = [Float](repeating: 0, count: blocks)
        var aspiration = [Float](repeating: 0, count: blocks)
        var frication = [Float](repeating: 0, count: blocks)
        var fricationBand = [SIMD2<Double>](repeating: [4_000, 2_000], count: blocks)
        var formants = [FormantTarget](repeating: Formants.schwa, count: blocks)

        // Lay the units out in blocks; collect vowels and phrases for the pitch contour.
        var semitones = [Double](repeating: 0, count: blocks)
        var vowels = [(range: Range<Int>, accent: Double, phrase: Int)]()
        var phrases = [Range<Int>]()
        var cursor = lead
        var phraseBegin: Int?
        var lastTarget: FormantTarget?
        func block(_ seconds: Double) -> Int { min(blocks, max(0, Int((seconds / blockSeconds).rounded()))) }
        let bandScale = voice.tractScale.squareRoot()
        for unit in units {
            let start = cursor, end = cursor + unit.seconds * stretch
            cursor = end
            guard case let .syllable(syllable) = unit else {
                if let begin = phraseBegin { phrases.append(begin..<block(start)) }
                phraseBegin = nil
                if let lastTarget { Self.fill(&formants, block(start)..<block(end), lastTarget) }
                continue
            }
            if phraseBegin == nil { phraseBegin = block(start) }
            let length = end - start
            let loudness = Float(1 - prosody.loudnessContrast * (1 - syllable.accent))
            let vowelTarget = Self.scaled(Formants.vowel(syllable.vowel), voice: voice, prosody: prosody)
            // The tract moves towards the vowel during the onset (sonorants have targets of their own).
            if lastTarget == nil { Self.fill(&formants, 0..<block(start), vowelTarget) }
            Self.fill(&formants, block(start)..<block(end), vowelTarget)
            lastTarget = vowelTarget
            var vowelStart = start
            if let onset = syllable.onset {
                var band = onset.band
                band.x *= bandScale
                switch onset {
                case .s, .sh, .f, .z, .v:
                    vowelStart = start + length * 0.35
                    let range = block(start)..<block(vowelStart)
                    Self.fill(&frication, range, onset.isVoiced ? 0.6 : 1)
                    Self.fill(&fricationBand, range, band)
                    if onset.isVoiced { Self.fill(&voicing, range, 0.3 * loudness) }
                case .h:
                    vowelStart = start + length * 0.25
                    let range = block(start)..<block(vowelStart)
                    Self.fill(&aspiration, range, 0.6)
                case .p, .t, .k, .b, .d, .g:
                    let closureEnd = start + length * 0.2
                    let burstEnd = closureEnd + 0.012
                    vowelStart = burstEnd + (onset.isVoiced ? 0 : 0.035)
                    if onset.isVoiced { Self.fill(&voicing, block(start)..<block(closureEnd), 0.08 * loudness) }
                    let burst = block(closureEnd)..<block(burstEnd)
                    Self.fill(&frication, burst, 1.3)
                    Self.fill(&fricationBand, burst, band)
                    Self.fill(&aspiration, block(burstEnd)..<block(vowelStart), 0.5)
                case .m, .n, .l, .w:
                    vowelStart = start + length * 0.25
                    let target = onset == .l ? Formants.lateral : onset == .w ? Formants.glide : Formants.nasal
                    let range = block(start)..<block(vowelStart)
                    Self.fill(&voicing, range, 0.4 * loudness)
                    Self.fill(&formants, range, Self.scaled(target, voice: voice, prosody: prosody))
                }
            }
            let vowelRange = block(vowelStart)..<max(block(vowelStart), block(end))
            Self.fill(&voicing, vowelRange, loudness)
            vowels.append((vowelRange, syllable.accent, phrases.count))
        }
        if let begin = phraseBegin { phrases.append(begin..<block(cursor)) }
        if let lastTarget { Self.fill(&formants, block(cursor)..<blocks, lastTarget) }

        // Pitch: declination and a loudness fall over each phrase, accents on vowels, a phrase-final movement and
        // a slow drift, in semitones.
        for phrase in phrases where !phrase.isEmpty {
            let span = Double(max(1, phrase.count))
            let amplitudeFall = prosody.contour == .flat ? 0.3 : 0.15
            for b in phrase where b >= 0 && b < blocks {
                let position = Double(b - phrase.lowerBound) / span
                semitones[b] += prosody.declination * (0.5 - position)
                voicing[b] *= Float(1 - amplitudeFall * position)
            }
        }
        for (number, vowel) in vowels.enumerated() {
            let length = Double(max(1, vowel.range.count))
            let (peak, halfWidth): (Double, Double) = switch prosody.contour {
            case .declining: (0.5, 0.8)
            case .arched: (0.5, 1.3)
            case .emphatic: (0.25, 0.7)
            case .flat: (0.5, 1.0)
            }
            let centre = Double(vowel.range.lowerBound) + peak * length
            let width = max(2, halfWidth * length)
            let height = prosody.pitchRange * vowel.accent
            let from = max(0, Int(centre - width)), to = min(blocks, Int(centre + width) + 1)
            if from < to {
                for b in from..<to {
                    let x = (Double(b) - centre) / width
                    if abs(x) < 1 { semitones[b] += height * 0.5 * (1 + SynthMath.cosTurns(x / 2)) }
                }
            }
            // The last vowel of a phrase: a final fall, or for arched contours sometimes a rise.
            let isFinal = number + 1 == vowels.count || vowels[number + 1].phrase != vowel.phrase
            if isFinal {
                let movement: Double = switch prosody.contour {
                case .declining: -2
                case .emphatic: -4
                case .flat: -1
                case .arched: random.chance(0.5) ? 0.5 * prosody.pitchRange : -2
                }
                for b in vowel.range where b >= 0 && b < blocks {
                    semitones[b] += movement * Double(b - vowel.range.lowerBound) / length
                }
            }
        }
        let driftRate = random.uniform(2.5...4), driftPhase = random.uniform()
        for b in 0..<blocks { semitones[b] += 0.35 * SynthMath.sinTurns(Double(b) * blockSeconds * driftRate + driftPhase) }
        Self.smooth(&semitones, coefficient: 0.095)

        let base = voice.baseF0 * prosody.pitchLevel * random.uniform(0.97...1.03)
        var f0 = [Float](repeating: 0, count: blocks)
        for b in 0..<blocks { f0[b] = Float(min(max(base * SynthMath.semitones(semitones[b]), 50), 600)) }

        self.blocks = blocks
        self.f0 = f0
        self.voicing = voicing
        self.aspiration = aspiration
        self.frication = frication
        self.fricationBand = fricationBand
        self.formants = formants
    }

    private static func drawConsonant(_ random: inout RandomStream) -> Consonant {
        let all = Consonant.allCases
        return all[random.index(all.count)]
    }

    /// A male-tract target scaled for a speaker's tract and an emotion's articulation.
    private static func scaled(_ target: FormantTarget, voice: Voice, prosody: Prosody) -> FormantTarget {
        var result = target.articulated(prosody.articulation, around: Formants.schwa)
        result.frequencies.x *= prosody.firstFormantScale
        result.frequencies *= voice.tractScale
        return result
    }

    /// Writes `value` into `array[range]`, clamped to the array.
    private static func fill<T>(_ array: inout [T], _ range: Range<Int>, _ value: T) {
        let lower = max(0, range.lowerBound), upper = min(array.count, range.upperBound)
        guard lower < upper else { return }
        for b in lower..<upper { array[b] = value }
    }

    /// Zero-phase one-pole smoothing (forward, then backward).
    static func smooth(_ values: inout [Double], coefficient: Double) {
        guard var state = values.first else { return }
        for i in values.indices {
            state += (values[i] - state) * coefficient
            values[i] = state
        }
        guard let lastValue = values.last else { return }
        state = lastValue
        for i in values.indices.reversed() {
            state += (values[i] - state) * coefficient
            values[i] = state
        }
    }
}

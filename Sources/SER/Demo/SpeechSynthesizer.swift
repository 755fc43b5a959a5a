/// A source-filter speech synthesizer (after Klatt 1980) for the demo corpus: babble with a voice and an emotion.
///
/// The source is a Rosenberg glottal pulse train whose period follows the planned pitch contour with jitter
/// (period-to-period F0 perturbation) and shimmer (amplitude perturbation), a one-pole spectral tilt, and
/// aspiration noise modulated by the glottal flow (breathiness). It drives a cascade of four formant resonators
/// that glide between vowel targets; onset consonants add band-passed frication noise, stop closures with bursts,
/// /h/ aspiration, and nasal, lateral and glide murmurs (`SpeechScore`). Loud emotions are softly saturated
/// (vocal effort), and the result is peak-normalised to the emotion's level with a faint noise floor.
///
/// The speech has no words: it exists so that the pipeline can be run end to end without a download. Its
/// emotions differ by construction in pitch, rate, loudness and voice quality (`Prosody`), so it tests that a model
/// learns, not what it learns about real emotional speech.
///
/// The audio is a pure function of the voice, the prosody, the length, the seed and the utterance index: every
/// random draw comes from Philox streams keyed by (seed, utterance), and the arithmetic avoids libm, so it is
/// bit-identical on any machine and any thread count.
public struct SpeechSynthesizer: Sendable {
    /// Output sample rate in Hz.
    public static let sampleRate = 16_000

    public var voice: Voice
    public var prosody: Prosody

    public init(voice: Voice, prosody: Prosody) {
        self.voice = voice
        self.prosody = prosody
    }

    /// `seconds` of speech (rounded to whole samples) as Float32 samples at 16 kHz.
    public func synthesize(seconds: Double, seed: UInt64, utterance: Int) -> [Float] {
        let count = seconds.isFinite ? Int(min(max(0, seconds), 3_600) * Double(Self.sampleRate)) : 0
        return synthesize(sampleCount: count, seed: seed, utterance: utterance)
    }

    /// The longest output, in samples (an hour).
    public static let maximumSampleCount = 3_600 * sampleRate

    /// `sampleCount` Float32 samples at 16 kHz (at most `maximumSampleCount`), peak-normalised to
    /// `prosody.peakLevel` (at most 4% lower).
    public func synthesize(sampleCount requested: Int, seed: UInt64, utterance: Int) -> [Float] {
        let sampleCount = min(requested, Self.maximumSampleCount)
        guard sampleCount > 0 else { return [] }
        let step = UInt64(truncatingIfNeeded: utterance)
        var planRandom = RandomStream(seed: seed, step: step, node: DemoStreams.plan)
        let score = SpeechScore(sampleCount: sampleCount, sampleRate: Self.sampleRate, voice: voice, prosody: prosody,
                                random: &planRandom)
        var voiced = [Float](repeating: 0, count: sampleCount)
        var fricated = [Float](repeating: 0, count: sampleCount)
        render(score, seed: seed, step: step, voiced: &voiced, fricated: &fricated)

        // Mix frication at the emotion's level relative to the vowels, measured where each sounds fully.
        let blockSize = SpeechScore.blockSize
        var vowelEnergy = 0.0, vowelSamples = 0, fricationEnergy = 0.0, fricationSamples = 0
        for b in 0..<score.blocks {
            let range = (b * blockSize)..<min(sampleCount, (b + 1) * blockSize)
            if score.voicing[b] >= 0.5 {
                for i in range { vowelEnergy += Double(voiced[i] * voiced[i]) }
                vowelSamples += range.count
            }
            if score.frication[b] >= 0.5 {
                for i in range { fricationEnergy += Double(fricated[i] * fricated[i]) }
                fricationSamples += range.count
            }
        }
        var fricationGain: Float = 0
        if vowelSamples > 0, fricationSamples > 0, fricationEnergy > 0 {
            let ratio = (vowelEnergy / Double(vowelSamples)) / (fricationEnergy / Double(fricationSamples))
            fricationGain = Float(prosody.fricationLevel * ratio.squareRoot())
        }
        var samples = voiced
        var peak: Float = 0
        for i in 0..<sampleCount {
            samples[i] += fricationGain * fricated[i]
            peak = max(peak, abs(samples[i]))
        }
        // Vocal effort: tanh saturation of the waveform scaled to peak 1 (the new peak is 1 again).
        let drive = prosody.saturation
        if drive > 0.01, peak > 0, peak.isFinite {
            let inverse = 1 / Double(peak)
            let normaliser = 1 / SynthMath.tanh(drive)
            for i in 0..<sampleCount { samples[i] = Float(SynthMath.tanh(drive * Double(samples[i]) * inverse) * normaliser) }
            peak = 1
        }

        // Peak level and the noise floor of a quiet room (about -70 dBFS).
        let level = Float(prosody.peakLevel - 0.04 * planRandom.uniform())
        let gain: Float = peak > 0 && peak.isFinite ? level / peak : 0
        var floor = RandomStream(seed: seed, step: step, node: DemoStreams.floor)
        for i in 0..<sampleCount {
            let value = samples[i] * gain + 0.0003 * floor.normal()
            samples[i] = min(max(value, -1), 1)
        }
        return samples
    }

    /// Runs the source and the filters over the score: the vocal tract output (voice and aspiration) and the
    /// frication band-pass output, separately.
    private func render(_ score: SpeechScore, seed: UInt64, step: UInt64, voiced: inout [Float], fricated: inout [Float]) {
        let sampleRate = Double(Self.sampleRate)
        let blockSize = SpeechScore.blockSize
        let count = min(voiced.count, fricated.count)
        var source = RandomStream(seed: seed, step: step, node: DemoStreams.source)
        var noise = RandomStream(seed: seed, step: step, node: DemoStreams.noise)

        // Formant trajectories: the targets smoothed at block rate (time constant about 20 ms).
        var tract = Array(repeating: [Resonator.Coefficients](repeating: .init(), count: score.blocks), count: 4)
        var frequencies = score.formants.first?.frequencies ?? Formants.schwa.frequencies
        var bandwidths = score.formants.first?.bandwidths ?? Formants.schwa.bandwidths
        let glide = 0.095
        for b in 0..<score.blocks {
            frequencies += (score.formants[b].frequencies - frequencies) * glide
            bandwidths += (score.formants[b].bandwidths - bandwidths) * glide
            for formant in 0..<4 {
                tract[formant][b] = .formant(frequency: frequencies[formant], bandwidth: bandwidths[formant], sampleRate: sampleRate)
            }
        }

        let pulse = GlottalPulse(openQuotient: prosody.openQuotient + (voice.gender == .female ? 0.05 : 0),
                                 speedQuotient: prosody.speedQuotient)
        let breath = Float(prosody.breathiness + (voice.gender == .female ? 0.03 : 0)) * 3
        let jitter = Float(prosody.jitter), shimmer = Float(prosody.shimmer)
        let tilt = Float(min(max(prosody.spectralTilt, 0), 0.95))
        let inverseRate = 1 / Float(sampleRate)
        let levelGlide: Float = 0.0124  // about 5 ms
        let fricationGlide: Float = 0.031  // about 2 ms

        var f1 = Resonator(), f2 = Resonator(), f3 = Resonator(), f4 = Resonator(), band = Resonator()
        var phase: Float = 0, periodScale: Float = 1, periodGain: Float = 1
        var voice: Float = 0, aspiration: Float = 0, frication: Float = 0
        var tilted: Float = 0, previousNoise: Float = 0
        var bandCentre = SIMD2<Double>(-1, -1)
        for b in 0..<score.blocks {
            f1.coefficients = tract[0][b]
            f2.coefficients = tract[1][b]
            f3.coefficients = tract[2][b]
            f4.coefficients = tract[3][b]
            if score.fricationBand[b] != bandCentre {
                bandCentre = score.fricationBand[b]
                band.coefficients = .bandPass(frequency: bandCentre.x, bandwidth: bandCentre.y, sampleRate: sampleRate)
            }
            let f0 = score.f0[b], voiceTarget = score.voicing[b]
            let aspirationTarget = score.aspiration[b], fricationTarget = score.frication[b]
            let end = min(count, (b + 1) * blockSize)
            var i = b * blockSize
            while i < end {
                phase += f0 * periodScale * inverseRate
                if phase >= 1 {
                    phase -= 1
                    if phase >= 1 { phase = 0 }
                    periodScale = min(max(1 + jitter * source.normal(), 0.8), 1.25)
                    periodGain = min(max(1 + shimmer * source.normal(), 0.5), 1.5)
                }
                let (flow, derivative) = pulse.sample(at: phase)
                voice += (voiceTarget - voice) * levelGlide
                aspiration += (aspirationTarget - aspiration) * levelGlide
                frication += (fricationTarget - frication) * fricationGlide
                let (breathNoise, fricationNoise) = noise.noisePair()

                let excitation = derivative * periodGain * voice
                tilted = excitation + tilt * (tilted - excitation)
                let noiseLevel = breath * voice * (0.3 + 0.7 * flow) + 1.8 * aspiration
                var y = f1.process(tilted + noiseLevel * breathNoise)
                y = f2.process(y)
                y = f3.process(y)
                voiced[i] = f4.process(y)

                // Frication: high-passed (first difference) noise through the band-pass.
                fricated[i] = band.process(fricationNoise - previousNoise) * frication
                previousNoise = fricationNoise
                i += 1
            }
        }
    }
}

import Dispatch
import Foundation
import SER
import Testing

@Suite("Speech synthesizer")
struct SpeechSynthesizerTests {
    static let voice = Voice(gender: .female, baseF0: 200, tractScale: 1.15)

    @Test("the length asked for, peak-normalised to the emotion's level, finite")
    func levels() {
        for emotion in SpeechEmotion.allCases {
            let prosody = Prosody(emotion)
            let samples = SpeechSynthesizer(voice: Self.voice, prosody: prosody).synthesize(seconds: 0.8, seed: 1, utterance: 5)
            #expect(samples.count == 12_800)
            let peak = samples.map(abs).max() ?? 0
            #expect(samples.allSatisfy { $0.isFinite })
            #expect(abs(Double(peak) - prosody.peakLevel) <= 0.045, "\(emotion): peak \(peak)")
            #expect((0.49...0.91).contains(peak), "\(emotion): peak \(peak)")
        }
        #expect(SpeechSynthesizer(voice: Self.voice, prosody: Prosody(.sad)).synthesize(sampleCount: 0, seed: 1, utterance: 0).isEmpty)
        #expect(SpeechSynthesizer(voice: Self.voice, prosody: Prosody(.sad)).synthesize(sampleCount: 40, seed: 1, utterance: 0).count == 40)
    }

    @Test("a pure function of (seed, utterance): the same on any thread, different for another seed or utterance")
    func determinism() {
        let synthesizer = SpeechSynthesizer(voice: Self.voice, prosody: Prosody(.happy))
        let reference = synthesizer.synthesize(seconds: 0.5, seed: 9, utterance: 2)
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 4) { index in
            results.set(index, synthesizer.synthesize(seconds: 0.5, seed: 9, utterance: 2))
        }
        for index in 0..<4 { #expect(results.get(index) == reference) }
        #expect(synthesizer.synthesize(seconds: 0.5, seed: 10, utterance: 2) != reference)
        #expect(synthesizer.synthesize(seconds: 0.5, seed: 9, utterance: 3) != reference)
    }

    @Test("sad speech is lower and flatter than happy speech from the same voice")
    func pitchContours() {
        func pitch(_ emotion: SpeechEmotion) -> [Double] {
            (0..<2).flatMap { PitchEstimate(SpeechSynthesizer(voice: Self.voice, prosody: Prosody(emotion)).synthesize(seconds: 1.5, seed: 2, utterance: $0)).frames }
        }
        let happy = pitch(.happy), sad = pitch(.sad)
        #expect(happy.count > 20 && sad.count > 20)
        #expect(PitchEstimate.median(happy) > 1.2 * PitchEstimate.median(sad))
        func spread(_ values: [Double]) -> Double {
            let sorted = values.sorted()
            guard sorted.count > 10 else { return 0 }
            return sorted[sorted.count * 9 / 10] / sorted[sorted.count / 10]
        }
        #expect(spread(happy) > spread(sad), "happy \(spread(happy)), sad \(spread(sad))")
    }
}

/// Results written by concurrent tasks, each to its own slot.
private final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int: [Float]] = [:]

    func set(_ index: Int, _ value: [Float]) { lock.withLock { values[index] = value } }
    func get(_ index: Int) -> [Float]? { lock.withLock { values[index] } }
}

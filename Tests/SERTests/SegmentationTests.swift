import SER
import Testing

/// Where `gmptl predict` cuts long recordings: fixed windows, and stretches of speech by loudness.
@Suite("Segmentation")
struct SegmentationTests {
    @Test("windows of S every H seconds, the last ending at the end")
    func windows() {
        let ten = Segmentation.windows(duration: 10, length: 2, hop: 1)
        #expect(ten.count == 9)
        #expect(ten.first == Segment(start: 0, end: 2) && ten.last == Segment(start: 8, end: 10))
        let uneven = Segmentation.windows(duration: 10.5, length: 2, hop: 1)
        #expect(uneven.count == 10 && uneven.last == Segment(start: 9, end: 10.5))
        #expect(Segmentation.windows(duration: 7, length: 3, hop: 3) == [Segment(start: 0, end: 3), Segment(start: 3, end: 6), Segment(start: 6, end: 7)])
        #expect(Segmentation.windows(duration: 1, length: 5, hop: 2) == [Segment(start: 0, end: 1)])
    }

    /// Loudness at 10 ms hops: -100 dBFS, with loud (-20 dBFS) windows over `spans` (seconds).
    static func loudness(duration: Double, spans: [(Double, Double)]) -> [Float] {
        (0..<Int(duration / 0.01)).map { index in
            let time = Double(index) * 0.01
            return spans.contains { time >= $0.0 && time < $0.1 } ? -20 : -100
        }
    }

    @Test("speech found with its times; pauses bridged, clicks dropped, padding added, long speech cut")
    func speech() {
        let settings = Segmentation.VoiceActivity(minimumSpeech: 0.25, minimumSilence: 0.3, maximumSegment: 4, padding: 0.1)
        // Speech 2-5 s with a 0.2 s pause at 3 s, a 0.1 s click at 7 s, speech 8-17 s (cut in three).
        let loudness = Self.loudness(duration: 20, spans: [(2, 3), (3.2, 5), (7, 7.1), (8, 17)])
        let segments = Segmentation.speech(loudness: loudness, duration: 20, settings: settings)
        #expect(segments.count == 4, "\(segments)")
        func near(_ a: Double, _ b: Double) -> Bool { abs(a - b) < 0.03 }
        #expect(near(segments[0].start, 1.9) && near(segments[0].end, 5.1), "\(segments[0])")
        #expect(near(segments[1].start, 7.9) && near(segments[3].end, 17.1), "\(segments)")
        #expect(segments[1...].allSatisfy { near($0.duration, 3.067) })
        #expect(Segmentation.threshold(loudness, settings: settings) == -55)
        // All silence: nothing; an explicit threshold above the speech: nothing.
        #expect(Segmentation.speech(loudness: Self.loudness(duration: 5, spans: []), duration: 5, settings: settings).isEmpty)
        var strict = settings
        strict.threshold = -10
        #expect(Segmentation.speech(loudness: loudness, duration: 20, settings: strict).isEmpty)
    }

    @Test("rows as text, JSON Lines and RFC 4180 CSV")
    func rows() {
        let classes = ["neutral", "happy"]
        let row = PredictionRow(file: "a, \"b\".wav", segment: Segment(start: 1.5, end: 3.25), emotion: "happy", probabilities: [0.25, 0.75],
                                gender: "female")
        #expect(row.text(classes: classes) == "a, \"b\".wav [1.500-3.250 s]: happy  [neutral 0.250, happy 0.750]  gender female")
        #expect(row.json(classes: classes)
                == #"{"file": "a, \"b\".wav", "start": 1.500, "end": 3.250, "emotion": "happy", "probabilities": {"neutral": 0.25, "happy": 0.75}, "gender": "female"}"#)
        #expect(PredictionRow.csvHeader(classes: classes) == "file,start,end,emotion,p_neutral,p_happy,gender")
        #expect(row.csv(classes: classes) == #""a, ""b"".wav",1.500,3.250,happy,0.25,0.75,female"#)
        let whole = PredictionRow(file: "c.wav", segment: nil, emotion: "neutral", probabilities: [0.5, 0.5], gender: nil)
        #expect(whole.csv(classes: classes) == "c.wav,,,neutral,0.5,0.5,")
        #expect(!whole.json(classes: classes).contains("start") && !whole.json(classes: classes).contains("gender"))
    }
}

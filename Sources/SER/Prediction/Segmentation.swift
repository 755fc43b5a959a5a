/// A stretch of a recording, in seconds from its start.
public struct Segment: Hashable, Sendable {
    public var start: Double
    public var end: Double

    public init(start: Double, end: Double) {
        self.start = start
        self.end = end
    }

    public var duration: Double { end - start }
}

/// Where in a long recording to predict: fixed windows, or the stretches of speech an energy-based voice activity
/// detector finds.
public enum Segmentation {
    /// Windows of `length` seconds every `hop` seconds from the start, the last one ending at the recording's end
    /// (shorter when the recording does not fill it): 10 s with length 2 and hop 1 gives 9 windows, 0-2 ... 8-10.
    public static func windows(duration: Double, length: Double, hop: Double) -> [Segment] {
        guard duration > 0, length > 0, hop > 0 else { return [] }
        var segments = [Segment]()
        var start = 0.0
        var index = 0
        while start < duration {
            let end = min(start + length, duration)
            segments.append(Segment(start: start, end: end))
            if end >= duration - 1e-9 { break }
            index += 1
            start = Double(index) * hop
        }
        return segments
    }

    /// The settings of the voice activity detector.
    public struct VoiceActivity: Hashable, Sendable {
        /// Loudness above which a window is speech, in dB relative to full scale; nil: 12 dB over the recording's
        /// quietest tenth of windows (its noise floor), and at least -55 dBFS.
        public var threshold: Double?
        /// Speech shorter than this is dropped (a click, a cough), seconds.
        public var minimumSpeech: Double
        /// Silences shorter than this inside speech are bridged (pauses between words), seconds.
        public var minimumSilence: Double
        /// Longer stretches of speech are cut into equal segments at most this long, seconds.
        public var maximumSegment: Double
        /// Added before and after each stretch of speech (clamped to the recording), seconds.
        public var padding: Double
        /// The loudness windows: `window` seconds every `hop` seconds.
        public var window: Double
        public var hop: Double

        public init(threshold: Double? = nil, minimumSpeech: Double = 0.25, minimumSilence: Double = 0.3, maximumSegment: Double = 10,
                    padding: Double = 0.1, window: Double = 0.025, hop: Double = 0.01) {
            self.threshold = threshold
            self.minimumSpeech = minimumSpeech
            self.minimumSilence = minimumSilence
            self.maximumSegment = maximumSegment
            self.padding = padding
            self.window = window
            self.hop = hop
        }
    }

    /// The threshold the detector uses for `loudness` (dBFS per window).
    public static func threshold(_ loudness: [Float], settings: VoiceActivity) -> Double {
        if let threshold = settings.threshold { return threshold }
        guard !loudness.isEmpty else { return -55 }
        let sorted = loudness.sorted()
        let floor = Double(sorted[sorted.count / 10])
        return max(floor + 12, -55)
    }

    /// The stretches of speech in a recording of `duration` seconds whose loudness is `loudness` (dBFS of window `i`
    /// starting at `i * settings.hop`).
    public static func speech(loudness: [Float], duration: Double, settings: VoiceActivity) -> [Segment] {
        let threshold = threshold(loudness, settings: settings)
        // Runs of loud windows, each covering its windows' span.
        var runs = [Segment]()
        var runStart: Int?
        for index in 0...loudness.count {
            let loud = index < loudness.count && Double(loudness[index]) > threshold
            if loud, runStart == nil { runStart = index }
            if !loud, let first = runStart {
                runs.append(Segment(start: Double(first) * settings.hop,
                                    end: min(duration, Double(index - 1) * settings.hop + settings.window)))
                runStart = nil
            }
        }
        // Pauses shorter than the minimum silence bridged, then short speech dropped.
        var merged = [Segment]()
        for run in runs {
            if let last = merged.last, run.start - last.end < settings.minimumSilence {
                merged[merged.count - 1].end = run.end
            } else {
                merged.append(run)
            }
        }
        merged = merged.filter { $0.duration >= settings.minimumSpeech }
        // Padded (overlaps joined), then cut to the maximum length.
        var padded = [Segment]()
        for run in merged {
            let segment = Segment(start: max(0, run.start - settings.padding), end: min(duration, run.end + settings.padding))
            if let last = padded.last, segment.start <= last.end {
                padded[padded.count - 1].end = segment.end
            } else {
                padded.append(segment)
            }
        }
        var segments = [Segment]()
        for run in padded {
            let pieces = max(1, Int((run.duration / settings.maximumSegment).rounded(.up)))
            let length = run.duration / Double(pieces)
            for piece in 0..<pieces {
                segments.append(Segment(start: run.start + Double(piece) * length,
                                        end: piece == pieces - 1 ? run.end : run.start + Double(piece + 1) * length))
            }
        }
        return segments
    }
}

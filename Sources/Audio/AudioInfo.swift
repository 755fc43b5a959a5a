extension AudioFile {
    /// What a file's header says: sample rate, channels and length, read without decoding any sample.
    public struct Info: Hashable, Sendable {
        public var sampleRate: Int
        public var channels: Int
        /// Samples per channel.
        public var frames: Int

        public init(sampleRate: Int, channels: Int, frames: Int) {
            self.sampleRate = sampleRate
            self.channels = channels
            self.frames = frames
        }

        /// The duration in seconds (0 when the header has no sample rate).
        public var seconds: Double { sampleRate > 0 ? Double(frames) / Double(sampleRate) : 0 }
    }

    /// Reads a file's header without reading its samples (cheap enough to run over a whole corpus), with the
    /// checks `read` makes (`header(_:)`), and refuses what `read` would: more than `maximumSeconds` of audio.
    public static func info(_ path: String) throws(AudioError) -> Info {
        let header = try header(path)
        guard header.seconds <= maximumSeconds else {
            throw AudioError("longer than the \(Int(maximumSeconds / 3_600)) hours a single utterance may last", file: path)
        }
        return Info(sampleRate: header.sampleRate, channels: header.channels, frames: header.frames)
    }
}

import CSndFile
import Foundation

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

    /// Reads a file's header (libsndfile's `sf_open` info) without reading its samples: cheap enough to run over a
    /// whole corpus.
    public static func info(_ path: String) throws(AudioError) -> Info {
        guard FileManager.default.fileExists(atPath: path) else { throw AudioError("no such file", file: path) }
        var info = SF_INFO()
        guard let file = sf_open(path, Int32(SFM_READ), &info) else {
            let reason = String(cString: sf_strerror(nil))
            throw AudioError("cannot read as audio: \(reason)", file: path)
        }
        sf_close(file)
        guard info.channels > 0, info.samplerate > 0 else { throw AudioError("no channels or no sample rate in the header", file: path) }
        guard info.frames > 0 else { throw AudioError("the file holds no samples", file: path) }
        return Info(sampleRate: Int(info.samplerate), channels: Int(info.channels), frames: Int(info.frames))
    }
}

import CSndFile
import Foundation

/// Audio files through libsndfile (WAV, FLAC, OGG and the other formats it reads).
public enum AudioFile {
    /// Samples of a file as read: interleaved channels mixed down to mono, Float32 in [-1, 1].
    public struct Samples: Sendable {
        public var mono: [Float]
        public var sampleRate: Int
        public var channels: Int
        public var seconds: Double { sampleRate > 0 ? Double(mono.count) / Double(sampleRate) : 0 }
    }

    /// Reads a file and mixes it to mono.
    public static func read(_ path: String) throws(AudioError) -> Samples {
        guard FileManager.default.fileExists(atPath: path) else { throw AudioError("no such file", file: path) }
        var info = SF_INFO()
        guard let file = sf_open(path, Int32(SFM_READ), &info) else {
            let reason = String(cString: sf_strerror(nil))
            throw AudioError("cannot read as audio: \(reason)", file: path,
                             hint: "libsndfile reads WAV, FLAC, OGG/Vorbis, AIFF and more; MP3 needs libsndfile 1.1 with MPEG support")
        }
        defer { sf_close(file) }
        let channels = Int(info.channels), frames = Int(info.frames)
        guard channels > 0, info.samplerate > 0 else { throw AudioError("no channels or no sample rate in the header", file: path) }
        guard frames > 0 else { throw AudioError("the file holds no samples", file: path) }
        guard frames <= 16_000 * 3_600 * 4 else { throw AudioError("longer than the 4 hours a single utterance may last", file: path) }
        var interleaved = [Float](repeating: 0, count: frames * channels)
        let read = interleaved.withUnsafeMutableBufferPointer { buffer in
            sf_readf_float(file, buffer.baseAddress, sf_count_t(frames))
        }
        guard read > 0 else { throw AudioError("no samples could be read (truncated or corrupt data)", file: path) }
        let count = Int(read)
        var mono = [Float](repeating: 0, count: count)
        if channels == 1 {
            for i in 0..<count { mono[i] = interleaved[i] }
        } else {
            let scale = 1 / Float(channels)
            for i in 0..<count {
                var total: Float = 0
                for c in 0..<channels { total += interleaved[i * channels + c] }
                mono[i] = total * scale
            }
        }
        return Samples(mono: mono, sampleRate: Int(info.samplerate), channels: channels)
    }

    /// How WAV samples are stored.
    public enum Encoding: Sendable {
        case pcm16
        /// 32-bit float: the samples exactly as given.
        case float32
    }

    /// Writes mono Float32 samples as WAV (written to a temporary file and renamed).
    public static func writeWAV(_ samples: [Float], sampleRate: Int, encoding: Encoding = .pcm16, to path: String) throws(AudioError) {
        let temporary = path + ".partial-\(getpid())"
        var info = SF_INFO()
        info.samplerate = Int32(sampleRate)
        info.channels = 1
        info.format = Int32(SF_FORMAT_WAV) | (encoding == .pcm16 ? Int32(SF_FORMAT_PCM_16) : Int32(SF_FORMAT_FLOAT))
        guard let file = sf_open(temporary, Int32(SFM_WRITE), &info) else {
            throw AudioError("cannot write: \(String(cString: sf_strerror(nil)))", file: path)
        }
        let written = samples.withUnsafeBufferPointer { sf_writef_float(file, $0.baseAddress, sf_count_t($0.count)) }
        sf_write_sync(file)
        sf_close(file)
        guard written == samples.count else {
            unlink(temporary)
            throw AudioError("wrote \(written) of \(samples.count) samples", file: path)
        }
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw AudioError("cannot move the finished file into place", file: path)
        }
    }
}

import CSndFile
import Foundation

/// Audio files through libsndfile (WAV, FLAC, OGG and the other formats it reads).
public enum AudioFile {
    /// Samples of a file as read: interleaved channels mixed down to mono, Float32 in [-1, 1].
    public struct Samples: Sendable {
        public var mono: [Float]
        /// The rate of `mono`: the file's, or the rate it was resampled to.
        public var sampleRate: Int
        /// The file's channel count (before mixing).
        public var channels: Int
        public var seconds: Double { sampleRate > 0 ? Double(mono.count) / Double(sampleRate) : 0 }
    }

    /// The rate the models read: HuBERT and wav2vec 2.0 take 16 kHz audio.
    public static let modelRate = 16_000

    /// Reads a file and mixes it to mono.
    public static func read(_ path: String) throws(AudioError) -> Samples {
        let (file, info) = try open(path)
        defer { sf_close(file) }
        let channels = Int(info.channels), frames = Int(info.frames)
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

    /// Reads a file, mixes it to mono and resamples it to `rate` Hz (`Resampler`: `ceil(frames * rate / file rate)`
    /// samples, sample 0 at the file's first instant). A file already at `rate` is returned as read.
    public static func read(_ path: String, resampledTo rate: Int) throws(AudioError) -> Samples {
        var samples = try read(path)
        do {
            samples.mono = try Resampler.resample(samples.mono, from: samples.sampleRate, to: rate)
        } catch {
            throw AudioError(error.diagnostics.map(\.message).joined(separator: "; "), file: path,
                             hint: error.diagnostics.first?.hint)
        }
        samples.sampleRate = rate
        return samples
    }

    /// Reads a file as the models want it: mono at 16 kHz (`read(_:resampledTo:)` with `modelRate`).
    public static func load16k(_ path: String) throws(AudioError) -> Samples {
        try read(path, resampledTo: modelRate)
    }

    /// Opens a file for reading and checks its header: it exists, libsndfile reads it, it has channels, a rate and
    /// samples. The caller closes the handle.
    static func open(_ path: String) throws(AudioError) -> (OpaquePointer, SF_INFO) {
        guard FileManager.default.fileExists(atPath: path) else { throw AudioError("no such file", file: path) }
        var info = SF_INFO()
        guard let file = sf_open(path, Int32(SFM_READ), &info) else {
            let reason = String(cString: sf_strerror(nil))
            throw AudioError("cannot read as audio: \(reason)", file: path,
                             hint: "libsndfile reads WAV, FLAC, OGG/Vorbis, AIFF and more; MP3 needs libsndfile 1.1 with MPEG support")
        }
        guard info.channels > 0, info.samplerate > 0 else {
            sf_close(file)
            throw AudioError("no channels or no sample rate in the header", file: path)
        }
        guard info.frames > 0 else {
            sf_close(file)
            throw AudioError("the file holds no samples", file: path)
        }
        return (file, info)
    }
}

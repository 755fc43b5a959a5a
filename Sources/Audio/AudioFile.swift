import CSndFile
import FileSystem
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

    /// The longest utterance a file may hold.
    public static let maximumSeconds = 4.0 * 3_600

    /// Reads a file and mixes it to mono.
    ///
    /// Samples are read in blocks of 65,536 frames until the file ends, so a header that claims more frames than
    /// the file holds costs nothing; the length limit applies to the seconds actually read.
    public static func read(_ path: String) throws(AudioError) -> Samples {
        let (file, info) = try open(path)
        defer { sf_close(file) }
        let channels = Int(info.channels), rate = Int(info.samplerate)
        let blockFrames = 65_536
        let limit = Int(maximumSeconds * Double(rate))
        var block = [Float](repeating: 0, count: blockFrames * channels)
        var mono = [Float]()
        mono.reserveCapacity(min(max(0, Int(info.frames)), limit, 16_000 * 60))
        let scale = 1 / Float(channels)
        while true {
            let read = block.withUnsafeMutableBufferPointer { buffer in
                sf_readf_float(file, buffer.baseAddress, sf_count_t(blockFrames))
            }
            guard read > 0 else { break }
            let count = Int(read)
            guard mono.count + count <= limit else {
                throw AudioError("longer than the \(Int(maximumSeconds / 3_600)) hours a single utterance may last", file: path)
            }
            if channels == 1 {
                mono.append(contentsOf: block[0..<count])
            } else {
                for i in 0..<count {
                    var total: Float = 0
                    for c in 0..<channels { total += block[i * channels + c] }
                    mono.append(total * scale)
                }
            }
            if count < blockFrames { break }
        }
        guard !mono.isEmpty else { throw AudioError("no samples could be read (truncated or corrupt data)", file: path) }
        // A float file may hold NaN or infinity, which would make every hidden state NaN downstream.
        if let bad = mono.firstIndex(where: { !$0.isFinite }) {
            let count = mono.lazy.filter { !$0.isFinite }.count
            throw AudioError("\(count) sample\(count == 1 ? " is" : "s are") not finite (NaN or infinite), the first at \(String(format: "%.3f", Double(bad) / Double(max(rate, 1)))) s (frame \(bad))",
                             file: path)
        }
        return Samples(mono: mono, sampleRate: rate, channels: channels)
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
        // A FIFO would block sf_open and a device would read forever: only regular files are opened.
        do {
            _ = try RegularFile.size(of: path)
        } catch {
            throw AudioError(error.message, file: path)
        }
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

import FileSystem
import CSndFile
import Foundation

extension AudioFile {
    /// The file formats written.
    public enum Container: Sendable {
        case wav
        /// FLAC: lossless; takes `pcm16` only.
        case flac
    }

    /// How samples are stored.
    public enum Encoding: Sendable {
        case pcm16
        /// 32-bit float: the samples exactly as given (WAV only).
        case float32
    }

    /// Writes mono Float32 samples as WAV (written to a temporary file and renamed).
    public static func writeWAV(_ samples: [Float], sampleRate: Int, encoding: Encoding = .pcm16, to path: String) throws(AudioError) {
        try write(samples, channels: 1, sampleRate: sampleRate, container: .wav, encoding: encoding, to: path)
    }

    /// Writes Float32 samples, `channels` interleaved, as WAV or FLAC (written to a temporary file and renamed).
    public static func write(
        _ samples: [Float], channels: Int, sampleRate: Int, container: Container, encoding: Encoding = .pcm16, to path: String
    ) throws(AudioError) {
        guard (1...1_024).contains(channels), samples.count % channels == 0 else {
            throw AudioError("cannot write \(samples.count) samples as \(channels) interleaved channels", file: path)
        }
        guard let rate = Int32(exactly: sampleRate), rate > 0 else {
            throw AudioError("cannot write at \(sampleRate) Hz", file: path)
        }
        let major = container == .wav ? Int32(SF_FORMAT_WAV) : Int32(SF_FORMAT_FLAC)
        let minor = encoding == .pcm16 ? Int32(SF_FORMAT_PCM_16) : Int32(SF_FORMAT_FLOAT)
        var info = SF_INFO()
        info.samplerate = rate
        info.channels = Int32(channels)
        info.format = major | minor
        guard sf_format_check(&info) != 0 else {
            throw AudioError("libsndfile cannot write this container with this encoding", file: path)
        }
        let frames = samples.count / channels
        do {
            try AtomicFile.write(byName: path) { (temporary) throws(AudioError) in
                guard let file = sf_open(temporary, Int32(SFM_WRITE), &info) else {
                    throw AudioError("cannot write: \(String(cString: sf_strerror(nil)))", file: path)
                }
                let written = samples.withUnsafeBufferPointer { sf_writef_float(file, $0.baseAddress, sf_count_t(frames)) }
                let failed = sf_error(file) != 0
                guard sf_close(file) == 0, written == frames, !failed else {
                    throw AudioError("wrote \(written) of \(frames) frames", file: path)
                }
            }
        } catch {
            switch error {
            case let .file(failure): throw AudioError(failure.message, file: path)
            case let .body(failure): throw failure
            }
        }
    }
}

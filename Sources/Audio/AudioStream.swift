import CSndFile
import Foundation

/// An audio file read piece by piece, for recordings too long to hold (hours): the header once, then any range of
/// frames mixed to mono, resampled on request, and the loudness of the whole file in one pass over blocks. Memory
/// stays that of the pieces asked for.
public final class AudioStream {
    public let path: String
    /// The file's rate, channels and length in frames (samples per channel).
    public let sampleRate: Int
    public let channels: Int
    public let frames: Int
    private let file: OpaquePointer

    public init(_ path: String) throws(AudioError) {
        let (file, info) = try AudioFile.open(path)
        self.path = path
        self.file = file
        sampleRate = Int(info.samplerate)
        channels = Int(info.channels)
        frames = Int(info.frames)
        guard Double(frames) / Double(sampleRate) <= AudioFile.maximumSeconds else {
            sf_close(file)
            throw AudioError("longer than the \(Int(AudioFile.maximumSeconds / 3_600)) hours a recording may last", file: path)
        }
    }

    deinit { sf_close(file) }

    public var seconds: Double { Double(frames) / Double(sampleRate) }

    /// Frames `start ..< start + count` (clamped to the file) mixed to mono. Non-finite samples are an error naming
    /// the time; fewer frames than the header promised end the range early (a truncated file).
    public func mono(from start: Int, count: Int) throws(AudioError) -> [Float] {
        let first = min(max(0, start), frames), wanted = min(max(0, count), frames - first)
        guard wanted > 0 else { return [] }
        guard sf_seek(file, sf_count_t(first), SEEK_SET) >= 0 else {
            throw AudioError("cannot seek to frame \(first)", file: path)
        }
        var interleaved = [Float](repeating: 0, count: wanted * channels)
        let read = Int(interleaved.withUnsafeMutableBufferPointer { sf_readf_float(file, $0.baseAddress, sf_count_t(wanted)) })
        var mono = [Float](repeating: 0, count: max(0, read))
        if channels == 1 {
            for i in 0..<read { mono[i] = interleaved[i] }
        } else {
            let scale = 1 / Float(channels)
            for i in 0..<read {
                var total: Float = 0
                for c in 0..<channels { total += interleaved[i * channels + c] }
                mono[i] = total * scale
            }
        }
        if let bad = mono.firstIndex(where: { !$0.isFinite }) {
            throw AudioError("a sample is not finite (NaN or infinite) at \(String(format: "%.3f", Double(first + bad) / Double(sampleRate))) s",
                             file: path)
        }
        return mono
    }

    /// The recording from `start` to `end` seconds, mono at `rate` Hz (resampled when the file's rate differs).
    public func segment(from start: Double, to end: Double, rate: Int) throws(AudioError) -> [Float] {
        let first = Int((start * Double(sampleRate)).rounded()), last = Int((end * Double(sampleRate)).rounded())
        let samples = try mono(from: first, count: last - first)
        guard sampleRate != rate else { return samples }
        do {
            return try Resampler.resample(samples, from: sampleRate, to: rate)
        } catch {
            throw AudioError(error.diagnostics.map(\.message).joined(separator: "; "), file: path)
        }
    }

    /// The loudness of the whole file in dB relative to full scale (10 log10 of the mean square, floored at
    /// -120 dB), over windows of `window` seconds every `hop` seconds, read in blocks: window `i` starts at `i * hop`.
    public func loudness(window: Double, hop: Double) throws(AudioError) -> [Float] {
        let windowFrames = max(1, Int((window * Double(sampleRate)).rounded()))
        let hopFrames = max(1, Int((hop * Double(sampleRate)).rounded()))
        guard frames >= windowFrames else { return [] }
        let count = (frames - windowFrames) / hopFrames + 1
        var result = [Float](repeating: -120, count: count)
        // Blocks of whole windows, overlapping by what a window reaches past its hop.
        let windowsPerBlock = max(1, (1 << 20) / hopFrames)
        var index = 0
        while index < count {
            let last = min(count, index + windowsPerBlock)
            let start = index * hopFrames
            let block = try mono(from: start, count: (last - 1) * hopFrames + windowFrames - start)
            // Running sums of squares: each window's sum is a difference of two.
            var running = [Double](repeating: 0, count: block.count + 1)
            for i in 0..<block.count { running[i + 1] = running[i] + Double(block[i]) * Double(block[i]) }
            for w in index..<last {
                let offset = w * hopFrames - start
                guard offset + windowFrames <= block.count else { break }
                let sum = max(0, running[offset + windowFrames] - running[offset])
                result[w] = Float(max(-120, 10 * log10(max(sum / Double(windowFrames), 1e-12))))
            }
            index = last
        }
        return result
    }
}

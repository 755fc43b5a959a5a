import Audio
import Foundation
import Testing

@Suite("AudioFile.load16k")
struct Load16kTests {
    /// A fresh folder under the temporary directory.
    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gmptl-load16k-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test("a 44.1 kHz stereo FLAC becomes 16 kHz mono of ceil(frames * 16000 / 44100) samples")
    func flac() throws {
        let directory = try Self.folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("stereo.flac").path
        // Left 440 Hz, right 1 kHz; the mono mix is their mean.
        let frames = 44_100 / 2 + 7
        var interleaved = [Float]()
        for i in 0..<frames {
            let t = Double(i) / 44_100
            interleaved.append(Float(0.4 * sin(2 * Double.pi * 440 * t)))
            interleaved.append(Float(0.4 * sin(2 * Double.pi * 1_000 * t)))
        }
        try AudioFile.write(interleaved, channels: 2, sampleRate: 44_100, container: .flac, to: path)

        let header = try AudioFile.header(path)
        #expect(header.format.contains("FLAC"))
        #expect(header.encoding.contains("16 bit"))
        #expect((header.sampleRate, header.channels, header.frames) == (44_100, 2, frames))

        let samples = try AudioFile.load16k(path)
        #expect(samples.sampleRate == 16_000)
        #expect(samples.channels == 2)
        #expect(samples.mono.count == (frames * 16_000 + 44_099) / 44_100)
        // Away from the ends, the samples are the mix at the 16 kHz instants, to 16-bit precision.
        for j in 160..<(samples.mono.count - 160) {
            let t = Double(j) / 16_000
            let exact = 0.2 * sin(2 * Double.pi * 440 * t) + 0.2 * sin(2 * Double.pi * 1_000 * t)
            #expect(abs(Double(samples.mono[j]) - exact) < 1e-4, "sample \(j)")
            if abs(Double(samples.mono[j]) - exact) >= 1e-4 { break }
        }
    }

    @Test("16 kHz files are returned as read")
    func alreadyAt16k() throws {
        let directory = try Self.folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("mono.wav").path
        let samples = (0..<1_000).map { Float(sin(Double($0) * 0.1)) * 0.5 }
        try AudioFile.writeWAV(samples, sampleRate: 16_000, encoding: .float32, to: path)
        #expect(try AudioFile.load16k(path).mono == samples)
    }

    @Test("truncated, empty, non-audio and unresamplable files are AudioErrors naming the file")
    func badFiles() throws {
        let directory = try Self.folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let good = directory.appendingPathComponent("good.wav").path
        try AudioFile.writeWAV((0..<4_410).map { Float($0 % 100) / 200 }, sampleRate: 44_100, to: good)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))

        // Cut inside the header (before the data chunk), cut after the header (no samples), empty, text.
        try bytes.prefix(30).write(to: directory.appendingPathComponent("truncated.wav"))
        try bytes.prefix(44).write(to: directory.appendingPathComponent("header-only.wav"))
        try Data().write(to: directory.appendingPathComponent("empty.wav"))
        try "RIFF? no, just text".write(to: directory.appendingPathComponent("text.wav"), atomically: true, encoding: .utf8)
        // A valid WAV at 8 Hz: readable, but 2000 times below 16 kHz.
        try AudioFile.writeWAV([0, 0.5, 0], sampleRate: 8, to: directory.appendingPathComponent("slow.wav").path)
        try FileManager.default.removeItem(atPath: good)

        let expected = [
            "empty.wav": "cannot read as audio", "header-only.wav": "holds no samples", "slow.wav": "more than a factor of 1000",
            "text.wav": "cannot read as audio", "truncated.wav": "cannot read as audio",
        ]
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(names == expected.keys.sorted())
        for name in names {
            let path = directory.appendingPathComponent(name).path
            #expect(performing: { try AudioFile.load16k(path) }, throws: { error in
                guard let error = error as? AudioError else { return false }
                return error.description.hasPrefix("error: \(path): ") && error.description.contains(expected[name] ?? "?")
            })
        }
    }
}

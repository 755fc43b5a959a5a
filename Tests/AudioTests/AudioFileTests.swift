import Audio
import Foundation
import Testing

@Suite("Audio files")
struct AudioFileTests {
    static func temporary(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("gmptl-audio-\(UUID().uuidString)-\(name)").path
    }

    @Test("a WAV written and read back keeps its samples to 16-bit precision and its rate")
    func roundTrip() throws {
        let path = Self.temporary("tone.wav")
        let samples = (0..<1_600).map { Float(sin(Double($0) * 0.05)) * 0.5 }
        try AudioFile.writeWAV(samples, sampleRate: 16_000, to: path)
        let read = try AudioFile.read(path)
        #expect(read.sampleRate == 16_000)
        #expect(read.channels == 1)
        #expect(read.mono.count == samples.count)
        #expect(zip(read.mono, samples).allSatisfy { abs($0 - $1) <= 1.0 / 32_768 + 1e-6 })
        #expect(!FileManager.default.fileExists(atPath: path + ".partial-\(getpid())"))
    }

    @Test("missing, empty and non-audio files are errors naming the file")
    func errors() throws {
        let missing = Self.temporary("none.wav")
        #expect { try AudioFile.read(missing) } throws: { error in
            (error as? AudioError)?.description.contains("\(missing): no such file") == true
        }
        let text = Self.temporary("text.wav")
        try "not audio at all".write(toFile: text, atomically: true, encoding: .utf8)
        #expect { try AudioFile.read(text) } throws: { error in
            (error as? AudioError)?.description.contains("\(text): cannot read as audio") == true
        }
        // Only regular files are opened: a FIFO would block libsndfile, a folder is not audio.
        let pipe = Self.temporary("pipe.wav")
        #expect(mkfifo(pipe, 0o644) == 0)
        defer { unlink(pipe) }
        #expect { try AudioFile.read(pipe) } throws: { error in
            (error as? AudioError)?.description.contains("\(pipe): a FIFO (named pipe), not a regular file") == true
        }
        #expect { try AudioFile.info(FileManager.default.temporaryDirectory.path) } throws: { error in
            (error as? AudioError)?.description.contains("a directory, not a regular file") == true
        }
        let empty = Self.temporary("empty.wav")
        try AudioFile.writeWAV([], sampleRate: 16_000, to: empty)
        #expect { try AudioFile.read(empty) } throws: { error in
            (error as? AudioError)?.description.contains("holds no samples") == true
        }
    }
}

@Suite("Audio files: non-finite samples")
struct NonFiniteAudioTests {
    @Test("a float WAV holding NaN or infinity is refused naming the file and the first bad frame")
    func nonFinite() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("nan-\(UUID().uuidString).wav").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var samples = [Float](repeating: 0.1, count: 1_600)
        samples[800] = .nan
        samples[900] = .infinity
        try AudioFile.writeWAV(samples, sampleRate: 16_000, encoding: .float32, to: path)
        let error = #expect(throws: AudioError.self) { try AudioFile.read(path) }
        #expect(error?.description.contains("\(path): 2 samples are not finite (NaN or infinite), the first at 0.050 s (frame 800)") == true,
                "\(error?.description ?? "")")
    }
}

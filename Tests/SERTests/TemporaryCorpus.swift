import Audio
import Foundation
@testable import SER

/// A temporary folder for one test, removed when the test drops it; writes text files and tiny WAVs.
final class TemporaryCorpus {
    let root: String

    init(_ name: String = "corpus") throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("ser-\(name)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// The full path of a path relative to the root.
    func path(_ relative: String) -> String { root + "/" + relative }

    /// Writes text, creating folders.
    @discardableResult
    func write(_ relative: String, _ text: String) throws -> String {
        let full = path(relative)
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: full))
        return full
    }

    /// Writes a mono WAV of `samples` samples (a ramp, so that crops can be recognised) at `rate`, as Float32.
    @discardableResult
    func wav(_ relative: String, samples: Int = 160, rate: Int = 16_000) throws -> String {
        let full = path(relative)
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let ramp = (0..<samples).map { Float($0 % 1000) / 1000 }
        try AudioFile.writeWAV(ramp, sampleRate: rate, encoding: .float32, to: full)
        return full
    }
}

import Foundation
import GraphIR
import Runtime

/// A fresh directory under the system's temporary directory, removed when the value goes away.
final class TemporaryDirectory {
    let path: String

    init() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("gmptl-tests-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// The path of a file in the directory.
    func file(_ name: String) -> String { path + "/" + name }

    /// The names in the directory (hidden ones included), sorted.
    var contents: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }

    @discardableResult
    func write(_ bytes: [UInt8], to name: String) -> String {
        let path = file(name)
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    @discardableResult
    func write(_ text: String, to name: String) -> String { write(Array(text.utf8), to: name) }
}

/// A safetensors file built by hand: the header text as given (with its length, or `length` when given to lie),
/// then the data.
func safetensorsBytes(header: String, data: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
    let json = Array(header.utf8)
    return withUnsafeBytes(of: (length ?? UInt64(json.count)).littleEndian) { Array($0) } + json + data
}

/// Little-endian bytes of fixed-width values.
func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    values.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
}

/// The rendered text of the checkpoint error a body throws, or nil when it does not throw.
func checkpointMessage(_ body: () throws(CheckpointError) -> Void) -> String? {
    do {
        try body()
        return nil
    } catch {
        return error.description
    }
}

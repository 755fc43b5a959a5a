import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writing a text file so that it is never seen half-written: the bytes go to a temporary `.name.tmp-pid-random` in
/// the target's folder, are flushed (`fsync`) and renamed over the target. On failure the temporary file is removed
/// and an existing target is left as it was.
enum AtomicTextFile {
    /// Writes `text` as UTF-8 to `path`, replacing any file there.
    static func write(_ text: String, to path: String) throws(EvaluationError) {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[..<$0]) }.map { $0.isEmpty ? "/" : $0 } ?? "."
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard !base.isEmpty else { throw EvaluationError("not a file name", file: path) }
        let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let temporary = (folder.hasSuffix("/") ? folder : folder + "/") + ".\(base).tmp-\(getpid())-\(suffix)"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw EvaluationError("cannot create a temporary file in '\(folder)': \(systemError())", file: path)
        }
        var isOpen = true
        var renamed = false
        defer {
            if isOpen { close(descriptor) }
            if !renamed { unlink(temporary) }
        }
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return systemWrite(descriptor, base + offset, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw EvaluationError("cannot write: \(systemError())", file: path)
            }
            guard written > 0 else { throw EvaluationError("cannot write: no progress", file: path) }
            offset += written
        }
        guard fsync(descriptor) == 0 else { throw EvaluationError("cannot flush to disk: \(systemError())", file: path) }
        isOpen = false
        guard close(descriptor) == 0 else { throw EvaluationError("cannot close: \(systemError())", file: path) }
        guard rename(temporary, path) == 0 else {
            throw EvaluationError("cannot replace the file: \(systemError())", file: path)
        }
        renamed = true
    }

    /// The text of the current `errno`.
    static func systemError() -> String { String(cString: strerror(errno)) }
}

/// `write(2)`, named apart from `AtomicTextFile.write`.
private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}

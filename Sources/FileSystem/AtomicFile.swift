#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file-system failure: what was being done, to which path, and the system's reason. Each stage wraps it in its
/// own error type (`CheckpointError`, `AudioError`, ...).
public struct FileError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String
    /// The `errno` behind the error, where a system call failed.
    public var errorNumber: Int32?

    public init(_ message: String, path: String, errorNumber: Int32? = nil) {
        self.message = message
        self.path = path
        self.errorNumber = errorNumber
    }

    public var description: String { "\(path): \(message)" }

    /// The text of the current `errno`, starting lower-case like the project's other messages ("no such file or
    /// directory").
    public static func systemReason() -> String {
        let text = String(cString: strerror(errno))
        return text.prefix(1).lowercased() + text.dropFirst()
    }
}

/// Writing a file so that it is never seen half-written: the content goes to a temporary file in the target's
/// folder (`.name.tmp-pid-random`, created exclusively), which is flushed to disk (`fsync`) and renamed over the
/// target, and the rename is flushed too. On any failure the temporary file is removed and an existing target is
/// left as it was. Every writer of the project (checkpoints, reports, audio, DOT, the demo corpus) goes through it.
public enum AtomicFile {
    /// The open temporary file that `write(to:_:)` hands its body.
    public final class Output {
        fileprivate let descriptor: Int32
        fileprivate let target: String

        fileprivate init(descriptor: Int32, target: String) {
            self.descriptor = descriptor
            self.target = target
        }

        /// Appends bytes, retrying short writes and interrupted calls.
        public func write(_ bytes: UnsafeRawBufferPointer) throws(FileError) {
            guard var next = bytes.baseAddress else { return }
            var remaining = bytes.count
            while remaining > 0 {
                let written = systemWrite(descriptor, next, remaining)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw FileError("cannot write: \(FileError.systemReason())", path: target)
                }
                guard written > 0 else { throw FileError("cannot write: no progress", path: target) }
                next += written
                remaining -= written
            }
        }

        public func write(_ bytes: [UInt8]) throws(FileError) {
            // Array's `withUnsafeBytes` rethrows untyped errors: carry the error out as a value.
            let failure: FileError? = bytes.withUnsafeBytes { buffer in
                do throws(FileError) { try write(buffer) } catch { return error }
                return nil
            }
            if let failure { throw failure }
        }
    }

    /// Writes `path` with `body`, which appends the content to the temporary file.
    public static func write<Failure: Error>(
        to path: String, _ body: (Output) throws(Failure) -> Void
    ) throws(AtomicFileFailure<Failure>) {
        try replace(path) { (temporary, descriptor) throws(AtomicFileFailure<Failure>) in
            do throws(Failure) {
                try body(Output(descriptor: descriptor, target: path))
            } catch {
                throw .body(error)
            }
        }
    }

    /// Writes `text` as UTF-8 to `path`.
    public static func write(_ text: String, to path: String) throws(FileError) {
        do {
            try write(to: path) { (output) throws(FileError) in try output.write(Array(text.utf8)) }
        } catch {
            throw error.fileError
        }
    }

    /// Writes `path` through a library that writes files by name (libsndfile): `body` gets the temporary path to
    /// write and close; the result is then flushed and renamed into place.
    public static func write<Failure: Error>(
        byName path: String, _ body: (String) throws(Failure) -> Void
    ) throws(AtomicFileFailure<Failure>) {
        try replace(path) { (temporary, _) throws(AtomicFileFailure<Failure>) in
            do throws(Failure) {
                try body(temporary)
            } catch {
                throw .body(error)
            }
        }
    }

    private static func replace<Failure: Error>(
        _ path: String, _ fill: (String, Int32) throws(AtomicFileFailure<Failure>) -> Void
    ) throws(AtomicFileFailure<Failure>) {
        let (folder, base) = split(path)
        guard !base.isEmpty else { throw .file(FileError("not a file name", path: path)) }
        let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let temporary = (folder.hasSuffix("/") ? folder : folder + "/") + ".\(base).tmp-\(getpid())-\(suffix)"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw .file(FileError("cannot create a temporary file in '\(folder)': \(FileError.systemReason())", path: path))
        }
        var isOpen = true
        var renamed = false
        defer {
            if isOpen { close(descriptor) }
            if !renamed { unlink(temporary) }
        }
        try fill(temporary, descriptor)
        // A body that wrote by name wrote through its own descriptor: flush what is on disk under the name.
        let flushed = open(temporary, O_RDONLY | O_CLOEXEC)
        if flushed >= 0 {
            defer { close(flushed) }
            guard fsync(flushed) == 0 else { throw .file(FileError("cannot flush to disk: \(FileError.systemReason())", path: path)) }
        }
        isOpen = false
        guard close(descriptor) == 0 else { throw .file(FileError("cannot close: \(FileError.systemReason())", path: path)) }
        guard rename(temporary, path) == 0 else {
            throw .file(FileError("cannot replace the file: \(FileError.systemReason())", path: path))
        }
        renamed = true
        // Make the rename itself durable; a folder that cannot be opened or flushed leaves the file written anyway.
        let folderDescriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folderDescriptor >= 0 {
            _ = fsync(folderDescriptor)
            close(folderDescriptor)
        }
    }

    /// The folder (`.` for a bare name) and the last component of a path.
    public static func split(_ path: String) -> (folder: String, base: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let folder = String(path[..<slash])
        return (folder.isEmpty ? "/" : folder, String(path[path.index(after: slash)...]))
    }
}

/// Why an atomic write failed: the file system, or the body writing the content.
public enum AtomicFileFailure<Failure: Error>: Error {
    case file(FileError)
    case body(Failure)
}

extension AtomicFileFailure where Failure == FileError {
    /// Both cases are file errors here.
    public var fileError: FileError {
        switch self {
        case let .file(error), let .body(error): error
        }
    }
}

private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}

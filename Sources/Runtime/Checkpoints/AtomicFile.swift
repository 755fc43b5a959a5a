#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writing a file so that it is never seen half-written: the bytes go to a temporary file in the target's folder,
/// which is flushed to disk (`fsync`) and then renamed over the target. On any failure the temporary file is
/// removed and an existing target is left as it was.
enum AtomicFile {
    /// The open temporary file that `write(to:_:)` hands its body.
    final class Output {
        fileprivate let descriptor: Int32
        fileprivate let target: String

        fileprivate init(descriptor: Int32, target: String) {
            self.descriptor = descriptor
            self.target = target
        }

        /// Appends bytes, retrying short writes and interrupted calls.
        func write(_ bytes: UnsafeRawBufferPointer) throws(CheckpointError) {
            guard var next = bytes.baseAddress else { return }
            var remaining = bytes.count
            while remaining > 0 {
                let written = systemWrite(descriptor, next, remaining)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw CheckpointError("cannot write: \(MappedFile.systemError())", file: target)
                }
                next += written
                remaining -= written
            }
        }

        func write(_ bytes: [UInt8]) throws(CheckpointError) {
            // Array's `withUnsafeBytes` rethrows untyped errors: carry the error out as a value.
            let failure: CheckpointError? = bytes.withUnsafeBytes { buffer in
                do throws(CheckpointError) { try write(buffer) } catch { return error }
                return nil
            }
            if let failure { throw failure }
        }
    }

    static func write(to path: String, _ body: (Output) throws(CheckpointError) -> Void) throws(CheckpointError) {
        let (folder, base) = split(path)
        guard !base.isEmpty else { throw CheckpointError("not a file name", file: path) }
        let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let temporary = (folder.hasSuffix("/") ? folder : folder + "/") + ".\(base).tmp-\(getpid())-\(suffix)"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw CheckpointError("cannot create a temporary file in '\(folder)': \(MappedFile.systemError())", file: path)
        }
        var isOpen = true
        var renamed = false
        defer {
            if isOpen { close(descriptor) }
            if !renamed { unlink(temporary) }
        }
        try body(Output(descriptor: descriptor, target: path))
        guard fsync(descriptor) == 0 else { throw CheckpointError("cannot flush to disk: \(MappedFile.systemError())", file: path) }
        isOpen = false
        guard close(descriptor) == 0 else { throw CheckpointError("cannot close: \(MappedFile.systemError())", file: path) }
        guard rename(temporary, path) == 0 else {
            throw CheckpointError("cannot replace the file: \(MappedFile.systemError())", file: path)
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
    static func split(_ path: String) -> (folder: String, base: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let folder = String(path[..<slash])
        return (folder.isEmpty ? "/" : folder, String(path[path.index(after: slash)...]))
    }
}

private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}

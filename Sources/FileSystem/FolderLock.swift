#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An advisory lock on a folder (`flock` on its `.gmptl-lock` file), so that two processes never write the same
/// run folder: an exclusive holder (a process training or labelling a fold) records who it is in the lock file,
/// and a second process asking for the lock is refused at once with that holder named. Shared holders (processes
/// training other folds of the same run) coexist with each other but not with an exclusive one. The kernel
/// releases the lock when its process ends, however it ends (SIGKILL included), so a killed run resumes freely.
public final class FolderLock {
    public enum Mode: Sendable { case shared, exclusive }

    public let folder: String
    public let mode: Mode
    /// The lock file's descriptor; -1 for a shared lock on a folder no process can write (see `init`).
    private let descriptor: Int32

    /// The lock file's name inside the folder.
    public static let fileName = ".gmptl-lock"

    /// Takes the lock without waiting; the folder must exist. Throws naming the holder when another process
    /// holds it (`errorNumber` EWOULDBLOCK), or the system's reason when an exclusive lock's file cannot be made (a
    /// read-only folder, say). A shared lock is for reading: where its file cannot be made (a read-only volume, a
    /// folder of another user's), an existing lock file is opened read-only, and without one the folder is read
    /// unlocked, since this process could not have locked it for writing either.
    public init(_ folder: String, mode: Mode) throws(FileError) {
        self.folder = folder
        self.mode = mode
        let path = folder + "/" + Self.fileName
        var descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        if descriptor < 0, mode == .shared, [EROFS, EACCES, EPERM].contains(errno) {
            descriptor = open(path, O_RDONLY | O_CLOEXEC)
            if descriptor < 0 {
                self.descriptor = -1
                return
            }
        }
        guard descriptor >= 0 else {
            let code = errno
            throw FileError("cannot write in the folder (\(FileError.systemReason()))", path: folder, errorNumber: code)
        }
        guard flock(descriptor, (mode == .exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            let reason = FileError.systemReason()
            let holder = Self.holder(descriptor)
            close(descriptor)
            if busy {
                throw FileError("in use by another process\(holder.map { ": \($0)" } ?? "") (one process writes a run folder, or a fold of it, at a time)",
                                path: folder, errorNumber: EWOULDBLOCK)
            }
            throw FileError("cannot lock the folder (\(reason))", path: folder)
        }
        self.descriptor = descriptor
        if mode == .exclusive {
            // Who holds it, for the message of the next process that asks.
            let text = Self.describeThisProcess() + "\n"
            _ = ftruncate(descriptor, 0)
            _ = text.withCString { pwrite(descriptor, $0, strlen($0), 0) }
        }
    }

    deinit {
        guard descriptor >= 0 else { return }
        // An exclusive holder's name goes with it, so that a later refusal by shared holders never names it.
        if mode == .exclusive { _ = ftruncate(descriptor, 0) }
        close(descriptor)
    }

    /// `gmptl train (process 1234, since 2026-12-03 17:40:02 UTC)`.
    static func describeThisProcess() -> String {
        let command = CommandLine.arguments.prefix(2).map { $0.split(separator: "/").last.map(String.init) ?? $0 }
            .joined(separator: " ")
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        strftime(&buffer, buffer.count, "%Y-%m-%d %H:%M:%S UTC", &parts)
        let since = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return "\(command) (process \(getpid()), since \(since))"
    }

    /// The holder an exclusive locker wrote, if any (a shared holder writes nothing).
    private static func holder(_ descriptor: Int32) -> String? {
        var bytes = [UInt8](repeating: 0, count: 512)
        let count = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        let text = String(decoding: bytes.prefix(count), as: UTF8.self)
        let line = text.split(separator: "\n").first.map(String.init) ?? ""
        return line.isEmpty ? nil : line
    }
}

/// Folders made and listed with the system's reason on failure (never Foundation's error text).
public enum Folder {
    /// The names in a folder (without `.` and `..`), unsorted.
    public static func names(in path: String) throws(FileError) -> [String] {
        guard let directory = opendir(path) else {
            let code = errno
            throw FileError("cannot list the folder (\(FileError.systemReason()))", path: path, errorNumber: code)
        }
        defer { closedir(directory) }
        var names = [String]()
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Makes `path` and any missing parents (`mkdir -p`); an existing folder is fine.
    public static func create(_ path: String) throws(FileError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0 {
                let code = errno
                var status = stat()
                if stat(current, &status) == 0, status.st_mode & S_IFMT == S_IFDIR { continue }
                errno = code
                if code == EEXIST {
                    throw FileError("cannot create the folder: '\(current)' exists and is not a folder", path: path)
                }
                throw FileError("cannot create the folder (\(FileError.systemReason()))", path: path)
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading a whole input file safely: only a regular file (a device such as /dev/zero, a FIFO that would block, a
/// directory or a broken symbolic link is refused before it is opened, each by name), of at most `limit` bytes
/// (checked before reading and while reading, for a file that grows).
public enum RegularFile {
    public static func contents(of path: String, limit: Int) throws(FileError) -> [UInt8] {
        let size = try size(of: path)
        guard size <= limit else { throw FileError("\(size) bytes, past the limit of \(limit) for this kind of file", path: path) }
        guard let stream = fopen(path, "rb") else { throw FileError("cannot open it (\(FileError.systemReason()))", path: path) }
        defer { fclose(stream) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, stream) }
            bytes += chunk.prefix(count)
            guard bytes.count <= limit else { throw FileError("past the limit of \(limit) bytes for this kind of file", path: path) }
            if count < chunk.count {
                if ferror(stream) != 0 { throw FileError("cannot read it (\(FileError.systemReason()))", path: path) }
                return bytes
            }
        }
    }

    /// The size in bytes of the regular file at `path` (a link is followed); anything else is an error saying what
    /// the path is instead: missing, a broken or looping link, a directory, a FIFO, a device. Opening a FIFO would
    /// block and a device would read forever, so readers ask this before they open a file.
    public static func size(of path: String) throws(FileError) -> Int {
        var status = stat()
        guard stat(path, &status) == 0 else {
            var link = stat()
            if errno == ENOENT, lstat(path, &link) == 0, link.st_mode & S_IFMT == S_IFLNK {
                throw FileError("a symbolic link to a file that does not exist", path: path)
            }
            if errno == ELOOP { throw FileError("a symbolic link that refers to itself (a loop)", path: path) }
            throw FileError(FileError.systemReason(), path: path, errorNumber: errno)
        }
        guard status.st_mode & S_IFMT == S_IFREG else { throw FileError("\(kind(status.st_mode)), not a regular file", path: path) }
        guard access(path, R_OK) == 0 else { throw FileError("cannot be read (\(FileError.systemReason()))", path: path) }
        return Int(status.st_size)
    }

    /// "a directory", "a FIFO (named pipe)", ... for a file that is not a regular one.
    public static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: "a directory"
        case S_IFIFO: "a FIFO (named pipe)"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        default: "a special file"
        }
    }
}

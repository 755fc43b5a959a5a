import FileSystem
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file mapped read-only into memory for the duration of a closure, unmapped on every path out of it.
///
/// Errors name the file and give the system's reason (`no such file or directory`). Mapping, not reading, keeps a
/// 400 MB checkpoint out of the heap until its tensors are converted. The file must not shrink while it is mapped
/// (another process truncating it makes the reads fault); checkpoints are not written in place.
enum MappedFile {
    static func withBytes<Result>(
        of path: String, _ body: (UnsafeRawBufferPointer) throws(CheckpointError) -> Result
    ) throws(CheckpointError) -> Result {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw CheckpointError("cannot open: \(FileError.systemReason())", file: path) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw CheckpointError("cannot read: \(FileError.systemReason())", file: path) }
        guard status.st_mode & S_IFMT == S_IFREG else { throw CheckpointError("not a regular file", file: path) }
        guard status.st_size > 0, let size = Int(exactly: status.st_size) else {
            return try body(UnsafeRawBufferPointer(start: nil, count: 0))
        }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), address != MAP_FAILED else {
            throw CheckpointError("cannot map into memory: \(FileError.systemReason())", file: path)
        }
        defer { munmap(address, size) }
        return try body(UnsafeRawBufferPointer(start: address, count: size))
    }
}

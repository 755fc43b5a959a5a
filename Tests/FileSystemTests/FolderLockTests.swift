import FileSystem
import Foundation
import Testing

/// Folder locks (flock is per open file, so two locks in one process contend as two processes would).
@Suite("Folder locks")
struct FolderLockTests {
    static func folder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gmptl-lock-\(UUID().uuidString)").path
        try Folder.create(path)
        return path
    }

    @Test("an exclusive holder is named to the next process; shared holders coexist; a released holder is named no more")
    func contention() throws {
        let path = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: path) }
        var first: FolderLock? = try FolderLock(path, mode: .exclusive)
        let refused = #expect(throws: FileError.self) { try FolderLock(path, mode: .shared) }
        #expect(refused?.errorNumber == EWOULDBLOCK)
        #expect(refused?.description.hasPrefix("\(path): in use by another process: ") == true, "\(refused?.description ?? "")")
        #expect(refused?.description.contains("(process \(getpid()), since ") == true)
        withExtendedLifetime(first) {}
        first = nil

        let readers = [try FolderLock(path, mode: .shared), try FolderLock(path, mode: .shared)]
        let writer = #expect(throws: FileError.self) { try FolderLock(path, mode: .exclusive) }
        #expect(writer?.description == "\(path): in use by another process (one process writes a run folder, or a fold of it, at a time)",
                "the exclusive holder that left is not named: \(writer?.description ?? "")")
        withExtendedLifetime(readers) {}
    }

    @Test("folders that cannot be made or listed give the system's reason, not Foundation's text")
    func folderErrors() throws {
        let path = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = path + "/file"
        FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        #expect(throws: FileError.self) { try Folder.create(file + "/sub") }
        let listing = #expect(throws: FileError.self) { try Folder.names(in: path + "/absent") }
        #expect(listing?.description == "\(path)/absent: cannot list the folder (no such file or directory)")
        try Folder.create(path + "/a/b")
        #expect(try Folder.names(in: path).sorted() == ["a", "file"])
    }
}

import FileSystem
import Foundation
import Testing

@Suite("Atomic files")
struct AtomicFileTests {
    static func folder() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gmptl-atomic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.path
    }

    @Test("a write replaces the target and leaves no temporary file")
    func replaces() throws {
        let folder = try Self.folder()
        let path = folder + "/out.txt"
        try AtomicFile.write("first", to: path)
        try AtomicFile.write("second", to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "second")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["out.txt"])
    }

    @Test("a body that fails leaves the old file as it was and no temporary file")
    func failureKeepsTarget() throws {
        struct Stop: Error {}
        let folder = try Self.folder()
        let path = folder + "/keep.txt"
        try AtomicFile.write("old", to: path)
        #expect(throws: AtomicFileFailure<Stop>.self) {
            try AtomicFile.write(to: path) { (output) throws(Stop) in
                try? output.write(Array("partial".utf8))
                throw Stop()
            }
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "old")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["keep.txt"])
    }

    @Test("writing by name (for libraries that open files themselves) and errors naming the path")
    func byNameAndErrors() throws {
        let folder = try Self.folder()
        let path = folder + "/named.bin"
        try AtomicFile.write(byName: path) { (temporary) throws(FileError) in
            guard FileManager.default.createFile(atPath: temporary, contents: Data([1, 2, 3])) else {
                throw FileError("cannot create", path: temporary)
            }
        }
        #expect(FileManager.default.contents(atPath: path) == Data([1, 2, 3]))
        let missing = folder + "/no/such/folder/file.txt"
        let error = try #require(throws: FileError.self) { try AtomicFile.write("x", to: missing) }
        #expect(error.description.hasPrefix(missing + ": cannot create a temporary file"))
    }
}

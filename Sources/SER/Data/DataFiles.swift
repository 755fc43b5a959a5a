import FileSystem
import Foundation

/// File-system helpers for the corpus readers: errors as `DataError`, listings sorted so that every reader's
/// output is deterministic.
public enum DataFiles {
    /// Whether `path` exists and is a folder.
    static func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }

    /// Whether `path` exists and is not a folder.
    static func isFile(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && !directory.boolValue
    }

    /// Why the audio file a corpus lists cannot be read, or nil when it is a regular, readable file: "no such audio
    /// file", or what the path is instead (a broken link, a folder, a FIFO that would block the reader).
    static func audioProblem(_ path: String) -> String? {
        do {
            _ = try RegularFile.size(of: path)
            return nil
        } catch {
            return error.errorNumber == ENOENT ? "no such audio file" : error.message
        }
    }

    /// The names in a folder, sorted, hidden ones (`.DS_Store`, macOS `._` copies) left out.
    static func list(_ path: String) throws(DataError) -> [String] {
        guard isDirectory(path) else { throw DataError(isFile(path) ? "not a folder" : "no such folder", file: path) }
        do {
            return try Folder.names(in: path).filter { !$0.hasPrefix(".") }.sorted()
        } catch {
            throw DataError(error.message, file: path)
        }
    }

    /// Every file under a folder whose name ends in `suffix` (case-insensitive), as full paths, sorted; hidden
    /// files and folders are left out.
    static func files(under path: String, suffix: String) throws(DataError) -> [String] {
        guard isDirectory(path) else { throw DataError(isFile(path) ? "not a folder" : "no such folder", file: path) }
        let wanted = suffix.lowercased()
        var found = [String]()
        var pending = [path]
        var visited = 0
        while let folder = pending.popLast() {
            visited += 1
            guard visited <= 100_000 else { throw DataError("more than 100,000 folders; is this the corpus folder?", file: path) }
            for name in try list(folder) {
                let full = join(folder, name)
                if isDirectory(full) {
                    pending.append(full)
                } else if name.lowercased().hasSuffix(wanted) {
                    found.append(full)
                }
            }
        }
        return found.sorted()
    }

    /// The largest label file or manifest read (IEMOCAP's whole label set is about 5 MB).
    static let textLimit = 256 << 20

    /// A file's text, a leading byte-order mark removed. Bytes that are not UTF-8 are an error at their line (a
    /// Latin-1 manifest would otherwise turn its accented paths into missing files).
    static func text(_ path: String) throws(DataError) -> String {
        let data: Data
        do {
            data = Data(try RegularFile.contents(of: path, limit: textLimit))
        } catch {
            throw DataError(error.message, file: path)
        }
        guard var text = String(validating: data, as: UTF8.self) else {
            var line = 1
            var decoder = UTF8()
            var iterator = data.makeIterator()
            decoding: while true {
                switch decoder.decode(&iterator) {
                case let .scalarValue(scalar): if scalar == "\n" { line += 1 }
                case .emptyInput, .error: break decoding
                }
            }
            throw DataError("the file is not UTF-8 text", file: path, line: line,
                            hint: "convert it, for example: iconv -f latin1 -t utf-8 '\(path)'")
        }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        return text
    }

    /// `folder/name`, without doubling a trailing slash.
    static func join(_ folder: String, _ name: String) -> String {
        folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }

    /// A path's last component less its extension (`a/b/Ses01F_impro01_F000.wav` -> `Ses01F_impro01_F000`).
    public static func stem(_ path: String) -> String {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return name }
        return String(name[..<dot])
    }

    /// The lines of a text, without their line breaks (`\n`, `\r\n` or `\r`).
    static func lines(_ text: String) -> [Substring] {
        text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    var trimmedSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}

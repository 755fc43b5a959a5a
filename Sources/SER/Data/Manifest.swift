import Foundation
import GraphIR

/// A corpus described by a table: one utterance a row, in a CSV or TSV file with a header.
///
///     path,emotion,gender,speaker,session
///     wav/a01.wav,angry,f,spk01,1
///     "wav/with, comma.wav",neutral,male,spk02,2
///
/// - Columns (named in the header, any order, case-insensitive): `path`, `emotion`, `gender` and `speaker` are
///   required; `session` or `fold` (not both) is optional and becomes `Utterance.session`, which the session folds
///   leave out one value at a time. Any other column is an error that lists these.
/// - The delimiter comes from the extension (`.csv` comma, `.tsv`/`.tab` tab) or, for other names, from the header
///   line (a tab if it has one). Quoting follows RFC 4180 (`DelimitedText`).
/// - Paths are relative to the manifest's folder unless absolute. The utterance id is the path as written, less its
///   extension (`wav/a01`), so that files of the same name in different folders stay apart.
/// - Genders are `f`, `female`, `m`, `male` in any case.
/// - A bad row (a different number of fields than the header, an empty path, emotion or speaker, an unknown gender,
///   a path listed twice) is an error at file:line. A missing audio file, and with a label map an emotion outside
///   its classes, is recorded in `Corpus.skipped`.
public enum Manifest {
    /// The columns every manifest has.
    public static let requiredColumns = ["path", "emotion", "gender", "speaker"]
    /// The columns a manifest may have.
    public static let optionalColumns = ["session", "fold"]

    /// Reads a manifest. Without `labels`, every emotion value is a class of its own, as written.
    public static func read(_ path: String, labels: LabelMap? = nil) throws(DataError) -> Corpus {
        try labels?.check()
        let text = try DataFiles.text(path)
        let records = try DelimitedText.parse(text, delimiter: DelimitedText.delimiter(path: path, text: text), file: path)
        guard let header = records.first else {
            throw DataError("the manifest is empty; it needs a header line naming the columns \(requiredColumns.joined(separator: ", "))",
                            file: path, line: 1)
        }
        let columns = try columnIndices(header, file: path)
        let folder = path.contains("/") ? String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]) : "."

        var utterances = [Utterance]()
        var skipped = [SkippedFile]()
        var seen = [String: Int]()
        for record in records.dropFirst() {
            let line = record.line
            guard record.fields.count == header.fields.count else {
                throw DataError("the row has \(record.fields.count) fields, the header \(header.fields.count)", file: path, line: line,
                                hint: "quote fields that hold the delimiter")
            }
            func value(_ column: String) -> String {
                guard let index = columns[column], record.fields.indices.contains(index) else { return "" }
                return record.fields[index].trimmedSpaces
            }
            for column in requiredColumns where value(column).isEmpty {
                throw DataError("the \(column) is empty", file: path, line: line)
            }
            let written = value("path")
            guard let gender = gender(value("gender")) else {
                throw DataError("gender '\(value("gender"))' is not f, female, m or male", file: path, line: line)
            }
            // One file is one utterance however its path is spelled (a.wav, ./a.wav, sub/../a.wav, absolute).
            let audio = URL(fileURLWithPath: written.hasPrefix("/") ? written : DataFiles.join(folder, written))
                .standardizedFileURL.resolvingSymlinksInPath().path
            let id = withoutExtension(written)
            for (key, what) in [(audio, "\(written) is listed twice"), ("id:" + id, "utterance id '\(id)' (the path without its extension) is used twice")] {
                if let first = seen[key] {
                    throw DataError([Diagnostic(what, at: SourceLocation(file: path, line: line, column: 1),
                                                notes: [.init("first here", at: SourceLocation(file: path, line: first, column: 1))])])
                }
                seen[key] = line
            }
            let label = value("emotion")
            let emotion: String
            if let labels {
                guard let name = labels.className(for: label) else {
                    skipped.append(SkippedFile(path: audio, reason: LabelMap.droppedReason(label)))
                    continue
                }
                emotion = name
            } else {
                emotion = label
            }
            if let problem = DataFiles.audioProblem(audio) {
                skipped.append(SkippedFile(path: audio, reason: problem, unreadable: true))
                continue
            }
            let session = value(columns["session"] != nil ? "session" : "fold")
            utterances.append(Utterance(id: id, path: audio, emotion: emotion, gender: gender,
                                        speaker: value("speaker"), session: session.isEmpty ? nil : session))
        }
        return Corpus(name: DataFiles.stem(path), utterances: utterances, skipped: skipped)
    }

    /// The column of each known name in the header; unknown, repeated and missing columns are errors.
    static func columnIndices(_ header: DelimitedText.Record, file: String) throws(DataError) -> [String: Int] {
        let known = requiredColumns + optionalColumns
        var columns = [String: Int]()
        for (index, raw) in header.fields.enumerated() {
            let name = raw.trimmedSpaces.lowercased()
            guard known.contains(name) else {
                let hint = Suggestion.hint(for: name, in: known)
                throw DataError("unknown column '\(raw)'; the known columns are \(known.joined(separator: ", "))",
                                file: file, line: header.line, hint: hint)
            }
            guard columns[name] == nil else { throw DataError("column '\(name)' appears twice", file: file, line: header.line) }
            columns[name] = index
        }
        let missing = requiredColumns.filter { columns[$0] == nil }
        guard missing.isEmpty else {
            throw DataError("the header has no \(missing.joined(separator: ", ")) column\(missing.count == 1 ? "" : "s")",
                            file: file, line: header.line,
                            hint: "a manifest's header names the columns \(requiredColumns.joined(separator: ", ")) and optionally session or fold")
        }
        if columns["session"] != nil, columns["fold"] != nil {
            throw DataError("give a session or a fold column, not both", file: file, line: header.line)
        }
        return columns
    }

    /// A gender as manifests write it: `f`, `female`, `m`, `male`, in any case.
    public static func gender(_ value: String) -> Gender? {
        switch value.lowercased() {
        case "f", "female": .female
        case "m", "male": .male
        default: nil
        }
    }

    static func withoutExtension(_ path: String) -> String {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/"), dot != path.startIndex,
              path[path.index(before: dot)] != "/" else { return path }
        return String(path[..<dot])
    }
}

import GraphIR

/// The IEMOCAP release (`IEMOCAP_full_release`): labels from the EmoEvaluation files, audio from the sentence WAVs.
///
/// The layout read is the release's own:
///
///     Session1 ... Session5/dialog/EmoEvaluation/<dialog>.txt      labels (other folders below it are ignored)
///     SessionN/sentences/wav/<dialog>/<utterance id>.wav            audio, 16 kHz mono
///
/// An EmoEvaluation file starts with a header line beginning with `%`, then one block per utterance whose first
/// line is `[START - END]<TAB>UTTERANCE_ID<TAB>CODE<TAB>[V, A, D]`, for example
/// `[6.2901 - 8.2357]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>[2.5000, 2.5000, 2.5000]`, followed by the evaluators'
/// lines (`C-E1:<TAB>...`) and blank lines. Only the bracketed first lines are read. Codes are `neu`, `hap`, `exc`,
/// `ang`, `sad`, `fru`, `sur`, `fea`, `dis`, `oth` and `xxx` (no agreement).
///
/// With `fourClass` (neu -> neutral, hap and exc -> happy, ang -> angry, sad -> sad; the rest dropped) the full
/// release yields the usual 5,531 utterances: neutral 1,708, happy 1,636, angry 1,103, sad 1,084.
///
/// - Gender is the letter before the id's last three digits (`Ses01F_impro01_F000`: F, female;
///   `Ses01M_script02_1_M012`: M, male); the speaker is the session prefix and that letter (`Ses01F`, the woman of
///   session 1, also for her utterances in dialogs the man leads); the session is the folder (`Session1`).
/// - Dropped labels and missing WAVs are recorded in `Corpus.skipped` with the reason.
/// - A malformed bracketed line (unbalanced brackets, times that are not numbers, fewer than two tab-separated
///   fields, an id without the gender letter and three digits) is an error at file:line, not a skip: it means the
///   files are not the release's, and silently losing utterances would change every count. A repeated utterance id
///   is an error for the same reason.
public enum IEMOCAP {
    /// The four-class protocol: neutral, happy (with excited merged in), angry, sad.
    public static let fourClass = LabelMap(
        ["neu": "neutral", "hap": "happy", "exc": "happy", "ang": "angry", "sad": "sad"],
        classes: ["neutral", "happy", "angry", "sad"])

    /// The emotion codes of the EmoEvaluation files.
    public static let codes = ["neu", "hap", "exc", "ang", "sad", "fru", "sur", "fea", "dis", "oth", "xxx"]

    /// One bracketed line of an EmoEvaluation file.
    public struct Evaluation: Hashable, Sendable {
        public var start: Double
        public var end: Double
        public var id: String
        public var code: String
    }

    /// Reads the release under `root` (the folder holding `Session1` ... `Session5`; any `SessionN` folders present
    /// are read, in numeric order).
    public static func read(root: String, labels: LabelMap = fourClass) throws(DataError) -> Corpus {
        try labels.check()
        let sessions = try sessionFolders(root)
        guard !sessions.isEmpty else {
            throw DataError("no Session1 ... Session5 folders", file: root, hint: "give the IEMOCAP_full_release folder")
        }
        var utterances = [Utterance]()
        var skipped = [SkippedFile]()
        var seen = [String: (file: String, line: Int)]()
        for session in sessions {
            let sessionPath = DataFiles.join(root, session)
            let evaluationFolder = DataFiles.join(sessionPath, "dialog/EmoEvaluation")
            guard DataFiles.isDirectory(evaluationFolder) else {
                throw DataError("no dialog/EmoEvaluation folder in \(session)", file: evaluationFolder)
            }
            for name in try DataFiles.list(evaluationFolder) where name.hasSuffix(".txt") {
                let file = DataFiles.join(evaluationFolder, name)
                // Every .txt is read: one that cannot be (a broken link, a folder) would drop its utterances unseen.
                for (lineNumber, evaluation) in try evaluations(in: DataFiles.text(file), file: file) {
                    if let first = seen[evaluation.id] {
                        throw DataError([Diagnostic(
                            "utterance \(evaluation.id) is labelled twice",
                            at: SourceLocation(file: file, line: lineNumber, column: 1),
                            notes: [.init("first labelled here", at: SourceLocation(file: first.file, line: first.line, column: 1))])])
                    }
                    seen[evaluation.id] = (file, lineNumber)
                    guard let (speaker, gender) = speakerAndGender(of: evaluation.id) else {
                        // evaluations(in:) has checked the id; kept so that no input can trap.
                        throw DataError("utterance id '\(evaluation.id)' has no gender letter", file: file, line: lineNumber)
                    }
                    let wav = DataFiles.join(sessionPath, "sentences/wav/\(dialog(of: evaluation.id))/\(evaluation.id).wav")
                    guard let emotion = labels.className(for: evaluation.code) else {
                        skipped.append(SkippedFile(path: wav, reason: LabelMap.droppedReason(evaluation.code)))
                        continue
                    }
                    if let problem = DataFiles.audioProblem(wav) {
                        skipped.append(SkippedFile(path: wav, reason: problem, unreadable: true))
                        continue
                    }
                    utterances.append(Utterance(id: evaluation.id, path: wav, emotion: emotion, gender: gender,
                                                speaker: speaker, session: session))
                }
            }
        }
        return Corpus(name: "IEMOCAP", utterances: utterances, skipped: skipped)
    }

    /// The `SessionN` folders under `root`, in numeric order.
    static func sessionFolders(_ root: String) throws(DataError) -> [String] {
        try DataFiles.list(root)
            .compactMap { name -> (String, Int)? in
                guard name.hasPrefix("Session"), let number = Int(name.dropFirst(7)), number >= 0,
                      DataFiles.isDirectory(DataFiles.join(root, name)) else { return nil }
                return (name, number)
            }
            .sorted { $0.1 < $1.1 }
            .map(\.0)
    }

    /// The bracketed lines of an EmoEvaluation file with their 1-based line numbers.
    public static func evaluations(in text: String, file: String) throws(DataError) -> [(line: Int, evaluation: Evaluation)] {
        var result = [(line: Int, evaluation: Evaluation)]()
        for (offset, line) in DataFiles.lines(text).enumerated() {
            let trimmed = line.drop(while: { $0 == " " || $0 == "\t" })
            guard trimmed.hasPrefix("[") else { continue }
            result.append((offset + 1, try parse(trimmed, file: file, line: offset + 1)))
        }
        return result
    }

    /// Parses `[START - END]<TAB>ID<TAB>CODE<TAB>[V, A, D]`.
    static func parse(_ line: Substring, file: String, line number: Int) throws(DataError) -> Evaluation {
        let format = "expected [START - END]<TAB>UTTERANCE_ID<TAB>CODE<TAB>[V, A, D]"
        guard let close = line.firstIndex(of: "]") else {
            throw DataError("unbalanced brackets: no ']' after '['", file: file, line: number, hint: format)
        }
        let times = line[line.index(after: line.startIndex)..<close].split(separator: "-", omittingEmptySubsequences: false)
        guard times.count == 2,
              let start = Double(times[0].trimmedSpaces),
              let end = Double(times[1].trimmedSpaces),
              start.isFinite, end.isFinite else {
            throw DataError("the times '\(line[...close])' are not [START - END] in seconds", file: file, line: number, hint: format)
        }
        let fields = line[line.index(after: close)...].split(separator: "\t")
            .map { $0.trimmedSpaces }.filter { !$0.isEmpty }
        guard fields.count >= 2 else {
            throw DataError("expected an utterance id and an emotion code after the times", file: file, line: number, hint: format)
        }
        let id = fields[0], code = fields[1]
        guard speakerAndGender(of: id) != nil else {
            throw DataError("utterance id '\(id)' does not end in F or M and three digits, like Ses01F_impro01_F000",
                            file: file, line: number)
        }
        return Evaluation(start: start, end: end, id: id, code: code)
    }

    /// The speaker (`Ses01F`) and gender of an utterance id (`Ses01F_impro01_F000`); nil when the id does not start
    /// with `Ses` and two digits or does not end in `_F` or `_M` and three digits.
    public static func speakerAndGender(of id: String) -> (speaker: String, gender: Gender)? {
        let characters = Array(id)
        guard characters.count >= 10, characters.prefix(3) == ["S", "e", "s"],
              characters[3].isASCII, characters[3].isNumber, characters[4].isASCII, characters[4].isNumber else { return nil }
        let tail = characters.suffix(5)
        guard tail.count == 5, tail.first == "_", tail.dropFirst(2).allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let letter = tail[tail.startIndex + 1]
        let gender: Gender
        switch letter {
        case "F": gender = .female
        case "M": gender = .male
        default: return nil
        }
        return (String(characters.prefix(5)) + String(letter), gender)
    }

    /// The dialog of an utterance id: the id less its last `_` component (`Ses01M_script02_1_M012` ->
    /// `Ses01M_script02_1`).
    public static func dialog(of id: String) -> String {
        guard let underscore = id.lastIndex(of: "_") else { return id }
        return String(id[..<underscore])
    }
}

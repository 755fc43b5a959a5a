import Foundation

/// RAVDESS: the label, actor and gender are in each file name.
///
/// `03-01-05-01-02-01-12.wav` is modality (03 audio-only), vocal channel (01 speech, 02 song), emotion (01 neutral,
/// 02 calm, 03 happy, 04 sad, 05 angry, 06 fearful, 07 disgust, 08 surprised), intensity, statement, repetition and
/// actor (odd actors are male, even ones female). The speaker is the actor number as written (`12`); there are no
/// sessions. Every `.wav` under the folder is looked at (the release has one folder per actor).
///
/// The label map's keys are the emotion names above (`calm`), not the two-digit codes. Files whose name is not of
/// this form, video modalities, songs (unless `includeSong`), unknown emotion codes, dropped labels and repeated
/// names are recorded in `Corpus.skipped` with the reason.
public enum RAVDESS {
    /// The emotion names in code order (`01` is `neutral`).
    public static let emotions = ["neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"]
    /// All eight emotions, each its own class.
    public static let allEmotions = LabelMap.identity(emotions)
    /// neutral, happy, angry, sad (calm and the rest dropped).
    public static let fourClass = LabelMap.identity(["neutral", "happy", "angry", "sad"])

    /// The fields of a RAVDESS file name.
    public struct FileName: Hashable, Sendable {
        public var modality: Int
        public var vocalChannel: Int
        public var emotion: Int
        public var intensity: Int
        public var statement: Int
        public var repetition: Int
        public var actor: Int

        /// Parses a file name (with or without `.wav`); nil when it is not seven dash-separated two-digit numbers.
        public init?(_ name: String) {
            let stem = DataFiles.stem(name)
            let parts = stem.split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 7, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy { $0.isASCII && $0.isNumber } }) else { return nil }
            let numbers = parts.compactMap { Int($0) }
            guard numbers.count == 7 else { return nil }
            (modality, vocalChannel, emotion, intensity) = (numbers[0], numbers[1], numbers[2], numbers[3])
            (statement, repetition, actor) = (numbers[4], numbers[5], numbers[6])
        }

        /// Odd actors are male, even ones female.
        public var gender: Gender { actor % 2 == 1 ? .male : .female }
    }

    /// Reads every `.wav` under `root`.
    public static func read(root: String, labels: LabelMap = allEmotions, includeSong: Bool = false) throws(DataError) -> Corpus {
        try labels.check()
        let files = try DataFiles.files(under: root, suffix: ".wav")
        guard !files.isEmpty else { throw DataError("no .wav files under the folder", file: root) }
        var utterances = [Utterance]()
        var skipped = [SkippedFile]()
        var seen = [String: String]()
        for file in files {
            let stem = DataFiles.stem(file)
            guard let name = FileName(stem) else {
                skipped.append(SkippedFile(path: file, reason: "not a RAVDESS file name (modality-channel-emotion-intensity-statement-repetition-actor, like 03-01-05-01-02-01-12.wav)"))
                continue
            }
            guard name.modality == 3 else {
                skipped.append(SkippedFile(path: file, reason: "modality \(twoDigits(name.modality)) is not audio-only (03)"))
                continue
            }
            guard name.vocalChannel == 1 || (includeSong && name.vocalChannel == 2) else {
                let reason = name.vocalChannel == 2 ? "a song (vocal channel 02); only speech is read unless songs are included"
                    : "vocal channel \(twoDigits(name.vocalChannel)) is neither speech (01) nor song (02)"
                skipped.append(SkippedFile(path: file, reason: reason))
                continue
            }
            guard emotions.indices.contains(name.emotion - 1) else {
                skipped.append(SkippedFile(path: file, reason: "emotion code \(twoDigits(name.emotion)) is not one of 01-08"))
                continue
            }
            guard name.actor >= 1 else {
                skipped.append(SkippedFile(path: file, reason: "actor 00 is not an actor number"))
                continue
            }
            let label = emotions[name.emotion - 1]
            guard let emotion = labels.className(for: label) else {
                skipped.append(SkippedFile(path: file, reason: LabelMap.droppedReason(label)))
                continue
            }
            if let first = seen[stem] {
                skipped.append(SkippedFile(path: file, reason: "the same file name as \(first)"))
                continue
            }
            seen[stem] = file
            utterances.append(Utterance(id: stem, path: file, emotion: emotion, gender: name.gender,
                                        speaker: twoDigits(name.actor), session: nil))
        }
        return Corpus(name: "RAVDESS", utterances: utterances, skipped: skipped)
    }

    static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}

/// CREMA-D: the actor, sentence and label are in each file name; the gender is in `VideoDemographics.csv`.
///
/// `1001_DFA_ANG_XX.wav` is actor, sentence, emotion (ANG angry, DIS disgust, FEA fearful, HAP happy, NEU neutral,
/// SAD sad) and level (LO, MD, HI, XX unspecified). The speaker is the actor id (`1001`); there are no sessions.
/// Every `.wav` under the folder is looked at.
///
/// File names carry no gender, so the release's `VideoDemographics.csv` (columns `ActorID`, `Age`, `Sex`, ...) is
/// required: given explicitly, or found in the audio folder or the folder above it (the release keeps it next to
/// `AudioWAV/`). Without it reading is an error saying so. The label map's keys are the emotion names above.
/// Other file names, actors missing from the demographics, dropped labels and repeated names are recorded in
/// `Corpus.skipped`.
public enum CREMAD {
    /// The emotion codes of the file names and their names.
    public static let emotionCodes = ["ANG": "angry", "DIS": "disgust", "FEA": "fearful", "HAP": "happy", "NEU": "neutral", "SAD": "sad"]
    /// The emotion names.
    public static let emotions = ["neutral", "happy", "sad", "angry", "fearful", "disgust"]
    /// All six emotions, each its own class.
    public static let allEmotions = LabelMap.identity(emotions)
    /// neutral, happy, angry, sad.
    public static let fourClass = LabelMap.identity(["neutral", "happy", "angry", "sad"])
    /// The demographics file's name in the release.
    public static let demographicsFile = "VideoDemographics.csv"

    /// The fields of a CREMA-D file name.
    public struct FileName: Hashable, Sendable {
        public var actor: String
        public var sentence: String
        public var emotionCode: String
        public var level: String

        /// Parses `1001_DFA_ANG_XX` (with or without `.wav`); nil for other names.
        public init?(_ name: String) {
            let parts = DataFiles.stem(name).split(separator: "_", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 4, parts[0].count == 4, parts[0].allSatisfy({ $0.isASCII && $0.isNumber }),
                  !parts[1].isEmpty, parts[1].allSatisfy({ $0.isASCII && $0.isLetter }),
                  !parts[2].isEmpty, parts[2].allSatisfy({ $0.isASCII && $0.isLetter }),
                  !parts[3].isEmpty, parts[3].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else { return nil }
            (actor, sentence, emotionCode, level) = (parts[0], parts[1], parts[2], parts[3])
        }
    }

    /// Reads every `.wav` under `root`, with genders from `demographics` (default: found next to the audio).
    public static func read(root: String, labels: LabelMap = allEmotions, demographics: String? = nil) throws(DataError) -> Corpus {
        try labels.check()
        let files = try DataFiles.files(under: root, suffix: ".wav")
        guard !files.isEmpty else { throw DataError("no .wav files under the folder", file: root) }
        guard let demographicsPath = demographics ?? findDemographics(root: root) else {
            throw DataError("CREMA-D file names carry no gender, and there is no \(demographicsFile) in the folder or the one above it",
                            file: root, hint: "put the release's \(demographicsFile) (ActorID, Age, Sex, ...) next to the audio folder")
        }
        let genders = try readDemographics(demographicsPath)
        var utterances = [Utterance]()
        var skipped = [SkippedFile]()
        var seen = [String: String]()
        for file in files {
            let stem = DataFiles.stem(file)
            guard let name = FileName(stem) else {
                skipped.append(SkippedFile(path: file, reason: "not a CREMA-D file name (actor_sentence_emotion_level, like 1001_DFA_ANG_XX.wav)"))
                continue
            }
            guard let label = emotionCodes[name.emotionCode] else {
                skipped.append(SkippedFile(path: file, reason: "emotion code \(name.emotionCode) is not one of ANG, DIS, FEA, HAP, NEU, SAD"))
                continue
            }
            guard let emotion = labels.className(for: label) else {
                skipped.append(SkippedFile(path: file, reason: LabelMap.droppedReason(label)))
                continue
            }
            guard let gender = genders[name.actor] else {
                skipped.append(SkippedFile(path: file, reason: "actor \(name.actor) is not in \(demographicsFile)"))
                continue
            }
            if let first = seen[stem] {
                skipped.append(SkippedFile(path: file, reason: "the same file name as \(first)"))
                continue
            }
            seen[stem] = file
            utterances.append(Utterance(id: stem, path: file, emotion: emotion, gender: gender, speaker: name.actor, session: nil))
        }
        return Corpus(name: "CREMA-D", utterances: utterances, skipped: skipped)
    }

    /// `VideoDemographics.csv` in `root` or in its parent folder.
    static func findDemographics(root: String) -> String? {
        let trimmed = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
        let parent = URL(fileURLWithPath: trimmed).deletingLastPathComponent().path
        return [DataFiles.join(trimmed, demographicsFile), DataFiles.join(parent, demographicsFile)].first(where: DataFiles.isFile)
    }

    /// Actor id to gender from the demographics table (columns `ActorID` and `Sex`, values `Male`/`Female`).
    public static func readDemographics(_ path: String) throws(DataError) -> [String: Gender] {
        let text = try DataFiles.text(path)
        let records = try DelimitedText.parse(text, delimiter: DelimitedText.delimiter(path: path, text: text), file: path)
        guard let header = records.first else { throw DataError("the file is empty; it needs a header with ActorID and Sex", file: path, line: 1) }
        let names = header.fields.map { $0.trimmedSpaces.lowercased() }
        guard let actorColumn = names.firstIndex(of: "actorid"), let sexColumn = names.firstIndex(of: "sex") else {
            throw DataError("the header has no ActorID or no Sex column", file: path, line: header.line)
        }
        var genders = [String: Gender]()
        for record in records.dropFirst() {
            guard record.fields.indices.contains(actorColumn), record.fields.indices.contains(sexColumn) else {
                throw DataError("the row has \(record.fields.count) fields, the header \(header.fields.count)", file: path, line: record.line)
            }
            let actor = record.fields[actorColumn].trimmedSpaces
            let sex = record.fields[sexColumn].trimmedSpaces
            guard !actor.isEmpty else { throw DataError("the ActorID is empty", file: path, line: record.line) }
            guard let gender = Manifest.gender(sex) else {
                throw DataError("Sex '\(sex)' is not Male or Female", file: path, line: record.line)
            }
            genders[actor] = gender
        }
        return genders
    }
}

/// One labelled utterance of a corpus: where its audio is and what the protocol needs to know about it.
public struct Utterance: Hashable, Sendable {
    /// A unique id within the corpus (IEMOCAP's `Ses01F_impro01_F000`, a file stem for RAVDESS and CREMA-D, the path as
    /// written less its extension for manifests).
    public var id: String
    /// The audio file.
    public var path: String
    /// The emotion class name after the corpus's label map (`neutral`, `happy`, `angry`, `sad` for IEMOCAP's four).
    public var emotion: String
    public var gender: Gender
    /// The speaker id (`Ses01F`): folds and the leakage check work on it.
    public var speaker: String
    /// The recording session (`Session1`) or, for manifests, a fold column; nil when the corpus has none.
    public var session: String?

    public init(id: String, path: String, emotion: String, gender: Gender, speaker: String, session: String?) {
        self.id = id
        self.path = path
        self.emotion = emotion
        self.gender = gender
        self.speaker = speaker
        self.session = session
    }
}

/// The speaker's gender as the corpora label it.
public enum Gender: String, Hashable, Sendable, CaseIterable {
    case female
    case male

    /// The class index of the gender head: 0 female, 1 male.
    public var index: Int { self == .female ? 0 : 1 }
}

/// A file or entry a corpus reader left out, and why (an unknown label, a missing audio file, ...).
public struct SkippedFile: Hashable, Sendable {
    public var path: String
    public var reason: String
    /// Left out because the file cannot be read (missing, a broken link, a folder, an unreadable audio header), not
    /// by the corpus's rules (a label outside the classes, a file name that is not the corpus's).
    public var isUnreadable: Bool

    public init(path: String, reason: String, unreadable: Bool = false) {
        self.path = path
        self.reason = reason
        isUnreadable = unreadable
    }
}

/// The utterances of a corpus and what was left out.
public struct Corpus: Sendable {
    public var name: String
    public var utterances: [Utterance]
    public var skipped: [SkippedFile]

    public init(name: String, utterances: [Utterance], skipped: [SkippedFile]) {
        self.name = name
        self.utterances = utterances
        self.skipped = skipped
    }
}

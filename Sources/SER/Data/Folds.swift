import Kernels

/// How a fold's validation set is drawn: whole speakers taken from its training speakers, never from its test set.
///
/// `fraction` of the training speakers (rounded, at least one, and always leaving one for training) are moved to
/// validation with all their utterances, so validation is speaker-disjoint from training as the test set is. The
/// draw is a Philox permutation of the sorted training speakers keyed by (seed, fold index): the same seed gives the
/// same split on every machine. A fraction of 0 (`none`), or a single training speaker, gives no validation set.
public struct ValidationSplit: Hashable, Sendable {
    /// The share of training speakers moved to validation, in [0, 1).
    public var fraction: Double
    /// The seed of the draw.
    public var seed: UInt64

    public init(fraction: Double = 0.1, seed: UInt64 = 0) {
        self.fraction = fraction
        self.seed = seed
    }

    /// No validation set.
    public static let none = ValidationSplit(fraction: 0)
}

/// The utterances statistics may be fitted on: a fold's training split, and nothing else.
///
/// k-means, feature normalisation and class priors take a `FitData`, not utterances, and only a `Fold` can make
/// one (`Fold.trainingOnly`; the initialiser is private to this file), so fitting on validation or test data does not
/// compile.
public struct FitData: Sendable {
    /// The training utterances of the fold.
    public let utterances: [Utterance]
    /// The fold they come from.
    public let fold: String

    fileprivate init(utterances: [Utterance], fold: String) {
        self.utterances = utterances
        self.fold = fold
    }

    /// Utterances per class, in the order of `classes` (for class priors and weights); other emotions are not counted.
    public func classCounts(_ classes: [String]) -> [Int] {
        var counts = [Int](repeating: 0, count: classes.count)
        let index = Dictionary(classes.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        for utterance in utterances {
            if let i = index[utterance.emotion], counts.indices.contains(i) { counts[i] += 1 }
        }
        return counts
    }
}

/// One fold of a cross-validation protocol: training, validation and test utterances with no speaker in two of them.
///
/// The splits are fixed at construction, which checks them (`checkNoLeakage`): a fold that exists does not leak.
public struct Fold: Sendable {
    /// The held-out session or speaker (`Session1`, `Ses01F`, the manifest's fold value).
    public let name: String
    /// Training utterances. Code that fits statistics reads `trainingOnly` instead.
    public let train: [Utterance]
    /// Early stopping and model selection; speakers drawn from the training speakers.
    public let validation: [Utterance]
    /// The held-out utterances: no speaker of them is in training or validation.
    public let test: [Utterance]

    /// A fold from its splits; throws if they leak (see `checkNoLeakage`).
    public init(name: String, train: [Utterance], validation: [Utterance], test: [Utterance]) throws(DataError) {
        self.name = name
        self.train = train
        self.validation = validation
        self.test = test
        try checkNoLeakage()
    }

    /// The only way to get utterances for fitting statistics: the training split.
    public var trainingOnly: FitData { FitData(utterances: train, fold: name) }

    /// Throws when a test speaker is in training or validation, a validation speaker is in training, an audio file is
    /// in two splits, or the training or test split is empty.
    public func checkNoLeakage() throws(DataError) {
        guard !train.isEmpty else { throw DataError("fold \(name) has no training utterances") }
        guard !test.isEmpty else { throw DataError("fold \(name) has no test utterances") }
        let trainSpeakers = Set(train.map(\.speaker))
        let validationSpeakers = Set(validation.map(\.speaker))
        let testSpeakers = Set(test.map(\.speaker))
        if let speaker = testSpeakers.intersection(trainSpeakers).sorted().first {
            throw DataError("fold \(name): test speaker \(speaker) is also in training (\(train.filter { $0.speaker == speaker }.count) utterances)",
                            hint: "a speaker's utterances must all be on one side of the split; check the speaker and session columns")
        }
        if let speaker = testSpeakers.intersection(validationSpeakers).sorted().first {
            throw DataError("fold \(name): test speaker \(speaker) is also in validation")
        }
        if let speaker = validationSpeakers.intersection(trainSpeakers).sorted().first {
            throw DataError("fold \(name): validation speaker \(speaker) is also in training; validation must be speaker-disjoint")
        }
        var split = [String: String]()
        for (label, utterances) in [("training", train), ("validation", validation), ("test", test)] {
            for utterance in utterances {
                if let other = split[utterance.path], other != label {
                    throw DataError("fold \(name): \(utterance.path) is in both \(other) and \(label)")
                }
                split[utterance.path] = label
            }
        }
    }
}

/// The cross-validation protocols.
public enum FoldProtocol: String, CaseIterable, Sendable {
    /// One fold per session (5 on IEMOCAP): the test set is one session, its speakers never seen in training.
    case leaveOneSessionOut = "leave-one-session-out"
    /// One fold per speaker.
    case leaveOneSpeakerOut = "leave-one-speaker-out"
    /// One fold per value of a manifest's session or fold column (held in `Utterance.session`).
    case manifestFolds = "manifest-folds"
}

/// Builds the folds of a protocol.
public enum Folds {
    /// The folds of `protocol` over a corpus's utterances, each checked for leakage.
    public static func make(_ protocol: FoldProtocol, _ utterances: [Utterance], validation: ValidationSplit = ValidationSplit()) throws(DataError) -> [Fold] {
        switch `protocol` {
        case .leaveOneSessionOut: try leaveOneSessionOut(utterances, validation: validation)
        case .leaveOneSpeakerOut: try leaveOneSpeakerOut(utterances, validation: validation)
        case .manifestFolds: try bySession(utterances, validation: validation, what: "fold")
        }
    }

    /// One fold per session, in sorted session order (`Session1` before `Session2`, numbers by value).
    public static func leaveOneSessionOut(_ utterances: [Utterance], validation: ValidationSplit = ValidationSplit()) throws(DataError) -> [Fold] {
        try bySession(utterances, validation: validation, what: "session")
    }

    /// One fold per speaker, in sorted speaker order.
    public static func leaveOneSpeakerOut(_ utterances: [Utterance], validation: ValidationSplit = ValidationSplit()) throws(DataError) -> [Fold] {
        let speakers = Set(utterances.map(\.speaker)).sorted(by: naturalOrder)
        guard speakers.count >= 2 else {
            throw DataError("leave-one-speaker-out needs at least two speakers; the utterances have \(speakers.count)")
        }
        return try build(groups: speakers, validation: validation, utterances) { $0.speaker }
    }

    static func bySession(_ utterances: [Utterance], validation: ValidationSplit, what: String) throws(DataError) -> [Fold] {
        if let missing = utterances.first(where: { $0.session == nil }) {
            let count = utterances.filter { $0.session == nil }.count
            throw DataError("\(count) utterances have no \(what) (the first is \(missing.id))",
                            hint: what == "fold" ? "add a session or fold column to the manifest" : "this corpus has no sessions; use leave-one-speaker-out")
        }
        let sessions = Set(utterances.compactMap(\.session)).sorted(by: naturalOrder)
        guard sessions.count >= 2 else {
            throw DataError("leaving one \(what) out needs at least two \(what)s; the utterances have \(sessions.count)")
        }
        return try build(groups: sessions, validation: validation, utterances) { $0.session ?? "" }
    }

    static func build(groups: [String], validation: ValidationSplit, _ utterances: [Utterance],
                      key: (Utterance) -> String) throws(DataError) -> [Fold] {
        guard validation.fraction.isFinite, validation.fraction >= 0, validation.fraction < 1 else {
            throw DataError("the validation fraction must be at least 0 and below 1, got \(validation.fraction)")
        }
        var folds = [Fold]()
        for (index, group) in groups.enumerated() {
            let test = utterances.filter { key($0) == group }
            let rest = utterances.filter { key($0) != group }
            let chosen = validationSpeakers(of: rest, split: validation, fold: index)
            folds.append(try Fold(name: group,
                                  train: rest.filter { !chosen.contains($0.speaker) },
                                  validation: rest.filter { chosen.contains($0.speaker) },
                                  test: test))
        }
        return folds
    }

    /// The validation speakers drawn from the training utterances of fold `fold`.
    static func validationSpeakers(of training: [Utterance], split: ValidationSplit, fold: Int) -> Set<String> {
        let speakers = Set(training.map(\.speaker)).sorted()
        guard split.fraction > 0, speakers.count >= 2 else { return [] }
        let wanted = min(speakers.count - 1, max(1, Int((split.fraction * Double(speakers.count)).rounded())))
        // Keyed by the validation tag and the fold's place, not shared with the batch shuffles' streams.
        let stream = Philox(seed: split.seed, step: 0x5641_4C49_4400_0000 | UInt64(truncatingIfNeeded: fold), node: 0x5641_4C)
        return Set(Shuffle.permutation(speakers.count, stream: stream).prefix(wanted).map { speakers[$0] })
    }

    /// `Session2` before `Session10`: names compared by the text before their trailing number, then by that
    /// number's value (a name without one first), then as text. A strict total order, so sorting a set of names
    /// gives the same sequence on every run.
    static func naturalOrder(_ a: String, _ b: String) -> Bool {
        func split(_ s: String) -> (String, Int) {
            let digits = s.reversed().prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, digits.count <= 18, let number = Int(String(digits.reversed())) else { return (s, -1) }
            return (String(s.dropLast(digits.count)), number)
        }
        let (prefixA, numberA) = split(a), (prefixB, numberB) = split(b)
        return (prefixA, numberA, a) < (prefixB, numberB, b)
    }
}

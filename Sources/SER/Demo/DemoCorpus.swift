import FileSystem
import Audio
import Dispatch
import Foundation
import GraphIR

/// The embedded demo corpus: synthetic emotional speech in the IEMOCAP release layout, made on the spot.
///
/// It lets the whole pipeline (reading IEMOCAP, folds by session, training, evaluation) run on a fresh machine
/// without a download. It is a smoke test, not an emotion benchmark: the speech is wordless babble from
/// `SpeechSynthesizer`, and its four emotions differ by construction in pitch, rate, loudness and voice quality, so
/// accuracy on it says that training works, not how well a model recognises emotions.
///
/// Layout, as IEMOCAP's (`Session1` ... `Session5` under the folder):
///
///     SessionN/sentences/wav/<dialog>/<utterance>.wav     16 kHz mono 16-bit PCM, 1.5 to 4 s
///     SessionN/dialog/EmoEvaluation/<dialog>.txt          IEMOCAP's label file format (`EmoEvaluation`)
///
/// Each session has a female and a male speaker (`Ses01F`, `Ses01M`, ...); both speak in each of its dialogs
/// (`Ses01F_impro01`, `Ses01M_impro01`, `Ses01F_script01_1`, ...: up to 6, about 16 utterances each). Utterance ids
/// are the dialog and the speaker's gender and number (`Ses01F_impro01_F000`, `Ses01F_impro01_M000`).
///
/// Labels: `utterancesPerClass` utterances of each of neutral, happy, angry and sad, dealt round-robin over the 10
/// speakers (each speaker gets `utterancesPerClass / 10` or one more of each class). Happy utterances number 1, 4,
/// 7, ... (every third from the second) are labelled `exc`, which the four-class protocol counts as happy:
/// `excitedCount(utterancesPerClass:)` = (utterancesPerClass + 1) / 3 of them. On top, to exercise readers, one
/// utterance per speaker carries a label outside the four classes (`droppedLabels`): 5 `fru`, 3 `xxx`, 2 `sur`.
/// A `DEMO_CORPUS.txt` at the top says what the folder is.
public enum DemoCorpus {
    /// The corpus name in the returned `Corpus`.
    public static let name = "demo"
    /// Sessions, each with one female and one male speaker.
    public static let sessionCount = 5
    /// The utterances written with labels the four-class protocol drops, on top of the balanced ones, and how many.
    public static let droppedLabels: [(code: String, count: Int)] = [("fru", 5), ("xxx", 3), ("sur", 2)]
    /// The extra utterance of each speaker (speaker index: 2 (session - 1) + 0 for female, + 1 for male).
    static let extraLabels: [DemoLabel] = [.fru, .xxx, .sur, .fru, .fru, .xxx, .sur, .fru, .fru, .xxx]
    /// The largest `utterancesPerClass` accepted.
    public static let maximumUtterancesPerClass = 10_000
    /// The file at the top of the folder that marks it as a demo corpus (rewriting such a folder replaces it).
    public static let markerFile = "DEMO_CORPUS.txt"

    /// How many of the happy utterances are labelled `exc`.
    public static func excitedCount(utterancesPerClass: Int) -> Int { (max(0, utterancesPerClass) + 1) / 3 }

    /// What `generate` wrote.
    public struct Summary: Sendable {
        /// The four-class utterances, and the dropped ones in `skipped`.
        public var corpus: Corpus
        /// Utterances written per label code (`neu`, `hap`, `exc`, `ang`, `sad`, `fru`, `xxx`, `sur`).
        public var labelCounts: [String: Int]
        /// The speakers (`Ses01F`, ...) and sessions (`Session1`, ...) written, dropped utterances included.
        public var speakers: [String]
        public var sessions: [String]
        /// Dialogs (and label files) written.
        public var dialogs: Int
        /// The audio written, in seconds (all utterances).
        public var seconds: Double
    }

    /// Writes the corpus into `directory` and returns its four-class utterances (dropped ones in `skipped`).
    ///
    /// The folder is created if needed. It must be empty or hold a demo corpus (marked by `markerFile`), whose
    /// sessions are replaced. The same seed gives the same bytes on any machine and thread count.
    public static func write(to directory: String, utterancesPerClass: Int, seed: UInt64) throws(DataError) -> Corpus {
        try generate(in: directory, utterancesPerClass: utterancesPerClass, seed: seed).corpus
    }

    /// `write(to:utterancesPerClass:seed:)` with counts for a report.
    public static func generate(in directory: String, utterancesPerClass: Int, seed: UInt64) throws(DataError) -> Summary {
        guard (1...maximumUtterancesPerClass).contains(utterancesPerClass) else {
            throw DataError("utterances per class must be from 1 to \(maximumUtterancesPerClass), got \(utterancesPerClass)")
        }
        let root = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        try prepare(root, utterancesPerClass: utterancesPerClass, seed: seed)
        let plan = Plan(utterancesPerClass: utterancesPerClass, seed: seed)

        // Folders first, then the audio in parallel (each utterance from its own streams), then the labels.
        for dialog in plan.dialogs {
            try makeFolder(root + "/" + dialog.session + "/sentences/wav/" + dialog.name)
        }
        for session in 1...sessionCount { try makeFolder(root + "/Session\(session)/dialog/EmoEvaluation") }
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: plan.utterances.count) { index in
            let utterance = plan.utterances[index]
            let synthesizer = SpeechSynthesizer(voice: plan.voices[utterance.speaker], prosody: Prosody(utterance.label.voicedAs))
            let samples = synthesizer.synthesize(sampleCount: utterance.sampleCount, seed: seed, utterance: utterance.index)
            do throws(AudioError) {
                try AudioFile.writeWAV(samples, sampleRate: SpeechSynthesizer.sampleRate, to: root + "/" + utterance.relativePath)
            } catch {
                failures.record(error.diagnostics, at: index)
            }
        }
        if let diagnostics = failures.first { throw DataError(diagnostics) }
        for dialog in plan.dialogs {
            let turns = dialog.utterances.compactMap { index in plan.utterances.indices.contains(index) ? plan.utterances[index].turn : nil }
            try writeText(EmoEvaluation.text(turns), to: root + "/" + dialog.session + "/dialog/EmoEvaluation/" + dialog.name + ".txt")
        }

        var utterances = [Utterance](), skipped = [SkippedFile](), counts = [String: Int](), samples = 0
        for utterance in plan.utterances {
            counts[utterance.label.rawValue, default: 0] += 1
            samples += utterance.sampleCount
            let path = root + "/" + utterance.relativePath
            if let emotion = utterance.label.emotion {
                utterances.append(Utterance(id: utterance.id, path: path, emotion: emotion.rawValue, gender: utterance.gender,
                                            speaker: utterance.speakerID, session: utterance.session))
            } else {
                skipped.append(SkippedFile(path: path, reason: "label '\(utterance.label.rawValue)' is not one of the four classes (neu, hap or exc, ang, sad)"))
            }
        }
        utterances.sort { $0.id < $1.id }
        skipped.sort { $0.path < $1.path }
        return Summary(corpus: Corpus(name: name, utterances: utterances, skipped: skipped), labelCounts: counts,
                       speakers: Set(plan.utterances.map(\.speakerID)).sorted(),
                       sessions: Set(plan.utterances.map(\.session)).sorted(), dialogs: plan.dialogs.count,
                       seconds: Double(samples) / Double(SpeechSynthesizer.sampleRate))
    }

    // MARK: - Files

    /// Creates the folder or checks that it is empty or a demo corpus; writes the marker; removes old sessions.
    private static func prepare(_ root: String, utterancesPerClass: Int, seed: UInt64) throws(DataError) {
        let files = FileManager.default
        var isFolder: ObjCBool = false
        if files.fileExists(atPath: root, isDirectory: &isFolder) {
            guard isFolder.boolValue else { throw DataError("exists and is not a folder", file: root) }
            let entries = (try? files.contentsOfDirectory(atPath: root)) ?? []
            if !entries.isEmpty, !entries.contains(markerFile) {
                throw DataError("the folder is not empty and holds no demo corpus (no \(markerFile))", file: root,
                                hint: "give a new or empty folder; a demo corpus folder is rewritten in place")
            }
        } else {
            try makeFolder(root)
        }
        let marker = """
            Synthetic demo corpus in the IEMOCAP release layout, written by `gmptl corpus synth` \
            (\(utterancesPerClass) utterances per class, seed \(seed)).
            Wordless synthetic speech for smoke tests of the pipeline: not an emotion benchmark.
            Rewriting this folder with `gmptl corpus synth` replaces Session1 ... Session\(sessionCount).

            """
        try writeText(marker, to: root + "/" + markerFile)
        for session in 1...sessionCount {
            let path = root + "/Session\(session)"
            guard files.fileExists(atPath: path) else { continue }
            do {
                try files.removeItem(atPath: path)
            } catch {
                throw DataError("cannot remove the previous demo session: \(error.localizedDescription)", file: path)
            }
        }
    }

    private static func makeFolder(_ path: String) throws(DataError) {
        do {
            try Folder.create(path)
        } catch {
            throw DataError(error.message, file: path)
        }
    }

    /// Writes UTF-8 text atomically (`AtomicFile`).
    private static func writeText(_ text: String, to path: String) throws(DataError) {
        do {
            try AtomicFile.write(text, to: path)
        } catch {
            throw DataError(error.message, file: path)
        }
    }

    /// The first failure of the parallel writers, by utterance order (so the message does not depend on timing).
    private final class Failures: @unchecked Sendable {
        private let lock = NSLock()
        private var failures: [Int: [Diagnostic]] = [:]

        func record(_ diagnostics: [Diagnostic], at index: Int) {
            lock.lock()
            failures[index] = diagnostics
            lock.unlock()
        }

        var first: [Diagnostic]? {
            lock.lock()
            defer { lock.unlock() }
            return failures.keys.min().flatMap { failures[$0] }
        }
    }
}

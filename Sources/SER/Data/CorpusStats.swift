import Audio
import Foundation

/// What a corpus holds: utterances, hours, counts by emotion, gender, session, speaker and sample rate, and what was
/// left out and why.
///
/// Durations come from the audio headers (`AudioFile.info`), not the samples, so a whole corpus is counted in
/// seconds. A file whose header cannot be read joins `skipped` with the reason and is left out of every count.
public struct CorpusStats: Hashable, Sendable {
    public var corpus: String
    public var utterances: Int
    public var seconds: Double
    public var byEmotion: [String: Int]
    public var byGender: [String: Int]
    /// Utterances per session; those without one are not counted here.
    public var bySession: [String: Int]
    public var bySpeaker: [String: Int]
    /// Utterances per sample rate in Hz (`"16000"`), to find files that need resampling.
    public var bySampleRate: [String: Int]
    public var skipped: [SkippedFile]

    /// Counts a corpus; with `durations` false no audio header is read (seconds and rates stay empty).
    public init(_ corpus: Corpus, durations: Bool = true) {
        self.corpus = corpus.name
        var kept = [Utterance]()
        var skipped = corpus.skipped
        var seconds = 0.0
        var rates = [String: Int]()
        for utterance in corpus.utterances {
            guard durations else {
                kept.append(utterance)
                continue
            }
            do {
                let info = try AudioFile.info(utterance.path)
                seconds += info.seconds
                rates[String(info.sampleRate), default: 0] += 1
                kept.append(utterance)
            } catch {
                let message = error.diagnostics.first?.message ?? "cannot read the audio header"
                let prefix = utterance.path + ": "
                skipped.append(SkippedFile(path: utterance.path, reason: message.hasPrefix(prefix) ? String(message.dropFirst(prefix.count)) : message,
                                           unreadable: true))
            }
        }
        utterances = kept.count
        self.seconds = seconds
        byEmotion = Self.count(kept.map(\.emotion))
        byGender = Self.count(kept.map(\.gender.rawValue))
        bySession = Self.count(kept.compactMap(\.session))
        bySpeaker = Self.count(kept.map(\.speaker))
        bySampleRate = rates
        self.skipped = skipped
    }

    static func count(_ values: [String]) -> [String: Int] {
        var counts = [String: Int]()
        for value in values { counts[value, default: 0] += 1 }
        return counts
    }

    /// Hours of audio.
    public var hours: Double { seconds / 3_600 }

    /// The stats as a JSON object, keys sorted at every level, two-space indentation: `by_emotion`, `by_gender`,
    /// `by_sample_rate`, `by_session`, `by_speaker`, `corpus`, `hours`, `seconds`, `skipped` (a list of
    /// `{path, reason, unreadable}` in reading order; `unreadable` is true for a file that cannot be read, false for one
    /// left out by the corpus's rules), `utterances`. Seconds are rounded to milliseconds, hours to 4 decimals.
    public var json: String {
        func counts(_ values: [String: Int]) -> JSONText { .object(values.mapValues { .number(String($0)) }) }
        let object = JSONText.object([
            "by_emotion": counts(byEmotion),
            "by_gender": counts(byGender),
            "by_sample_rate": counts(bySampleRate),
            "by_session": counts(bySession),
            "by_speaker": counts(bySpeaker),
            "corpus": .string(corpus),
            "hours": .number(String(format: "%.4f", hours)),
            "seconds": .number(String(format: "%.3f", seconds)),
            "skipped": .array(skipped.map {
                .object(["path": .string($0.path), "reason": .string($0.reason), "unreadable": .number($0.isUnreadable ? "true" : "false")])
            }),
            "utterances": .number(String(utterances)),
        ])
        return object.rendered(indent: "")
    }

    /// The stats as a short report for a person.
    public var text: String {
        func line(_ label: String, _ values: [String: Int]) -> String {
            let items = values.sorted { $0.value != $1.value ? $0.value > $1.value : Folds.naturalOrder($0.key, $1.key) }
            return label.padding(toLength: 12, withPad: " ", startingAt: 0)
                + (items.isEmpty ? "-" : items.map { "\($0.key) \(Self.grouped($0.value))" }.joined(separator: ", "))
        }
        var lines = [
            "corpus      \(corpus)",
            "utterances  \(Self.grouped(utterances))",
            "hours       \(String(format: "%.2f", hours)) (\(String(format: "%.1f", seconds)) s)",
            line("emotion", byEmotion),
            line("gender", byGender),
            line("session", bySession),
            "speakers    \(bySpeaker.count)",
            line("sample rate", bySampleRate),
            "skipped     \(Self.grouped(skipped.count))",
        ]
        let summary = SkippedSummary(skipped)
        lines += summary.reasonLines
        if !summary.unreadable.isEmpty {
            lines.append("unreadable  \(Self.grouped(summary.unreadable.count))")
            for file in summary.unreadable { lines.append("  \(file.path): \(file.reason)") }
        }
        return lines.joined(separator: "\n")
    }

    /// `5531` as `5,531`.
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (offset, character) in digits.enumerated() {
            if offset > 0, (digits.count - offset) % 3 == 0 { result.append(",") }
            result.append(character)
        }
        return value < 0 ? "-" + result : result
    }
}

/// What a corpus reader left out, grouped for a person: the count of each reason, most frequent first, and the
/// files left out because they cannot be read (missing, a broken link, a folder, an unreadable header), which are
/// listed by path: they are usually a mistake in the corpus folder, not a choice of classes.
public struct SkippedSummary: Sendable {
    public var reasons: [(reason: String, count: Int)]
    /// Files left out because they could not be read, in reading order.
    public var unreadable: [SkippedFile]

    public init(_ skipped: [SkippedFile]) {
        var counts = [String: Int]()
        for file in skipped { counts[file.reason, default: 0] += 1 }
        reasons = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { ($0.key, $0.value) }
        unreadable = skipped.filter(\.isUnreadable)
    }

    /// Each reason with its count, indented: `  1,708    label xxx is not in the classes`.
    public var reasonLines: [String] {
        reasons.map { "  \(CorpusStats.grouped($0.count).padding(toLength: 8, withPad: " ", startingAt: 0)) \($0.reason)" }
    }

    /// Lines for a log: `corpus NAME: N utterances, M left out`, each reason with its count, then up to `listing`
    /// unreadable files by path.
    public static func lines(for corpus: Corpus, listing: Int = 20) -> [String] {
        let summary = SkippedSummary(corpus.skipped)
        var lines = ["corpus \(corpus.name): \(CorpusStats.grouped(corpus.utterances.count)) utterances, "
                     + "\(CorpusStats.grouped(corpus.skipped.count)) left out"]
        lines += summary.reasonLines
        if !summary.unreadable.isEmpty {
            lines.append("  left out because they cannot be read:")
            for file in summary.unreadable.prefix(listing) { lines.append("    \(file.path): \(file.reason)") }
            if summary.unreadable.count > listing {
                lines.append("    and \(summary.unreadable.count - listing) more (gmptl data stats --json lists them all)")
            }
        }
        return lines
    }
}

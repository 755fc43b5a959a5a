/// The text of an IEMOCAP `EmoEvaluation/<dialog>.txt` label file.
///
/// The format as the release writes it: a header line, a blank line, then for each turn in time order a block
///
///     [6.2901 - 8.2357]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>[2.5000, 2.5000, 2.5000]
///     C-E1:<TAB>Neutral;<TAB>()
///     A-E1:<TAB>val 3; act 2; dom  2;<TAB>()
///
/// (times in seconds from the start of the dialog with 4 decimals, the majority code, the mean valence, activation
/// and dominance; then one categorical `C-` line and one attribute `A-` line per evaluator), each block followed by
/// a blank line.
enum EmoEvaluation {
    static let header = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]"

    /// One turn of a dialog.
    struct Turn: Sendable {
        var id: String
        var code: String
        /// Start and end in units of 0.1 ms from the start of the dialog.
        var start: Int
        var end: Int
        /// The categorical rating of each evaluator (E1, E2, ...).
        var categories: [String]
        /// The valence, activation and dominance ratings of each evaluator.
        var attributes: [SIMD3<Int>]
    }

    /// The file's text for turns in time order.
    static func text(_ turns: [Turn]) -> String {
        var text = header + "\n\n"
        for turn in turns {
            var mean = SIMD3<Double>(0, 0, 0)
            for rating in turn.attributes { mean += SIMD3(Double(rating.x), Double(rating.y), Double(rating.z)) }
            mean /= Double(max(1, turn.attributes.count))
            let dimensions = [mean.x, mean.y, mean.z].map { decimal(Int(($0 * 10_000).rounded())) }
            text += "[\(decimal(turn.start)) - \(decimal(turn.end))]\t\(turn.id)\t\(turn.code)\t[\(dimensions.joined(separator: ", "))]\n"
            for (index, category) in turn.categories.enumerated() {
                text += "C-E\(index + 1):\t\(category);\t()\n"
            }
            for (index, rating) in turn.attributes.enumerated() {
                text += "A-E\(index + 1):\tval \(rating.x); act \(rating.y); dom  \(rating.z);\t()\n"
            }
            text += "\n"
        }
        return text
    }

    /// A count of 0.1 ms units as seconds with 4 decimals (`62901` -> `6.2901`), without locale or rounding surprises.
    static func decimal(_ tenThousandths: Int) -> String {
        let sign = tenThousandths < 0 ? "-" : ""
        let magnitude = tenThousandths.magnitude
        let fraction = String(magnitude % 10_000)
        return "\(sign)\(magnitude / 10_000).\(String(repeating: "0", count: 4 - fraction.count))\(fraction)"
    }

    /// The length of `samples` samples at `sampleRate` in units of 0.1 ms, rounded half up.
    static func duration(samples: Int, sampleRate: Int) -> Int {
        guard sampleRate > 0 else { return 0 }
        return (samples * 10_000 * 2 + sampleRate) / (2 * sampleRate)
    }
}

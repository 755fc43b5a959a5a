/// "Did you mean ...?" for unknown names: the closest candidate by edit distance, if it is close enough.
public enum Suggestion {
    /// Names longer than this get no suggestion (nobody mistypes 200 characters; the distance is quadratic).
    public static let longestName = 200
    /// Character pairs compared for one suggestion at most, so that a hint costs milliseconds whatever the input.
    static let workLimit = 4_000_000

    /// The candidate nearest to `name` (Damerau-Levenshtein distance, case-insensitive), when the distance is at
    /// most a third of the name's length (at least 1); ties go to the earlier candidate. Candidates whose length
    /// alone puts them too far are skipped; the search stops after `workLimit` comparisons.
    public static func closest(to name: String, in candidates: some Sequence<String>) -> String? {
        guard name.count <= longestName else { return nil }
        let target = Array(name.lowercased())
        let limit = max(1, target.count / 3)
        var best: (name: String, distance: Int)?
        var work = 0
        for candidate in candidates {
            let count = candidate.count
            guard abs(count - target.count) <= limit, count <= longestName else { continue }
            work += max(1, count * target.count)
            if work > workLimit { break }
            let distance = editDistance(target, Array(candidate.lowercased()))
            if distance <= limit, distance < (best?.distance ?? .max) { best = (candidate, distance) }
        }
        return best?.name
    }

    /// A hint sentence (`did you mean 'x'?`) or nil.
    public static func hint(for name: String, in candidates: some Sequence<String>) -> String? {
        closest(to: name, in: candidates).map { "did you mean '\($0)'?" }
    }

    /// Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions.
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    value = min(value, previous2[j - 2] + 1)
                }
                current[j] = value
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }
}

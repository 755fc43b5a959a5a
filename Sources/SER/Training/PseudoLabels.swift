import Runtime

/// Frame-level pseudo-labels of one fold: for each tap and cluster count, the label of every valid frame of every
/// training utterance, and the centroids they come from.
public struct PseudoLabels: Sendable {
    /// Utterance ids, in the order of `offsets`.
    public var ids: [String]
    /// `offsets[i] ..< offsets[i + 1]` are utterance i's frames in every label array.
    public var offsets: [Int]
    /// Labels by target name (`pseudo_labels.hidden.6.k64`): one per frame, utterances concatenated.
    public var labels: [String: [Int32]]
    /// Centroids by target name, `[K, D]` row-major, with D.
    public var centroids: [String: (values: [Float], dimension: Int)]

    /// The labels of one utterance for one target (nil when the utterance was not labelled).
    public func labels(of id: String, target: String) -> ArraySlice<Int32>? {
        guard let index = index[id], let all = labels[target] else { return nil }
        return all[offsets[index]..<offsets[index + 1]]
    }

    private var index: [String: Int] { Dictionary(ids.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first }) }
}

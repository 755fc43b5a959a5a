import Runtime

/// Frame-level pseudo-labels of one fold: for each tap and cluster count, the label of every valid frame of every
/// training utterance, and the centroids they come from.
public struct PseudoLabels: Sendable {
    /// Utterance ids, in the order of `offsets`.
    public let ids: [String]
    /// `offsets[i] ..< offsets[i + 1]` are utterance i's frames in every label array.
    public let offsets: [Int]
    /// Labels by target name (`pseudo_labels.hidden.6.k64`): one per frame, utterances concatenated.
    public let labels: [String: [Int32]]
    /// Centroids by target name, `[K, D]` row-major, with D.
    public let centroids: [String: (values: [Float], dimension: Int)]
    /// Utterance id to its position in `ids`.
    private let index: [String: Int]

    public init(ids: [String], offsets: [Int], labels: [String: [Int32]], centroids: [String: (values: [Float], dimension: Int)]) {
        self.ids = ids
        self.offsets = offsets
        self.labels = labels
        self.centroids = centroids
        index = Dictionary(ids.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The labels of one utterance for one target (nil when the utterance was not labelled).
    public func labels(of id: String, target: String) -> ArraySlice<Int32>? {
        guard let position = index[id], position + 1 < offsets.count, let all = labels[target],
              offsets[position + 1] <= all.count else { return nil }
        return all[offsets[position]..<offsets[position + 1]]
    }
}

/// How a corpus's own labels become the classes of an experiment, and the order of those classes.
///
/// The map and the class order come from the caller (later from the spec), never from a reader: a reader keeps an
/// utterance whose label maps to one of `classes` and records every other one in `Corpus.skipped` with the reason
/// `label fru is not in the classes`.
public struct LabelMap: Hashable, Sendable {
    /// The corpus's label (IEMOCAP's `exc`, RAVDESS's `calm`, a manifest's emotion value) to a class name.
    public var mapping: [String: String]
    /// The class names in the classifier's output order.
    public var classes: [String]

    /// A map and the class order. Labels mapped to a name that is not in `classes` are dropped like unmapped ones;
    /// `check()` reports such a map as an error.
    public init(_ mapping: [String: String], classes: [String]) {
        self.mapping = mapping
        self.classes = classes
    }

    /// The identity map over `classes`: each class is its own label.
    public static func identity(_ classes: [String]) -> LabelMap {
        LabelMap(Dictionary(classes.map { ($0, $0) }, uniquingKeysWith: { first, _ in first }), classes: classes)
    }

    /// The class of a corpus label, or nil when the label is dropped.
    public func className(for label: String) -> String? {
        guard let name = mapping[label], classes.contains(name) else { return nil }
        return name
    }

    /// The index of a class name in `classes`.
    public func index(of className: String) -> Int? { classes.firstIndex(of: className) }

    /// The reason a reader records for an utterance whose label is dropped.
    public static func droppedReason(_ label: String) -> String { "label \(label) is not in the classes" }

    /// Throws when the classes are empty or repeated, or a label maps to a name outside them.
    public func check() throws(DataError) {
        guard !classes.isEmpty else { throw DataError("the label map has no classes") }
        var seen = Set<String>()
        for name in classes where !seen.insert(name).inserted {
            throw DataError("class '\(name)' is listed twice in the label map")
        }
        for (label, name) in mapping.sorted(by: { $0.key < $1.key }) where !seen.contains(name) {
            throw DataError("label '\(label)' maps to '\(name)', which is not one of the classes \(classes.joined(separator: ", "))")
        }
    }
}

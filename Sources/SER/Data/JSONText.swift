import Runtime

/// A JSON value written with sorted keys, for output that tests can compare as text.
enum JSONText {
    case string(String)
    /// A number already formatted.
    case number(String)
    case array([JSONText])
    case object([String: JSONText])

    func rendered(indent: String) -> String {
        let inner = indent + "  "
        switch self {
        case let .string(text): return Self.quoted(text)
        case let .number(text): return text
        case let .array(items):
            guard !items.isEmpty else { return "[]" }
            return "[\n" + items.map { inner + $0.rendered(indent: inner) }.joined(separator: ",\n") + "\n\(indent)]"
        case let .object(members):
            guard !members.isEmpty else { return "{}" }
            return "{\n" + members.sorted { $0.key < $1.key }
                .map { inner + Self.quoted($0.key) + ": " + $0.value.rendered(indent: inner) }
                .joined(separator: ",\n") + "\n\(indent)}"
        }
    }

    static func quoted(_ text: String) -> String { JSONValues.quoted(text) }
}

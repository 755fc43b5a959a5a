/// One problem found in a user's input, with where it is and what to do about it.
///
/// Every stage that reads user input has its own error type (`SpecError` for YAML specs, `ShapeError` for shape
/// checking, ...) holding one or more diagnostics; `Diagnostic.render` is the one place that turns any of them
/// into text for a person.
public struct Diagnostic: Hashable, Sendable {
    public enum Severity: String, Sendable {
        case error
        case warning
    }

    /// A related place, for example where the other operand of a mismatched add was made.
    public struct Note: Hashable, Sendable {
        public var location: SourceLocation?
        public var message: String

        public init(_ message: String, at location: SourceLocation? = nil) {
            self.message = message
            self.location = location
        }
    }

    public var severity: Severity
    /// Where the problem is; nil when it has no place in a file (a command-line override, say).
    public var location: SourceLocation?
    /// The path of keys that leads to the problem in the spec (`blocks.encoder_layer.nodes.attn.heads`).
    public var keyPath: String?
    /// One line saying what is wrong.
    public var message: String
    /// What to do about it, when there is something useful to say (`did you mean 'layer_norm'?`).
    public var hint: String?
    public var notes: [Note]

    public init(
        _ message: String, at location: SourceLocation? = nil, keyPath: String? = nil, hint: String? = nil,
        notes: [Note] = [], severity: Severity = .error
    ) {
        self.severity = severity
        self.message = message
        self.location = location
        self.keyPath = keyPath
        self.hint = hint
        self.notes = notes
    }

    /// The diagnostic as a compiler prints it:
    ///
    ///     graphs/model.yaml:12:11: error: unknown op 'layernorm' (in blocks.encoder_layer.nodes.n1.op)
    ///       hint: did you mean 'layer_norm'?
    ///       graphs/model.yaml:3:5: note: the block is defined here
    public var rendered: String {
        var text = location.map { "\($0): " } ?? ""
        text += "\(severity.rawValue): \(message)"
        if let keyPath, !keyPath.isEmpty { text += " (in \(keyPath))" }
        if let hint { text += "\n  hint: \(hint)" }
        for note in notes {
            text += "\n  " + (note.location.map { "\($0): " } ?? "") + "note: \(note.message)"
        }
        return text
    }
}

/// An error made of diagnostics; the error type of each stage conforms.
public protocol DiagnosticError: Error {
    var diagnostics: [Diagnostic] { get }
}

extension Diagnostic {
    /// Text for any error: every diagnostic of a `DiagnosticError` in source order, one block each, or the error's
    /// own description for other errors.
    public static func render(_ error: any Error) -> String {
        guard let error = error as? any DiagnosticError else { return "error: \(error)" }
        return sorted(error.diagnostics).map(\.rendered).joined(separator: "\n")
    }

    /// Diagnostics in file, line and column order; those without a place come first, in their original order.
    public static func sorted(_ diagnostics: [Diagnostic]) -> [Diagnostic] {
        diagnostics.enumerated().sorted { a, b in
            switch (a.element.location, b.element.location) {
            case (nil, nil): return a.offset < b.offset
            case (nil, _): return true
            case (_, nil): return false
            case let (x?, y?): return x == y ? a.offset < b.offset : x < y
            }
        }.map(\.element)
    }
}

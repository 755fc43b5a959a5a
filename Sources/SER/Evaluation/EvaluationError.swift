import GraphIR

/// The error of building metrics and writing reports: mismatched classes, a bad index, a file that cannot be written.
public struct EvaluationError: DiagnosticError, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

    /// One error; with `file`, the message starts with the path.
    public init(_ message: String, file: String? = nil, hint: String? = nil) {
        diagnostics = [Diagnostic(file.map { "\($0): \(message)" } ?? message, hint: hint)]
    }

    public var description: String { Diagnostic.render(self) }
}

import GraphIR

/// Why training cannot go on: a stage that cannot run, a checkpoint that does not fit, a loss that diverged.
public struct TrainingError: DiagnosticError, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

    public init(_ message: String, at location: SourceLocation? = nil, hint: String? = nil) {
        diagnostics = [Diagnostic(message, at: location, hint: hint)]
    }

    public var description: String { Diagnostic.render(self) }
}

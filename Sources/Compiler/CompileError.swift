import GraphIR

/// Why a training graph cannot be made: diagnostics with the spec locations they concern.
public struct CompileError: DiagnosticError, CustomStringConvertible, Sendable {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

    public init(_ message: String, at location: SourceLocation? = nil, hint: String? = nil) {
        diagnostics = [Diagnostic(message, at: location, hint: hint)]
    }

    public var description: String { Diagnostic.render(self) }
}

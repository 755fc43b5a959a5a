import GraphIR

/// The error of running a graph: inputs of the wrong type or shape, a missing parameter, sizes that do not agree.
public struct RunError: DiagnosticError, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }
    public init(_ message: String, hint: String? = nil) { diagnostics = [Diagnostic(message, hint: hint)] }

    public var description: String { Diagnostic.render(self) }
}

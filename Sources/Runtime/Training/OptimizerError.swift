import GraphIR

/// The error of an optimiser step or of its saved state: gradients that do not match the parameters, state that
/// does not belong to them. Every problem found is reported, each naming its tensor.
public struct OptimizerError: DiagnosticError, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

    public init(_ message: String, hint: String? = nil) { diagnostics = [Diagnostic(message, hint: hint)] }

    public var description: String { Diagnostic.render(self) }
}

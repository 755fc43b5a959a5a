import GraphIR

/// The error of reading and lowering a YAML spec: every problem found, each with its file:line:column and key path.
///
/// Independent problems are collected and thrown together, so a user fixes them in one round.
public struct SpecError: DiagnosticError, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

    public init(_ message: String, at location: SourceLocation? = nil, keyPath: String? = nil, hint: String? = nil) {
        diagnostics = [Diagnostic(message, at: location, keyPath: keyPath, hint: hint)]
    }

    public var description: String { Diagnostic.render(self) }

    /// The same problems, each with a note saying where values they involve came from (a checkpoint's
    /// config.json, say), for errors located in a spec whose config another file overrode.
    public func noting(_ message: String) -> SpecError {
        var noted = self
        for index in noted.diagnostics.indices { noted.diagnostics[index].notes.append(.init(message)) }
        return noted
    }
}

import GraphIR

/// The error of reading corpora and manifests and of building folds: the file (and line) and the problem.
public struct DataError: DiagnosticError, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

    public init(_ message: String, file: String? = nil, line: Int? = nil, hint: String? = nil) {
        let location = file.map { SourceLocation(file: $0, line: line ?? 1, column: 1) }
        diagnostics = [Diagnostic(message, at: line == nil ? nil : location, hint: hint)]
        if line == nil, let file { diagnostics[0].message = "\(file): \(message)" }
    }

    public var description: String { Diagnostic.render(self) }
}

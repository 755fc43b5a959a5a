import GraphIR

/// The error of reading audio: the file and what is wrong with it (missing, empty, truncated, not audio, an
/// unsupported format or rate).
public struct AudioError: DiagnosticError, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(_ message: String, file: String, hint: String? = nil) {
        diagnostics = [Diagnostic("\(file): \(message)", hint: hint)]
    }

    public var description: String { Diagnostic.render(self) }
}

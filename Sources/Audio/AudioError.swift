import GraphIR

/// The error of reading audio: the file and what is wrong with it (missing, empty, truncated, not audio, an
/// unsupported format or rate).
public struct AudioError: DiagnosticError, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    /// An error about `file` (its path starts the message), or about samples not read from a file when `file` is nil
    /// (an unsupported rate passed to `Resampler`).
    public init(_ message: String, file: String?, hint: String? = nil) {
        diagnostics = [Diagnostic(file.map { "\($0): \(message)" } ?? message, hint: hint)]
    }

    public var description: String { Diagnostic.render(self) }
}

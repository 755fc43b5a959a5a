import GraphIR

/// The error of reading or writing checkpoints (safetensors files, HuggingFace checkpoint directories): the file,
/// the tensor when there is one, and what is wrong. Several problems (missing and unexpected tensors, say) are
/// reported together.
public struct CheckpointError: DiagnosticError, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

    /// A problem with a file, optionally about one tensor in it.
    public init(_ message: String, file: String, tensor: String? = nil, hint: String? = nil) {
        let text = tensor.map { "\(file): tensor '\($0)': \(message)" } ?? "\(file): \(message)"
        diagnostics = [Diagnostic(text, hint: hint)]
    }

    public var description: String { Diagnostic.render(self) }
}

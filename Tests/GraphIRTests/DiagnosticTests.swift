import GraphIR
import Testing

@Suite("Diagnostics")
struct DiagnosticTests {
    @Test("a diagnostic renders as file:line:column, severity, message, key path, hint and notes")
    func rendering() {
        let diagnostic = Diagnostic(
            "unknown op 'layernorm'", at: SourceLocation(file: "m.yaml", line: 12, column: 11),
            keyPath: "blocks.layer.nodes.n1.op", hint: "did you mean 'layer_norm'?",
            notes: [.init("the block is defined here", at: SourceLocation(file: "m.yaml", line: 3, column: 5))])
        #expect(diagnostic.rendered == """
            m.yaml:12:11: error: unknown op 'layernorm' (in blocks.layer.nodes.n1.op)
              hint: did you mean 'layer_norm'?
              m.yaml:3:5: note: the block is defined here
            """)
    }

    @Test("did-you-mean picks the nearest name within a third of its length")
    func suggestions() {
        let ops = ["layer_norm", "group_norm", "linear", "self_attention", "gelu"]
        #expect(Suggestion.closest(to: "layernorm", in: ops) == "layer_norm")
        #expect(Suggestion.closest(to: "lienar", in: ops) == "linear")  // transposition
        #expect(Suggestion.closest(to: "GELU", in: ops) == "gelu")
        #expect(Suggestion.closest(to: "convolution", in: ops) == nil)
        #expect(Suggestion.hint(for: "self_atention", in: ops) == "did you mean 'self_attention'?")
    }

    @Test("errors render their diagnostics in source order")
    func ordering() {
        struct Failure: DiagnosticError { var diagnostics: [Diagnostic] }
        let late = Diagnostic("b", at: SourceLocation(file: "a.yaml", line: 9, column: 1))
        let early = Diagnostic("a", at: SourceLocation(file: "a.yaml", line: 2, column: 4))
        let nowhere = Diagnostic("c")
        #expect(Diagnostic.render(Failure(diagnostics: [late, early, nowhere])) == "error: c\na.yaml:2:4: error: a\na.yaml:9:1: error: b")
    }
}

import GraphIR
import Testing
@testable import GraphSpec

/// A bad spec made from a valid one by a few text edits, with the first diagnostic it must produce.
struct SpecCase: CustomTestStringConvertible, Sendable {
    var name: String
    /// Replacements applied in order, each to the first occurrence.
    var edits: [(String, String)]
    /// The first diagnostic in source order, first line as rendered (`spec.yaml:21:16: error: ... (in key.path)`).
    var expected: String
    /// How many diagnostics in all.
    var count: Int

    init(_ name: String, edits: [(String, String)], expected: String, count: Int) {
        self.name = name
        self.edits = edits
        self.expected = expected
        self.count = count
    }

    var testDescription: String { name }

    /// The edited spec; records an issue when an edit does not apply.
    func yaml(from base: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> String {
        var text = base
        for (old, new) in edits {
            guard let range = text.range(of: old) else {
                Issue.record("\(name): '\(old)' is not in the base spec", sourceLocation: sourceLocation)
                continue
            }
            text.replaceSubrange(range, with: new)
        }
        return text
    }

    /// Compiles the edited spec and checks that it fails as expected.
    func check(base: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let text = yaml(from: base, sourceLocation: sourceLocation)
        do throws(SpecError) {
            _ = try SpecCompiler.compile(text: text, file: "spec.yaml")
            Issue.record("\(name): compiled, expected \(expected)", sourceLocation: sourceLocation)
        } catch {
            let sorted = Diagnostic.sorted(error.diagnostics)
            let first = sorted.first.map { String($0.rendered.split(separator: "\n")[0]) } ?? ""
            #expect(first == expected, sourceLocation: sourceLocation)
            #expect(sorted.count == count, "\(Diagnostic.render(error))", sourceLocation: sourceLocation)
        }
    }
}

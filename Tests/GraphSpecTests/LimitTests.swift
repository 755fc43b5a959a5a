import Foundation
import GraphIR
import Testing
@testable import GraphSpec

/// Specs that ask for too much end in a located error, quickly: sizes past Int's range, repeats and graphs past
/// `SpecLimits`, values that double themselves, reference chains, files that are not regular files.
@Suite("Spec limits")
struct LimitTests {
    static let base = """
        version: 1
        name: t
        config:
          hidden: 8
        inputs:
          x: {dtype: f32, shape: [B, T, 4]}
        blocks:
          layer:
            inputs: [x]
            nodes:
              l: {op: linear, in: x, out: "${hidden}", params: l}
            outputs: [l]
        model:
          nodes:
            p: {op: linear, in: x, out: "${hidden}", params: p}
            layers: {block: layer, repeat: {count: 2, from: 1}, in: [p], params: "layers.{i}"}
          outputs:
            y: layers

        """

    /// The first diagnostic's first line, or "compiled".
    static func firstError(_ text: String) -> String {
        do {
            _ = try SpecCompiler.compile(text: text, file: "t.yaml")
            return "compiled"
        } catch {
            return String(error.description.split(separator: "\n").first ?? "")
        }
    }

    static func edited(_ edits: [(String, String)]) -> String {
        var text = base
        for (old, new) in edits {
            guard let range = text.range(of: old) else { Issue.record("'\(old)' is not in the base spec"); continue }
            text.replaceSubrange(range, with: new)
        }
        return text
    }

    @Test("the base spec compiles")
    func baseCompiles() { #expect(Self.firstError(Self.base) == "compiled") }

    @Test("sizes past the limits are errors at the node, never an overflow trap", arguments: [
        ("from: 1}", "from: 9223372036854775807}",
         "t.yaml:16:53: error: repeat start 9223372036854775807 is out of range (at most 1099511627776 either side of 0) (in model.nodes.layers.repeat.from)"),
        ("count: 2", "count: 1000000000000",
         "t.yaml:16:44: error: repeat count 1000000000000 is past the limit of 10000 (in model.nodes.layers.repeat)"),
        ("hidden: 8", "hidden: 2147483648\n  wide: 2147483648",
         "t.yaml:12:10: error: parameter 'layers.1.l.weight' would have shape [2147483648, 2147483648], which has more than 68719476736 elements (2^36, the limit of one tensor) (in blocks.layer.nodes.l)"),
        ("hidden: 8", "hidden: 9223372036854775807",
         "t.yaml:15:8: error: parameter 'p.weight' would have shape [<out of range>, 4], which has a dimension out of range (sizes are limited to 1099511627776, 2^40) (in model.nodes.p)"),
    ])
    func sizeLimits(old: String, new: String, expected: String) {
        #expect(Self.firstError(Self.edited([(old, new)])) == expected)
    }

    @Test("products of sizes past the element limit and strides past 2^32 are located errors")
    func shapeArithmetic() {
        let wide = Self.edited([("shape: [B, T, 4]", "shape: [B, 1048576, 1048576]")])
        #expect(Self.firstError(wide).contains("more than 68719476736 elements (2^36, the limit of one tensor)"), "\(Self.firstError(wide))")
        let strided = Self.edited([("p: {op: linear, in: x, out: \"${hidden}\", params: p}",
                                    "c: {op: conv1d, in: x, out: 4, kernel: 3, stride: 4294967296, params: c}\n    d: {op: conv1d, in: c, out: 4, kernel: 3, stride: 4294967296, params: d}\n    p: {op: linear, in: d, out: \"${hidden}\", params: p}")])
        #expect(Self.firstError(strided) == "t.yaml:16:8: error: 'd' would make f32[B, <out of range>, 4], which has a dimension out of range (sizes are limited to 1099511627776, 2^40) (in model.nodes.d)")
    }

    @Test("nested blocks that multiply past the node limit stop at the limit")
    func nodeLimit() {
        // 10,000 repetitions of a block of 8 nodes: 80,000 nodes asked for, stopped at 50,000.
        let text = Self.edited([
            ("l: {op: linear, in: x, out: \"${hidden}\", params: l}",
             (0..<8).map { "l\($0): {op: linear, in: \($0 == 0 ? "x" : "l\($0 - 1)"), out: \"${hidden}\", params: l\($0)}" }.joined(separator: "\n      ")),
            ("outputs: [l]", "outputs: [l7]"), ("count: 2", "count: 10000"),
        ])
        let start = Date()
        let error = Self.firstError(text)
        #expect(error.contains("error: the graph passes the limit of 50000 nodes here"), "\(error)")
        #expect(Date().timeIntervalSince(start) < 60)
    }

    @Test("config values that double themselves, and deep reference chains, are refused at their place")
    func configValues() {
        func doubling(_ first: String, _ step: (Int) -> String) -> String {
            let lines = ["  a0: \(first)"] + (1...40).map { "  a\($0): \"\(step($0 - 1))\"" }
            return Self.edited([("  hidden: 8", "  hidden: 8\n" + lines.joined(separator: "\n")),
                                ("out: \"${hidden}\", params: p", "out: \"${len(a40)}\", params: p")])
        }
        #expect(Self.firstError(doubling("[1, 2]") { "${a\($0) + a\($0)}" }).contains("error: this value is too large: a list past the limit of 1048576 items and characters"))
        #expect(Self.firstError(doubling("ab") { "${a\($0)}${a\($0)}" }).contains("error: this value is too large: a string past the limit of 1048576 items and characters"))
        #expect(Self.firstError(doubling("[1, 2]") { "${[a\($0), a\($0)]}" }).contains("error: this value is too large: a list"))

        let chain = (1...3000).map { "  c\($0): \"${c\($0 - 1)}\"" }.joined(separator: "\n")
        let text = Self.edited([("  hidden: 8", "  hidden: 8\n  c0: 8\n" + chain), ("out: \"${hidden}\", params: p", "out: \"${c3000}\", params: p")])
        #expect(Self.firstError(text).contains("error: config values refer to each other more than 256 deep (c3000 -> c2999 -> ... -> c2744)"),
                "\(Self.firstError(text))")
    }

    @Test("imports of devices, FIFOs and folders are refused without reading them")
    func importsOfSpecialFiles() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("limits-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(mkfifo(folder + "/pipe.yaml", 0o644) == 0)
        for (path, kind) in [("/dev/zero", "a character device"), (folder + "/pipe.yaml", "a FIFO (named pipe)"), (folder, "a directory")] {
            let text = Self.edited([("name: t", "name: t\nimports:\n  z: \(path)")])
            #expect(Self.firstError(text) == "t.yaml:4:6: error: cannot read '\(path)': \(kind), not a regular file (in imports.z)")
        }
    }

    @Test("a hint for a 100,000-character name costs no time")
    func longNameHint() {
        let name = String(repeating: "x", count: 100_000)
        let start = Date()
        #expect(Suggestion.closest(to: name, in: ["x", "xx", name + "y"]) == nil)
        let text = Self.edited([("in: [p]", "in: [\(name)]")])
        #expect(Self.firstError(text).contains("error: unknown value"))
        #expect(Date().timeIntervalSince(start) < 5)
    }
}

@Suite("Spec data settings")
struct DataSettingsLocationTests {
    @Test("a data.labels value that is not a class is an error at its line and column")
    func labelNotAClass() {
        let text = LimitTests.base.replacingOccurrences(
            of: "  hidden: 8", with: "  hidden: 8\n  data:\n    classes: [neutral, happy]\n    labels:\n      neu: neutral\n      hap: joy")
        #expect(LimitTests.firstError(text) == "t.yaml:9:12: error: data.labels.hap must name one of the classes neutral, happy (in config.data.labels.hap)")
    }
}

@Suite("Shortest input")
struct ShortestInputTests {
    @Test("HuBERT base needs 400 samples (25 ms) to make one frame; a graph without S has no shortest input")
    func hubertBase() throws {
        let graph = try SpecCompiler.compile(path: graphPath("hubert_base.yaml")).graph
        #expect(graph.shortestInput("S") == 400)
        #expect(graph.shortestInput("T") == nil)
    }
}

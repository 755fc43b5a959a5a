import Foundation
import GraphIR
import Testing
import TestSupport

@Suite("DOT export")
struct DOTTests {
    static let dotPath = "/usr/bin/dot"

    /// An encoder of three identical layers (scopes `["encoder", "encoder.layers.i"]`, each with its own
    /// parameters, a dropout and a residual add, each output a tap) after a front end of three conv layers whose
    /// first differs (a group norm), then a pooled classifier with a loss.
    static func stack() throws -> Graph {
        var b = GraphBuilder(name: "stack")
        let wave = b.input("wave", .f32(["B", "T", 4]))
        let lengths = b.input("lengths", .i32(["B"]))
        let labels = b.input("labels", .i32(["B"]))
        var x = wave
        for layer in 0..<3 {
            let prefix = "features.conv.\(layer)"
            let scope = ["features", prefix]
            let w = b.parameter("\(prefix).weight", shape: [4, 4, 1], scope: scope)
            x = b.add(.conv1d(stride: 1, padding: 0, groups: 1), [x, w], name: "\(prefix).conv", scope: scope)[0]
            if layer == 0 {
                let g = b.parameter("\(prefix).norm.weight", shape: [4], scope: scope)
                let beta = b.parameter("\(prefix).norm.bias", shape: [4], scope: scope)
                x = b.add(.groupNorm(groups: 4, eps: 1e-5), [x, g, beta, lengths], name: "\(prefix).norm", scope: scope)[0]
            }
            x = b.add(.unary(.gelu), [x], name: "\(prefix).act", scope: scope)[0]
        }
        var taps = [NamedValue]()
        for layer in 0..<3 {
            let prefix = "encoder.layers.\(layer)"
            let scope = ["encoder", prefix]
            let w = b.parameter("\(prefix).fc.weight", shape: [4, 4], scope: scope)
            let bias = b.parameter("\(prefix).fc.bias", shape: [4], scope: scope)
            let h = b.add(.linear, [x, w, bias], name: "\(prefix).fc", scope: scope)[0]
            let a = b.add(.unary(.gelu), [h], name: "\(prefix).act", scope: scope)[0]
            let d = b.add(.dropout(probability: 0.1), [a], name: "\(prefix).dropout", scope: scope)[0]
            x = b.add(.binary(.add), [x, d], name: "\(prefix).residual", scope: scope)[0]
            taps.append(NamedValue("hidden.\(layer + 1)", x))
        }
        let pooled = b.add(.maskedMeanPool, [x, lengths], name: "pool")[0]
        let wh = b.parameter("head.weight", shape: [3, 4])
        let logits = b.add(.linear, [pooled, wh], name: "head")[0]
        let loss = b.add(.crossEntropy(ignoreIndex: -100), [logits, labels], name: "loss")[0]
        b.setOutputs([NamedValue("logits", logits), NamedValue("loss", loss)], taps: taps)
        return try b.finish()
    }

    /// A node whose name needs escaping: a quote, a backslash and a line break.
    static func awkward() throws -> Graph {
        var b = GraphBuilder(name: "awkward \"graph\"")
        let x = b.input("x", .f32(["B", 2]))
        let y = b.add(.unary(.relu), [x], name: "say \"hi\" \\ to\nme", scope: ["block \"one\""])[0]
        b.setOutputs([NamedValue("out\"put", y)], taps: [])
        return try b.finish()
    }

    @Test("the tiny front end as DOT matches the snapshot")
    func tinySnapshot() throws {
        let graph = try GraphBuilderTests.tinyFrontEnd().finish()
        expectSnapshot(graph.dot(), named: "tiny.dot")
    }

    @Test("each collapse mode matches its snapshot", arguments: DOTOptions.Collapse.allCases)
    func stackSnapshots(collapse: DOTOptions.Collapse) throws {
        let graph = try Self.stack()
        expectSnapshot(graph.dot(.init(collapse: collapse)), named: "stack.\(collapse.rawValue).dot")
    }

    @Test("output is deterministic: two calls, and two builds of the same graph, give the same text")
    func deterministic() throws {
        for collapse in DOTOptions.Collapse.allCases {
            let options = DOTOptions(collapse: collapse, highlight: [NodeID(5), NodeID(9)])
            let first = try Self.stack().dot(options), second = try Self.stack().dot(options)
            #expect(first == second)
            let graph = try Self.stack()
            #expect(graph.dot(options) == graph.dot(options))
        }
    }

    @Test("stable ids: node #k is nk, and every edge joins drawn nodes")
    func stableIDs() throws {
        let graph = try GraphBuilderTests.tinyFrontEnd().finish()
        let text = graph.dot()
        for node in graph.nodes { #expect(text.contains("\n  n\(node.id.index) [") || text.contains(" n\(node.id.index) [")) }
        // conv0 (#5) reads samples (#3) and its weight (#4).
        #expect(text.contains("  n3 -> n5;\n  n4 -> n5;"))
        // The attention reads pos_add (#22) three times: one edge.
        #expect(text.components(separatedBy: "n22 -> n23").count == 2)
    }

    @Test("names with quotes, backslashes and line breaks are escaped")
    func escaping() throws {
        let text = try Self.awkward().dot()
        #expect(text.hasPrefix("digraph \"awkward \\\"graph\\\"\" {"))
        #expect(text.contains(#"label="say \"hi\" \\ to\nme\nrelu\nf32[B, 2]\noutput out\"put""#))
        #expect(text.contains(#"subgraph "cluster:block \"one\"" {"#))
        // No raw line break inside a quoted string.
        #expect(!text.contains("to\nme"))
    }

    @Test("collapsing layers draws the first instance once, with the count, and steps between instances dashed")
    func layers() throws {
        let graph = try Self.stack()
        let text = graph.dot(.init(collapse: .layers))
        let id = { (name: String) in "n\(graph.nodes.first { $0.name == name }!.id.index)" }
        #expect(text.contains(#"label="encoder.layers.{0..2} x3""#))
        // The conv layers differ (the first has a group norm): only the last two fold.
        #expect(text.contains(#"label="features.conv.{1..2} x2""#))
        #expect(text.contains(#"subgraph "cluster:features.conv.0" {"#))
        #expect(!text.contains("cluster:encoder.layers.1"))
        for layer in 1...2 {
            for part in ["fc", "act", "dropout", "residual"] { #expect(!text.contains("  \(id("encoder.layers.\(layer).\(part)")) [")) }
        }
        // Layer 2's output feeds the pool: drawn from layer 0's node, once.
        #expect(text.components(separatedBy: "\(id("encoder.layers.0.residual")) -> \(id("pool"));").count == 2)
        // Layer i's output feeds layer i + 1's linear and residual add: dashed edges back into the first instance.
        #expect(text.contains("\(id("encoder.layers.0.residual")) -> \(id("encoder.layers.0.fc")) [style=dashed, constraint=false, label=next];"))
        #expect(text.contains("\(id("encoder.layers.0.residual")) -> \(id("encoder.layers.0.residual")) [style=dashed, constraint=false, label=next];"))
        // The folded node names every tap its instances make.
        #expect(text.contains(#"tap hidden.1, hidden.2, hidden.3"#) || text.contains(#"taps hidden.1, hidden.2, hidden.3"#))
    }

    @Test("nested repeats fold in turn: two layers of two sublayers draw one sublayer")
    func nestedRepeats() throws {
        var b = GraphBuilder(name: "nested")
        var x = b.input("x", .f32(["B", 4]))
        for layer in 0..<2 {
            for sub in 0..<2 {
                let scope = ["enc", "enc.layers.\(layer)", "enc.layers.\(layer).sub.\(sub)"]
                x = b.add(.unary(.tanh), [x], name: "\(scope[2]).tanh", scope: scope)[0]
                x = b.add(.scale(0.5), [x], name: "\(scope[2]).half", scope: scope)[0]
            }
        }
        let graph = try b.finish()
        let text = graph.dot(.init(collapse: .layers, showLegend: false))
        #expect(text.contains(#"label="enc.layers.{0..1} x2""#))
        #expect(text.contains(#"label="enc.layers.0.sub.{0..1} x2""#))
        #expect(text.contains(#"n1 [label="tanh\nf32[B, 4]"]"#))
        #expect(text.contains(#"n2 [label="half\nscale 0.5\nf32[B, 4]"]"#))
        for index in 3...8 { #expect(!text.contains("n\(index) [")) }
        #expect(text.contains("n0 -> n1;\n  n1 -> n2;\n  n2 -> n1 [style=dashed, constraint=false, label=next];\n}"))
    }

    @Test("collapsing blocks draws one box per outermost block, with counts, and edges between boxes")
    func blocks() throws {
        let text = try Self.stack().dot(.init(collapse: .blocks))
        #expect(text.contains(#"b0 [label="features\n7 ops, 5 parameters", shape=box3d"#))
        #expect(text.contains(#"b1 [label="encoder\n12 ops, 6 parameters\ntaps hidden.1, hidden.2, hidden.3""#))
        #expect(text.contains("  b0 -> b1;"))
        #expect(!text.contains("b0 -> b0"))
        #expect(!text.contains("cluster:"))
        // Counts include the parameters even when they are not drawn.
        let withoutParameters = try Self.stack().dot(.init(collapse: .blocks, showParameters: false))
        #expect(withoutParameters.contains(#"b0 [label="features\n7 ops, 5 parameters""#))
        #expect(!withoutParameters.contains("head.weight"))
    }

    @Test("parameters can be hidden; highlighted nodes are red and dashed")
    func parametersAndHighlight() throws {
        let graph = try GraphBuilderTests.tinyFrontEnd().finish()
        let hidden = graph.dot(.init(showParameters: false, showLegend: false))
        #expect(!hidden.contains("conv0.weight"))
        #expect(!hidden.contains("n4 -> n5"))
        #expect(!hidden.contains("legend"))
        let loss = graph.nodes.first { $0.name == "loss" }!.id
        let highlighted = graph.dot(.init(highlight: [loss]))
        let line = highlighted.split(separator: "\n").first { $0.hasPrefix("  n\(loss.index) [") }
        #expect(line?.contains(##"color="#dc2626""##) == true)
        #expect(line?.contains(#"style="filled,dashed""#) == true)
        #expect(highlighted.contains("legend_highlight"))
        #expect(highlighted.contains(##"n26 -> n27 [color="#dc2626", style=dashed];"##))
    }

    @Test("Graphviz accepts every output", .enabled(if: FileManager.default.isExecutableFile(atPath: dotPath), "Graphviz's dot is not installed at /usr/bin/dot"))
    func graphvizAccepts() throws {
        var texts = [try GraphBuilderTests.tinyFrontEnd().finish().dot(), try Self.awkward().dot()]
        for collapse in DOTOptions.Collapse.allCases {
            texts.append(try Self.stack().dot(.init(collapse: collapse, highlight: [NodeID(10)])))
            texts.append(try GraphBuilderTests.tinyFrontEnd().finish().dot(.init(collapse: collapse, showParameters: false)))
        }
        for text in texts {
            let (status, output, errors) = try Self.runDot(text)
            #expect(status == 0, "dot failed: \(errors)")
            #expect(output.contains("<svg"))
            #expect(!errors.contains("Warning") && !errors.contains("Error"), "dot complained: \(errors)")
        }
    }

    /// Runs `dot -Tsvg` with `text` on stdin; stdout and stderr go to files, so that neither pipe can fill up.
    static func runDot(_ text: String) throws -> (status: Int32, output: String, errors: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dot-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outputFile = directory.appendingPathComponent("out.svg"), errorFile = directory.appendingPathComponent("err.txt")
        _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: dotPath)
        process.arguments = ["-Tsvg"]
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = try FileHandle(forWritingTo: outputFile)
        process.standardError = try FileHandle(forWritingTo: errorFile)
        try process.run()
        try input.fileHandleForWriting.write(contentsOf: Data(text.utf8))
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        return (process.terminationStatus, try String(contentsOf: outputFile, encoding: .utf8),
                try String(contentsOf: errorFile, encoding: .utf8))
    }
}

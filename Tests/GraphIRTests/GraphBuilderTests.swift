import GraphIR
import Testing
import TestSupport

@Suite("Graph building, shape rules, verifier and text")
struct GraphBuilderTests {
    static func at(_ line: Int, _ column: Int = 3) -> GraphIR.SourceLocation { GraphIR.SourceLocation(file: "tiny.yaml", line: line, column: column) }

    /// A miniature HuBERT front end: two strided convs with a masked group norm, feature projection, positional
    /// conv with weight norm and the dropped last frame, one attention, masked mean pooling and a loss.
    static func tinyFrontEnd() -> GraphBuilder {
        var b = GraphBuilder(name: "tiny")
        let wave = b.input("wave", .f32(["B", "S"]), at: at(2))
        let lengths = b.input("lengths", .i32(["B"]), at: at(3))
        let labels = b.input("emotion", .i32(["B"]), at: at(4))
        let x = b.add(.reshape(["B", "S", 1]), [wave], name: "samples", at: at(6))[0]
        let w0 = b.parameter("conv0.weight", shape: [8, 1, 10], at: at(7))
        let c0 = b.add(.conv1d(stride: 5, padding: 0, groups: 1), [x, w0], name: "conv0", scope: ["features"], at: at(7))[0]
        let l0 = b.add(.windowLengths(kernel: 10, stride: 5, padding: 0), [lengths], name: "lengths0", scope: ["features"], at: at(8))[0]
        let g = b.parameter("norm.weight", shape: [8], at: at(9)), beta = b.parameter("norm.bias", shape: [8], at: at(9))
        let n0 = b.add(.groupNorm(groups: 8, eps: 1e-5), [c0, g, beta, l0], name: "norm0", scope: ["features"], at: at(9))[0]
        let a0 = b.add(.unary(.gelu), [n0], name: "gelu0", scope: ["features"], at: at(10))[0]
        let w1 = b.parameter("conv1.weight", shape: [8, 8, 3], at: at(11))
        let c1 = b.add(.conv1d(stride: 2, padding: 0, groups: 1), [a0, w1], name: "conv1", scope: ["features"], at: at(11))[0]
        let l1 = b.add(.windowLengths(kernel: 3, stride: 2, padding: 0), [l0], name: "lengths1", scope: ["features"], at: at(12))[0]
        let wp = b.parameter("projection.weight", shape: [16, 8], at: at(13)), bp = b.parameter("projection.bias", shape: [16], at: at(13))
        let h = b.add(.linear, [c1, wp, bp], name: "projection", at: at(13))[0]
        let v = b.parameter("pos.weight_v", shape: [16, 4, 4], at: at(14)), gv = b.parameter("pos.weight_g", shape: [1, 1, 4], at: at(14))
        let wpos = b.add(.weightNorm(axis: 2), [v, gv], name: "pos_weight", scope: ["encoder"], at: at(14))[0]
        let pos = b.add(.conv1d(stride: 1, padding: 2, groups: 4), [h, wpos], name: "pos_conv", scope: ["encoder"], at: at(15))[0]
        let trimmed = b.add(.slice(axis: 1, start: 0, end: -1), [pos], name: "pos_trim", scope: ["encoder"], at: at(16))[0]
        let sum = b.add(.binary(.add), [h, trimmed], name: "pos_add", scope: ["encoder"], at: at(17))[0]
        let attended = b.add(.attention(heads: 2), [sum, sum, sum, l1], name: "attn", scope: ["encoder", "encoder.layers.0"], at: at(18))[0]
        let pooled = b.add(.maskedMeanPool, [attended, l1], name: "pool", at: at(19))[0]
        let wh = b.parameter("head.weight", shape: [4, 16], at: at(20))
        let logits = b.add(.linear, [pooled, wh], name: "head", at: at(20))[0]
        let loss = b.add(.crossEntropy(ignoreIndex: -100), [logits, labels], name: "loss", at: at(21))[0]
        b.setOutputs([NamedValue("logits", logits), NamedValue("loss", loss)], taps: [NamedValue("hidden.0", sum)])
        return b
    }

    @Test("types follow the shape rules, frames as floor expressions of the samples")
    func types() throws {
        let graph = try Self.tinyFrontEnd().finish()
        let conv1 = graph.nodes.first { $0.name == "conv1" }!
        #expect(graph[conv1.outputs[0]].type.description == "f32[B, floor((S - 20) / 10) + 1, 8]")
        let add = graph.nodes.first { $0.name == "pos_add" }!
        #expect(graph[add.outputs[0]].type.description == "f32[B, floor((S - 20) / 10) + 1, 16]")
        #expect(graph[graph.outputs[1].value].type.description == "f32[]")
        #expect(graph.parameterCount == 80 + 8 + 8 + 192 + 128 + 16 + 256 + 4 + 64)
        #expect(graph.verify().isEmpty)
    }

    @Test("the text form is deterministic and matches the snapshot")
    func textSnapshot() throws {
        let graph = try Self.tinyFrontEnd().finish()
        expectSnapshot(graph.text, named: "tiny.ir.txt")
    }

    @Test("a shape mismatch names the node, both shapes and where each operand was made")
    func shapeMismatch() {
        var b = GraphBuilder(name: "bad")
        let x = b.input("x", .f32(["B", "T", 768]), at: Self.at(2))
        let y = b.input("y", .f32(["B", "T", 512]), at: Self.at(3))
        b.add(.binary(.add), [x, y], name: "sum", at: Self.at(5, 7), keyPath: "nodes.sum")
        #expect(throws: ShapeError.self) { try b.finish() }
        let rendered = b.diagnostics.map(\.rendered).joined(separator: "\n")
        #expect(rendered == """
            tiny.yaml:5:7: error: shapes [B, T, 768] and [B, T, 512] do not broadcast (768 against 512) in 'sum' (in nodes.sum)
              tiny.yaml:2:3: note: a is f32[B, T, 768], made by 'x'
              tiny.yaml:3:3: note: b is f32[B, T, 512], made by 'y'
            """)
    }

    @Test("independent errors are all reported, and a failed value does not cascade")
    func collectsErrors() {
        var b = GraphBuilder(name: "bad")
        let x = b.input("x", .f32(["B", "T", 16]), at: Self.at(2))
        let w = b.parameter("w", shape: [8, 12], at: Self.at(3))
        let bad = b.add(.linear, [x, w], name: "proj", at: Self.at(4))[0]          // 16 against 12
        b.add(.unary(.gelu), [bad], name: "act", at: Self.at(5))                    // fed by a failure: silent
        b.add(.layerNorm(eps: 1e-5), [x], name: "norm", at: Self.at(6))             // wrong arity
        let lengths = b.input("lengths", .f32(["B"]), at: Self.at(7))
        b.add(.maskedMeanPool, [x, lengths], name: "pool", at: Self.at(8))          // lengths not i32
        _ = b.parameter("w", shape: [8, 16], at: Self.at(9))                        // shared parameter, other shape
        let messages = b.diagnostics.map(\.message)
        #expect(messages == [
            "the input's last axis (16) does not match the weight's input size (12) in 'proj'",
            "layer_norm takes 3 inputs (x, weight, bias), got 1",
            "masked_mean_pool needs lengths of type i32[B], got f32[B] in 'pool'",
            "parameter 'w' is used with shape [8, 16] but was first made with [8, 12]",
        ])
        #expect(b.diagnostics.map { $0.location?.line } == [4, 6, 8, 9])
    }

    @Test("the verifier finds structural damage")
    func verifier() throws {
        var graph = try Self.tinyFrontEnd().finish()
        #expect(graph.verify().isEmpty)
        graph.outputs.append(NamedValue("ghost", ValueID(10_000)))
        let problems = graph.verify().map(\.message)
        #expect(problems == ["graph 'tiny' is malformed: 'ghost' refers to unknown value %10000"])
    }

    @Test("shape rules of the sequence ops and losses", arguments: [
        (Op.lstm(hidden: 3), "f32[B, T, 6]"),
        (Op.attention(heads: 2), "f32[B, T, 4]"),
    ])
    func sequenceOps(op: Op, expected: String) {
        var b = GraphBuilder(name: "ops")
        let x = b.input("x", .f32(["B", "T", 4]))
        let lengths = b.input("lengths", .i32(["B"]))
        let inputs: [ValueID]
        switch op {
        case .lstm:
            let weights = (0..<2).flatMap { direction in
                [b.parameter("ih\(direction)", shape: [12, 4]), b.parameter("hh\(direction)", shape: [12, 3]),
                 b.parameter("bi\(direction)", shape: [12]), b.parameter("bh\(direction)", shape: [12])]
            }
            inputs = [x, lengths] + weights
        default:
            inputs = [x, x, x, lengths]
        }
        let out = b.add(op, inputs, name: "op")[0]
        #expect(b.diagnostics.isEmpty)
        #expect(b.type(of: out).description == expected)
    }
}

@Suite("Subgraphs")
struct SubgraphTests {
    @Test("the subgraph for a value keeps exactly its dependencies, renumbered, and verifies")
    func subgraph() throws {
        let graph = try GraphBuilderTests.tinyFrontEnd().finish()
        let tap = graph.taps[0].value  // pos_add: needs the convs, projection and positional conv, not the head
        let part = graph.subgraph(computing: [tap])
        #expect(part.verify().isEmpty)
        #expect(part.nodes.map(\.name).contains("pos_add"))
        #expect(!part.nodes.contains { $0.name == "head" || $0.name == "loss" || $0.name == "emotion" || $0.name == "attn" })
        #expect(part.taps.map(\.name) == ["hidden.0"])
        #expect(part.outputs.isEmpty)
        #expect(part.nodes.count == graph.nodes.count - 7)  // emotion, lengths1, attn, pool, head.weight, head, loss
        let whole = graph.subgraph(computing: graph.outputs.map(\.value))
        #expect(whole.text == graph.text)
    }
}

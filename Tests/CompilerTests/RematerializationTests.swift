import Compiler
import GraphIR
import Runtime
import Testing
import TestSupport

/// The rematerialisation pass, IR in and IR out (golden file in Snapshots/), its decisions and reasons, what it
/// does to the memory plan, and the gradients it leaves bitwise the same.
@Suite("Rematerialization")
struct RematerializationTests {
    /// A post-norm block of a transformer's shape: s = x + x W1^T; h = layer_norm(s); u = h W2^T; v = gelu(u);
    /// f = v W3^T; t = tanh(f) (its gradient reads t itself); loss = sum(t + h), and `h` also a tap.
    static func graph() throws -> Graph {
        var b = GraphBuilder(name: "remat")
        let x = b.input("x", .f32([3, 4]))
        let w1 = b.parameter("w1", shape: [4, 4]), w2 = b.parameter("w2", shape: [8, 4]), w3 = b.parameter("w3", shape: [4, 8])
        let gamma = b.parameter("gamma", shape: [4]), beta = b.parameter("beta", shape: [4])
        let mixed = b.add(.linear, [x, w1], name: "mix")[0]
        let sum = b.add(.binary(.add), [x, mixed], name: "residual")[0]
        let h = b.add(.layerNorm(eps: 1e-5), [sum, gamma, beta], name: "norm")[0]
        let u = b.add(.linear, [h, w2], name: "ff_in")[0]
        let v = b.add(.unary(.gelu), [u], name: "ff_act")[0]
        let f = b.add(.linear, [v, w3], name: "ff_out")[0]
        let t = b.add(.unary(.tanh), [f], name: "squash")[0]
        let out = b.add(.binary(.add), [t, h], name: "out")[0]
        let loss = b.add(.reduce(.sum, axes: [0, 1], keepDims: false), [out], name: "loss")[0]
        return try b.finishTraining(loss: loss, taps: [NamedValue("normed", h)])
    }

    static var fetch: [String] { ["loss", "grad.w1", "grad.w2", "grad.w3", "grad.gamma", "grad.beta"] }

    @Test("GELU and layer-norm outputs are made again before their backward readers; refusals name why")
    func decisions() throws {
        let graph = try Self.graph()
        let (recomputed, report) = Rematerialization.run(graph, fetched: Set(Self.fetch))
        #expect(recomputed.verify().isEmpty)
        let byNode = Dictionary(uniqueKeysWithValues: report.decisions.map { ($0.node, $0) })
        #expect(byNode["ff_act"]?.recomputed == true)
        #expect(byNode["ff_act"]?.readers == ["grad.ff_out"])
        #expect(byNode["norm"]?.recomputed == true)
        #expect(byNode["squash"]?.recomputed == false)
        #expect(byNode["squash"]?.reason.contains("its gradient reads the output itself") == true)
        #expect(report.recomputedCount == 2)
        // The weight gradient of ff_out reads the recomputed GELU, made right before it; the GELU's own gradient
        // still receives the original as its forward output (the pairing), and reads the pre-activation.
        let again = try #require(recomputed.nodes.first { $0.name == "ff_act.recomputed" })
        #expect(again.isBackward && again.op == .unary(.gelu))
        let reader = try #require(recomputed.nodes.first { $0.name == "grad.ff_out" })
        #expect(reader.id.index == again.id.index + 1 && reader.inputs[0] == again.outputs[0])
        expectSnapshot(recomputed.text, named: "rematerialization.training.txt")

        // A fetched value is kept: nothing to gain.
        let (_, fetchedReport) = Rematerialization.run(graph, fetched: Set(Self.fetch + ["normed"]))
        #expect(fetchedReport.decisions.first { $0.node == "norm" }?.recomputed == false)
        #expect(fetchedReport.decisions.first { $0.node == "norm" }?.reason == "the value is fetched: it is kept anyway")
        // Inference graphs have no backward reader: the pass does nothing.
        let inference = try ExecutionPlan.compile(graph, fetch: ["normed"], mode: .inference)
        #expect(inference.rematerialization?.decisions.isEmpty == true)
    }

    @Test("a GELU whose input the backward pass does not keep (a frozen part) stays as it is")
    func inputNotKept() throws {
        var b = GraphBuilder(name: "remat_refused")
        let x = b.input("x", .f32([2, 4]))
        let frozen = b.parameter("frozen.w", shape: [4, 4])
        let gamma = b.parameter("gamma", shape: [4]), beta = b.parameter("beta", shape: [4])
        let u = b.add(.linear, [x, frozen], name: "frozen_conv")[0]
        let v = b.add(.unary(.gelu), [u], name: "frozen_act")[0]  // no gradient node: u dies in the forward
        let h = b.add(.layerNorm(eps: 1e-5), [v, gamma, beta], name: "norm")[0]  // its gradient reads v
        let loss = b.add(.reduce(.sum, axes: [0, 1], keepDims: false), [h], name: "loss")[0]
        let training = try b.finishTraining(loss: loss) { !$0.hasPrefix("frozen.") }
        let (graph, report) = Rematerialization.run(training, fetched: ["loss", "grad.gamma", "grad.beta"])
        let decision = try #require(report.decisions.first { $0.node == "frozen_act" })
        #expect(!decision.recomputed)
        #expect(decision.reason == "its input 'frozen_conv' is not kept for the backward pass: recomputing would keep that instead")
        #expect(!graph.nodes.contains { $0.name.hasSuffix(Rematerialization.suffix) })
    }

    @Test("a dropout after a GELU is made again with its producer, drawing the same mask: the gradients bit for bit")
    func dropoutChain() throws {
        var b = GraphBuilder(name: "remat_dropout")
        let x = b.input("x", .f32([4, 6]))
        let w1 = b.parameter("w1", shape: [12, 6]), w2 = b.parameter("w2", shape: [6, 12])
        let u = b.add(.linear, [x, w1], name: "ff_in")[0]
        let v = b.add(.unary(.gelu), [u], name: "ff_act")[0]
        let d = b.add(.dropout(probability: 0.4), [v], name: "ff_act_drop")[0]
        let f = b.add(.linear, [d, w2], name: "ff_out")[0]
        let loss = b.add(.reduce(.sum, axes: [0, 1], keepDims: false), [f], name: "loss")[0]
        let graph = try b.finishTraining(loss: loss)
        let fetch = ["loss", "grad.w1", "grad.w2"]
        let (recomputed, report) = Rematerialization.run(graph, fetched: Set(fetch))
        #expect(recomputed.verify().isEmpty)
        let decision = try #require(report.decisions.first { $0.node == "ff_act_drop" })
        #expect(decision.recomputed && decision.reason.contains("'ff_act' is made again first"))
        let names = recomputed.nodes.map(\.name)
        let act = try #require(names.firstIndex(of: "ff_act.recomputed")), drop = try #require(names.firstIndex(of: "ff_act_drop.recomputed"))
        #expect(act + 1 == drop && names[drop + 1] == "grad.ff_out")
        #expect(recomputed.nodes[drop].randomStream == "ff_act_drop" && recomputed.nodes[drop].streamName == "ff_act_drop")
        #expect(recomputed.text.contains("# ff_act_drop.recomputed (draws the stream of ff_act_drop)"))

        let parameters = [
            "w1": HostTensor(floats: (0..<72).map { Float(($0 * 5) % 9) * 0.1 - 0.4 }, shape: [12, 6]),
            "w2": HostTensor(floats: (0..<72).map { Float(($0 * 7) % 11) * 0.05 - 0.25 }, shape: [6, 12]),
        ]
        let inputs = ["x": HostTensor(floats: (0..<24).map { Float(($0 * 13) % 11) * 0.2 - 1 }, shape: [4, 6])]
        #expect(try Interpreter(graph: graph).plan(fetch: fetch, mode: RunMode.training(seed: 7, step: 0)).rematerialization?.recomputedCount == 1)
        for step: UInt64 in 0..<3 {
            try expectOptimizedBitwisePlain(graph, inputs: inputs, parameters: parameters, fetch: fetch, mode: .training(seed: 7, step: step))
        }
    }

    @Test("the recomputed plan's gradients are bitwise the plain plan's, and less is alive between the passes")
    func sameGradientsLessMemory() throws {
        let graph = try Self.graph()
        let parameters: [String: HostTensor] = [
            "w1": HostTensor(floats: (0..<16).map { Float(($0 * 5) % 7) * 0.1 - 0.3 }, shape: [4, 4]),
            "w2": HostTensor(floats: (0..<32).map { Float(($0 * 3) % 11) * 0.07 - 0.35 }, shape: [8, 4]),
            "w3": HostTensor(floats: (0..<32).map { Float(($0 * 7) % 5) * 0.12 - 0.24 }, shape: [4, 8]),
            "gamma": HostTensor(floats: [1, 0.5, 2, 1.5], shape: [4]),
            "beta": HostTensor(floats: [0, 0.1, -0.1, 0.2], shape: [4]),
        ]
        let inputs = ["x": HostTensor(floats: (0..<12).map { Float(($0 * 7) % 5) * 0.3 - 0.6 }, shape: [3, 4])]
        let mode = RunMode.training(seed: 1, step: 0)
        let optimized = Interpreter(graph: graph), plain = Interpreter(graph: graph, optimize: false)
        let plan = try optimized.plan(fetch: Self.fetch, mode: mode)
        #expect(plan.rematerialization?.recomputedCount == 2)
        try expectOptimizedBitwisePlain(graph, inputs: inputs, parameters: parameters, fetch: Self.fetch, mode: mode)
        let recomputing = try #require(MemoryPlan.make(plan, symbols: [:]))
        let keeping = try #require(MemoryPlan.make(try plain.plan(fetch: Self.fetch, mode: mode), symbols: [:]))
        #expect(recomputing.overlaps().isEmpty)
        #expect(recomputing.lowerBound < keeping.lowerBound, "\(recomputing.lowerBound) against \(keeping.lowerBound)")
    }
}

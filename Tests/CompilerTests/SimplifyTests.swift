import Compiler
import GraphIR
import Runtime
import Testing
import TestSupport

/// The simplification pass, IR in and IR out (golden files in Snapshots/), and the plans built on it.
@Suite("Simplify and execution plans")
struct SimplifyTests {
    /// x -> dropout(p = 0) -> reshape to the same shape -> two identical linear nodes (a common subexpression),
    /// added, plus two dropouts with p = 0.1 of x (random: never merged).
    static func inferenceGraph() throws -> Graph {
        var b = GraphBuilder(name: "simplify")
        let x = b.input("x", .f32(["B", 4]))
        let w = b.parameter("w", shape: [4, 4])
        let quiet = b.add(.dropout(probability: 0), [x], name: "quiet")[0]
        let same = b.add(.reshape(["B", 4]), [quiet], name: "same_shape")[0]
        let first = b.add(.linear, [same, w], name: "first")[0]
        let second = b.add(.linear, [same, w], name: "second")[0]
        let sum = b.add(.binary(.add), [first, second], name: "sum")[0]
        let noisyA = b.add(.dropout(probability: 0.1), [x], name: "noisy_a")[0]
        let noisyB = b.add(.dropout(probability: 0.1), [x], name: "noisy_b")[0]
        let noise = b.add(.binary(.add), [noisyA, noisyB], name: "noise")[0]
        let out = b.add(.binary(.add), [sum, noise], name: "out")[0]
        b.setOutputs([NamedValue("out", out)], taps: [NamedValue("second", second)])
        return try b.finish()
    }

    @Test("dropout with p = 0 and a same-shape reshape are bypassed, duplicates merged, random nodes kept apart")
    func inference() throws {
        let graph = try Self.inferenceGraph()
        let (simplified, report) = Simplify.run(graph)
        #expect(simplified.verify().isEmpty)
        #expect(report.bypassed.map(\.node) == ["quiet", "same_shape"])
        #expect(report.merged.map(\.node) == ["second"] && report.merged.map(\.into) == ["first"])
        #expect(report.removed == 3)
        #expect(simplified.taps.first.map { simplified.producer(of: $0.value).name } == "first", "the tap follows the merge")
        expectSnapshot(simplified.text, named: "simplify.inference.txt")
    }

    @Test("in a training graph the gradient of a p = 0 dropout is its incoming gradient; duplicates stay")
    func training() throws {
        var b = GraphBuilder(name: "simplify_training")
        let x = b.input("x", .f32([2, 4]))
        let w = b.parameter("w", shape: [4, 4])
        let quiet = b.add(.dropout(probability: 0), [x], name: "quiet")[0]
        let first = b.add(.linear, [quiet, w], name: "first")[0]
        let second = b.add(.linear, [quiet, w], name: "second")[0]
        let product = b.add(.binary(.multiply), [first, second], name: "product")[0]
        let hidden = b.add(.dropout(probability: 0), [product], name: "hidden_drop")[0]
        let loss = b.add(.reduce(.sum, axes: [0, 1], keepDims: false), [hidden], name: "loss")[0]
        let gradients = try Autodiff.appendGradients(of: loss, to: &b) { _ in true }
        b.setOutputs([NamedValue("loss", loss)] + gradients.map { NamedValue("grad.\($0.name)", $0.gradient) }, taps: [])
        let graph = try b.finish()
        let (simplified, report) = Simplify.run(graph)
        #expect(simplified.verify().isEmpty)
        #expect(report.bypassed.map(\.reason).contains("gradient of dropout with p = 0"))
        #expect(report.merged.isEmpty)
        #expect(!simplified.nodes.contains { if case .dropout = $0.op { true } else { false } })
        #expect(!simplified.nodes.contains { if case .gradient(of: .dropout, _) = $0.op { true } else { false } })
        expectSnapshot(simplified.text, named: "simplify.training.txt")
    }

    @Test("layer_drop with p = 0 is its layer's output; its zero gradient and the sum it joins are bypassed")
    func layerDropAlwaysKept() throws {
        var b = GraphBuilder(name: "simplify_layer_drop")
        let x = b.input("x", .f32([2, 4]))
        let w = b.parameter("w", shape: [4, 4]), v = b.parameter("v", shape: [4, 4])
        let h = b.add(.linear, [x, v], name: "h")[0]
        let layer = b.add(.linear, [h, w], name: "layer")[0]
        let kept = b.add(.layerDrop(probability: 0), [h, layer], name: "kept")[0]
        let maybe = b.add(.layerDrop(probability: 0.5), [kept, layer], name: "maybe")[0]
        let loss = b.add(.reduce(.sum, axes: [0, 1], keepDims: false), [maybe], name: "loss")[0]
        let graph = try b.finishTraining(loss: loss)
        let (simplified, report) = Simplify.run(graph)
        #expect(simplified.verify().isEmpty)
        let reasons = Dictionary(report.bypassed.map { ($0.node, $0.reason) }, uniquingKeysWith: { a, _ in a })
        #expect(reasons["kept"] == "layer_drop with p = 0 (the layer is always kept)")
        #expect(reasons["grad.kept"] == "gradient of layer_drop with p = 0")
        #expect(reasons.values.contains("a sum with the zero gradient of a layer_drop with p = 0"))
        #expect(!simplified.nodes.contains { $0.name == "kept" || $0.name == "grad.kept" })
        #expect(simplified.nodes.contains { $0.name == "maybe" }, "a layer_drop that may drop stays")

        // The same gradients as the plain graph, whichever way the p = 0.5 node draws.
        let parameters = [
            "w": HostTensor(floats: (0..<16).map { Float(($0 * 5) % 7) * 0.1 - 0.3 }, shape: [4, 4]),
            "v": HostTensor(floats: (0..<16).map { Float(($0 * 3) % 5) * 0.2 - 0.4 }, shape: [4, 4]),
        ]
        let inputs = ["x": HostTensor(floats: (0..<8).map { Float($0) * 0.25 - 1 }, shape: [2, 4])]
        let fetch = ["loss", "grad.w", "grad.v"]
        for step: UInt64 in 0..<4 {
            try expectOptimizedBitwisePlain(graph, inputs: inputs, parameters: parameters, fetch: fetch, mode: .training(seed: 3, step: step))
        }
    }

    @Test("a plan: the fetched part only, inference form, gradient nodes paired with their forward nodes")
    func plan() throws {
        let graph = try Self.inferenceGraph()
        let inference = try ExecutionPlan.compile(graph, fetch: ["second"], mode: .inference)
        #expect(inference.program.nodes.map(\.name) == ["x", "w", "second"], "only what the fetched tap needs")
        #expect(inference.fetched.map(\.name) == ["second"])
        #expect(inference.lastReader[inference.fetched[0].value.index] == nil, "a fetched value is kept")
        let training = try ExecutionPlan.compile(graph, fetch: ["out"], mode: .training)
        #expect(training.program.nodes.filter { if case .dropout = $0.op { true } else { false } }.map(\.name) == ["noisy_a", "noisy_b"])
        let unoptimized = try ExecutionPlan.compile(graph, fetch: ["out"], mode: .training, optimize: false)
        #expect(unoptimized.simplification == nil)
        #expect(unoptimized.program.nodes.count == graph.nodes.count)

        #expect(throws: CompileError.self) { try ExecutionPlan.compile(graph, fetch: ["secnd"], mode: .inference) }
        do {
            _ = try ExecutionPlan.compile(graph, fetch: ["secnd"], mode: .inference)
        } catch {
            #expect(error.description.contains("'secnd' is not an output or tap of graph 'simplify'"))
            #expect(error.description.contains("did you mean 'second'?"))
        }
    }
}

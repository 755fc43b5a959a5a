import Compiler
import Foundation
import GraphIR
import GraphSpec
import SER
import Kernels
import Runtime
import Testing

/// The optimised plans (simplified) against the unoptimised ones on graphs/gmp_tl.yaml with a tiny HuBERT (the
/// gradient fixture's): the multitask stage's training step with the backbone's dropout at 0 (the bypassed
/// dropouts and their gradients) and the model's inference outputs.
@Suite struct OptimizedAgainstUnoptimizedTests {
    static let root = WholeModelGradientTests.root
    static let fixture = WholeModelGradientTests.fixture

    static func relativeError(_ a: HostTensor, _ b: HostTensor) -> Float {
        var largest: Float = 0, worst: Float = 0
        for i in 0..<a.count {
            largest = max(largest, abs(b.floats[i]))
            worst = max(worst, abs(a.floats[i] - b.floats[i]))
        }
        return largest == 0 ? worst : worst / largest
    }

    @Test func sameLossesGradientsAndOutputs() throws {
        let checkpoint = try HFCheckpoint.load(directory: Self.fixture)
        let overrides = checkpoint.configOverrides.map { "backbone." + $0 } + [
            "lstm_hidden=8", "projection=8", "gmp_layers=[1, 2]", "backbone.dropout=0", "backbone.layerdrop=0",
        ]
        let spec = try SpecCompiler.compile(path: Self.root.appendingPathComponent("graphs/gmp_tl.yaml").path, overrides: overrides)
        let stage = try #require(spec.stages.first { $0.name == "multitask" })
        let training = try TrainingGraph(model: spec.graph, stage: stage)
        var parameters = checkpoint.tensors
        for (name, tensor) in try Safetensors.read(Self.fixture + "/heads.safetensors") { parameters[name] = tensor }
        let reference = try Safetensors.read(Self.fixture + "/reference.safetensors")
        let inputs = try WholeModelGradientTests.inputs(reference)

        // Training: the same step (seed, step: the same time masks) through both plans.
        let fetch = ["loss"] + training.trainedParameters.map { "grad.\($0)" }
        let optimized = Interpreter(graph: training.graph), unoptimized = Interpreter(graph: training.graph, optimize: false)
        let plan = try optimized.plan(fetch: fetch, mode: .training(seed: 1, step: 0))
        let bypassed = plan.simplification?.bypassed.map(\.reason) ?? []
        #expect(bypassed.contains("dropout with p = 0") && bypassed.contains("gradient of dropout with p = 0"))
        #expect(bypassed.contains("layer_drop with p = 0 (the layer is always kept)"))
        #expect((plan.rematerialization?.recomputedCount ?? 0) > 0, "GELU and layer-norm outputs recomputed for the backward pass")
        #expect(plan.program.nodes.count < (try unoptimized.plan(fetch: fetch, mode: .training(seed: 1, step: 0))).program.nodes.count)
        for step: UInt64 in 0..<2 {
            let a = try optimized.run(inputs: inputs, parameters: parameters, fetch: fetch, mode: .training(seed: 1, step: step))
            let b = try unoptimized.run(inputs: inputs, parameters: parameters, fetch: fetch, mode: .training(seed: 1, step: step))
            let lossA = try #require(a["loss"]).floats[0], lossB = try #require(b["loss"]).floats[0]
            #expect(abs(lossA - lossB) <= 1e-5 * abs(lossB), "step \(step): loss \(lossA) against \(lossB)")
            for name in fetch.dropFirst() {
                let x = try #require(a[name]), y = try #require(b[name])
                #expect(Self.relativeError(x, y) <= 1e-4, "step \(step): \(name)")
            }
        }
        #expect(optimized.unplannedScratch == 0, "every workspace and saved statistic of the step has its place in the arena")

        // Inference: every output and tap of the model whose parameters the fixture has (not stage 1's frame heads).
        let model = spec.graph
        let names = try (model.outputs + model.taps).map(\.name).filter { name in
            try ExecutionPlan.compile(model, fetch: [name], mode: .inference).program.parameterNodes.allSatisfy {
                if case let .parameter(parameter, _) = $0.op { parameters[parameter] != nil } else { false }
            }
        }
        #expect(names.contains("emotion_logits") && names.contains("hidden.1"), "\(names)")
        let modelInputs = inputs.filter { key, _ in model.inputNodes.contains { if case let .input(name) = $0.op { name == key } else { false } } }
        let inference = Interpreter(graph: model)
        let a = try inference.run(inputs: modelInputs, parameters: parameters, fetch: names)
        #expect(inference.unplannedScratch == 0)
        let b = try Interpreter(graph: model, optimize: false).run(inputs: modelInputs, parameters: parameters, fetch: names)
        for name in names {
            let x = try #require(a[name]), y = try #require(b[name])
            guard x.dtype == .f32 else { continue }
            #expect(Self.relativeError(x, y) <= 1e-5, "\(name)")
        }
    }
}

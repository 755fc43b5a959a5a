import Compiler
import Foundation
import GraphIR
import GraphSpec
import SER
import Runtime
import Testing

/// The multitask stage of graphs/gmp_tl.yaml on a tiny HuBERT with small heads: the loss and the gradient of every
/// trained parameter against PyTorch autograd (Tests/CompilerTests/Fixtures/gmptl_gradients, made by
/// scripts/make_gradient_fixture.py in float64).
@Suite struct WholeModelGradientTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixture = root.appendingPathComponent("Tests/CompilerTests/Fixtures/gmptl_gradients").path

    /// The fixture's three utterances as a padded batch, with their targets and class weights.
    static func inputs(_ reference: [String: HostTensor]) throws -> [String: HostTensor] {
        let waves = try (0..<3).map { try #require(reference["wave.\($0)"]).floatArray }
        let longest = waves.map(\.count).max() ?? 0
        let wave = HostTensor(.f32, shape: [3, longest])
        for (b, samples) in waves.enumerated() {
            for (t, sample) in samples.enumerated() { wave.floats[b * longest + t] = sample }
        }
        return [
            "wave": wave, "lengths": HostTensor(int32s: waves.map { Int32($0.count) }, shape: [3]),
            "targets.emotion": try #require(reference["emotion"]), "targets.gender": try #require(reference["gender"]),
            "class_weights.emotion": try #require(reference["class_weights"]),
        ]
    }

    @Test func multitaskGradientsMatchPyTorch() throws {
        let checkpoint = try HFCheckpoint.load(directory: Self.fixture)
        // Evaluation-mode reference: no dropout and no time masking, so switch both off in the training graph.
        let overrides = checkpoint.configOverrides.map { "backbone." + $0 } + [
            "lstm_hidden=8", "projection=8", "gmp_layers=[1, 2]", "backbone.dropout=0", "backbone.layerdrop=0", "backbone.mask_time_prob=0", "backbone.mask_time_min_masks=0",
        ]
        let spec = try SpecCompiler.compile(path: Self.root.appendingPathComponent("graphs/gmp_tl.yaml").path, overrides: overrides)
        let stage = try #require(spec.stages.first { $0.name == "multitask" })
        let training = try TrainingGraph(model: spec.graph, stage: stage)

        // The CNN is frozen: no gradient reaches it, and none of its nodes has a backward node.
        #expect(!training.trainedParameters.contains { $0.hasPrefix("feature_extractor.") })
        #expect(!training.graph.nodes.contains { $0.isBackward && $0.scope.contains { $0.hasPrefix("conv_layers") } })

        let reference = try Safetensors.read(Self.fixture + "/reference.safetensors")
        var parameters = checkpoint.tensors
        for (name, tensor) in try Safetensors.read(Self.fixture + "/heads.safetensors") { parameters[name] = tensor }

        let inputs = try Self.inputs(reference)
        let fetch = ["loss", "loss.emotion", "loss.gender"] + training.trainedParameters.map { "grad.\($0)" }
        let results = try Interpreter(graph: training.graph).run(inputs: inputs, parameters: parameters, fetch: fetch,
                                                                mode: .training(seed: 1, step: 0))

        let loss = results["loss"]!.floats[0], expectedLoss = reference["loss"]!.floats[0]
        #expect(abs(loss - expectedLoss) <= 1e-5 * abs(expectedLoss), "loss \(loss) vs PyTorch's \(expectedLoss)")
        #expect(abs(results["loss.gender"]!.floats[0] - reference["gender_loss"]!.floats[0]) <= 1e-5)

        // Every reference gradient has a counterpart (named as the graph names it) and agrees to 1e-3 relative,
        // measured against the tensor's largest entry (entries that are 0 in exact arithmetic are float noise).
        let expected = reference.filter { $0.key.hasPrefix("grad.") }
        #expect(expected.count == training.trainedParameters.count - 1, "all but masked_spec_embed (unused in evaluation)")
        for (key, want) in expected.sorted(by: { $0.key < $1.key }) {
            let name = HFCheckpoint.backboneName(String(key.dropFirst(5))) ?? String(key.dropFirst(5))
            guard let got = results["grad.\(name)"] else {
                Issue.record("no gradient for '\(name)'")
                continue
            }
            #expect(got.shape == want.shape, "\(name)")
            var largest: Float = 0, worst: Float = 0
            for i in 0..<want.count {
                largest = max(largest, abs(want.floats[i]))
                worst = max(worst, abs(got.floats[i] - want.floats[i]))
            }
            if largest < 1e-9 {
                #expect(worst <= 1e-6, "\(name): expected zeros, differs by \(worst)")
            } else {
                #expect(worst / largest <= 1e-3, "\(name): max relative error \(worst / largest)")
            }
        }
    }
}

import Compiler
import Foundation
import GraphIR
import GraphSpec
import SER
import Kernels
import Runtime
import Testing

/// Stage 1's frame losses count only the frames the time mask replaced (`frames: masked`).
@Suite struct MaskedFrameLossTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func stage1CrossEntropyReadsTheTimeMask() throws {
        let spec = try SpecCompiler.compile(path: Self.root.appendingPathComponent("graphs/gmp_tl.yaml").path, overrides: [
            "backbone.features.channels=8", "backbone.features.kernels=[10, 3, 3]", "backbone.features.strides=[5, 2, 2]",
            "backbone.encoder.hidden=16", "backbone.encoder.heads=2", "backbone.encoder.intermediate=16", "backbone.encoder.layers=2",
            "backbone.encoder.pos_kernel=4", "backbone.encoder.pos_groups=2", "gmp_layers=[1, 2]", "k=[3, 4, 5]",
            "frame_head_hidden=4", "backbone.mask_time_prob=0.3", "backbone.mask_time_length=2", "backbone.mask_time_min_masks=1",
        ])
        let stage = try #require(spec.stages.first { $0.name == "stage1" })
        var training = try TrainingGraph(model: spec.graph, stage: stage)
        #expect(training.targets.allSatisfy { $0.perFrame })
        let losses = training.graph.nodes.filter { if case .crossEntropy = $0.op { true } else { false } }
        #expect(losses.count == 6)
        for node in losses {
            #expect(node.inputs.count == 4)
            #expect(training.graph.producer(of: node.inputs[3]).op.name == "time_mask")
        }

        // The loss of one head, by hand from its logits and the mask, equals the node's.
        let loss = try #require(losses.first { $0.name == "loss.gmp_1_3" })
        training.graph.outputs += [NamedValue("check.logits", loss.inputs[0]), NamedValue("check.mask", loss.inputs[3])]
        var parameters = [String: HostTensor]()
        for (index, node) in training.graph.parameterNodes.enumerated() {
            guard case let .parameter(name, dims) = node.op else { continue }
            let tensor = HostTensor(.f32, shape: dims.compactMap(\.constantValue))
            Philox(seed: 4, node: UInt32(index)).fillNormal(tensor.floats, count: tensor.count, std: 0.3)
            parameters[name] = tensor
        }
        let samples = [2_400, 1_600]
        let wave = HostTensor(.f32, shape: [2, 2_400])
        Philox(seed: 5).fillUniform(wave.floats, count: wave.count, low: -0.5, high: 0.5)
        var inputs: [String: HostTensor] = ["wave": wave, "lengths": HostTensor(int32s: samples.map(Int32.init), shape: [2])]
        let frames = training.graph[loss.inputs[0]].type.shape[1].evaluate(["B": 2, "S": 2_400]) ?? 0
        let valid = samples.map { ((($0 - 10) / 5 + 1 - 3) / 2 + 1 - 3) / 2 + 1 }
        for targets in training.targets {
            let k = Int32(targets.classes)
            let values = (0..<(2 * frames)).map { i in i % frames < valid[i / frames] ? Int32(i * 7 % Int(k)) : -100 }
            inputs[targets.input] = HostTensor(int32s: values, shape: [2, frames])
        }
        for weights in training.classWeights {
            inputs[weights.input] = HostTensor(floats: [Float](repeating: 1, count: weights.classes), shape: [weights.classes])
        }
        let results = try Interpreter(graph: training.graph).run(
            inputs: inputs, parameters: parameters, fetch: ["loss.gmp_1_3", "check.logits", "check.mask"], mode: .training(seed: 9, step: 2))
        let logits = try #require(results["check.logits"]), mask = try #require(results["check.mask"])
        let targets = try #require(inputs["targets.pseudo_labels.hidden.1.k3"])
        var total = 0.0, counted = 0.0
        for row in 0..<(2 * frames) where mask.floats[row] != 0 && targets.int32s[row] >= 0 {
            let scores = (0..<3).map { Double(logits.floats[row * 3 + $0]) }
            let top = scores.max() ?? 0
            let logSum = top + Foundation.log(scores.map { Foundation.exp($0 - top) }.reduce(0, +))
            total += logSum - scores[Int(targets.int32s[row])]
            counted += 1
        }
        #expect(counted > 0 && counted < Double(valid.reduce(0, +)), "some but not all valid frames are masked")
        let expected = total / counted
        let got = Double(try #require(results["loss.gmp_1_3"]).floats[0])
        #expect(abs(got - expected) <= 1e-5 * max(1, abs(expected)), "\(got) vs \(expected)")
    }
}

import Foundation
import GraphIR
import GraphSpec
import Kernels
@testable import Runtime
import Testing

/// Random parameters for every parameter of a graph (seeded): normal(0, 0.2), plus 1 for norm weights.
func randomParameters(for graph: Graph, seed: UInt64 = 7) -> [String: HostTensor] {
    var parameters = [String: HostTensor]()
    for (index, node) in graph.parameterNodes.enumerated() {
        guard case let .parameter(name, dims) = node.op else { continue }
        let shape = dims.compactMap(\.constantValue)
        let tensor = HostTensor(.f32, shape: shape)
        Philox(seed: seed, step: 0, node: UInt32(index)).fillNormal(tensor.floats, count: tensor.count, mean: 0, std: 0.2)
        if name.hasSuffix("norm.weight") || name.hasSuffix("layer_norm.weight") || name.hasSuffix("weight_g") {
            for i in 0..<tensor.count { tensor.floats[i] += 1 }
        }
        parameters[name] = tensor
    }
    return parameters
}

/// graphs/hubert_base.yaml, shrunk to a tiny backbone.
func tinyHubert() throws -> Graph {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return try SpecCompiler.compile(path: root.appendingPathComponent("graphs/hubert_base.yaml").path, overrides: [
        "features.channels=16", "features.kernels=[10, 3, 3]", "features.strides=[5, 2, 2]", "encoder.hidden=24",
        "encoder.heads=4", "encoder.intermediate=32", "encoder.layers=2", "encoder.pos_kernel=8", "encoder.pos_groups=4",
    ]).graph
}

/// A padded batch of waves.
func batch(_ waves: [[Float]]) -> (wave: HostTensor, lengths: HostTensor) {
    let longest = waves.map(\.count).max() ?? 0
    let wave = HostTensor(.f32, shape: [waves.count, longest])
    for (b, samples) in waves.enumerated() {
        for (t, sample) in samples.enumerated() { wave.floats[b * longest + t] = sample }
    }
    return (wave, HostTensor(int32s: waves.map { Int32($0.count) }, shape: [waves.count]))
}

func noise(_ count: Int, seed: UInt64) -> [Float] {
    let tensor = HostTensor(.f32, shape: [count])
    Philox(seed: seed).fillNormal(tensor.floats, count: count)
    return tensor.floatArray
}

@Suite("Interpreter")
struct InterpreterTests {
    @Test("a small graph computes what its ops say")
    func smallGraph() throws {
        let graph = try SpecCompiler.compile(text: """
            version: 1
            inputs:
              x: {dtype: f32, shape: [B, 3]}
            model:
              nodes:
                dense: {op: linear, in: x, out: 2, params: dense}
                act: {op: relu, in: dense}
                total: {op: reduce_sum, in: act, axes: [1]}
              outputs: {y: total, act: act}
            """, file: "small.yaml").graph
        let parameters = ["dense.weight": HostTensor(floats: [1, 0, -1, 0.5, 0.5, 0.5], shape: [2, 3]),
                          "dense.bias": HostTensor(floats: [0, -1], shape: [2])]
        let x = HostTensor(floats: [1, 2, 3, -4, 0, 2], shape: [2, 3])
        let result = try Interpreter(graph: graph).run(inputs: ["x": x], parameters: parameters, fetch: ["y", "act"])
        // Row 0: [1 - 3, 3 - 1] = [-2, 2] -> relu [0, 2]; row 1: [-4 - 2, -1 - 1] -> [0, 0].
        #expect(result["act"]?.floatArray == [0, 2, 0, 0])
        #expect(result["y"]?.floatArray == [2, 0])
    }

    @Test("a plan is compiled once per fetched names and mode, then reused")
    func plansAreCached() throws {
        let graph = try SpecCompiler.compile(text: """
            version: 1
            inputs:
              x: {dtype: f32, shape: [B, 3]}
            model:
              nodes:
                dense: {op: linear, in: x, out: 2, params: dense}
                drop: {op: dropout, in: dense, p: 0.5}
              outputs: {y: drop, dense: dense}
            """, file: "cached.yaml").graph
        let parameters = ["dense.weight": HostTensor(floats: [1, 0, -1, 0.5, 0.5, 0.5], shape: [2, 3]),
                          "dense.bias": HostTensor(floats: [0, -1], shape: [2])]
        let interpreter = Interpreter(graph: graph)
        for rows in [2, 5, 2] {
            let x = HostTensor(floats: (0..<(rows * 3)).map(Float.init), shape: [rows, 3])
            _ = try interpreter.run(inputs: ["x": x], parameters: parameters, fetch: ["y"])
        }
        #expect(interpreter.plans.count == 1, "other shapes, the same plan")
        // A training step places `dense` (read by dropout) in the arena and gives the fetched `y` a buffer of its own;
        // the results are those of the unoptimised interpreter, whose buffers all come from the pool.
        let unoptimized = Interpreter(graph: graph, optimize: false)
        for rows in [2, 5] {
            let x = HostTensor(floats: (0..<(rows * 3)).map(Float.init), shape: [rows, 3])
            let a = try interpreter.run(inputs: ["x": x], parameters: parameters, fetch: ["y"], mode: .training(seed: 4, step: 1))
            let b = try unoptimized.run(inputs: ["x": x], parameters: parameters, fetch: ["y"], mode: .training(seed: 4, step: 1))
            #expect(a["y"]?.floatArray == b["y"]?.floatArray)
        }
        #expect(interpreter.arenas.keptCapacity >= 5 * 2 * 4, "the training step placed dense in the arena")
        #expect(unoptimized.arenas.keptCapacity == 0, "without optimisation every buffer comes from the pool")
        _ = try interpreter.run(inputs: ["x": HostTensor(floats: [1, 2, 3], shape: [1, 3])], parameters: parameters, fetch: ["y"],
                                mode: .training(seed: 1, step: 0))
        _ = try interpreter.run(inputs: ["x": HostTensor(floats: [1, 2, 3], shape: [1, 3])], parameters: parameters, fetch: ["y"],
                                mode: .training(seed: 1, step: 1))
        #expect(interpreter.plans.count == 2, "training has its own plan, shared by its steps")
        #expect(try interpreter.plan(fetch: ["y"]).program.nodes.contains { if case .dropout = $0.op { true } else { false } } == false,
                "the inference plan bypasses dropout")
        #expect(throws: RunError.self) { try interpreter.plan(fetch: ["z"]) }
    }

    @Test("inputs of the wrong type, inconsistent sizes, missing or unknown inputs are errors that name them")
    func inputErrors() throws {
        let graph = try tinyHubert()
        let parameters = randomParameters(for: graph)
        let interpreter = Interpreter(graph: graph)
        let (wave, lengths) = batch([noise(1_000, seed: 1), noise(800, seed: 2)])
        func messages(_ inputs: [String: HostTensor]) -> [String] {
            do {
                _ = try interpreter.run(inputs: inputs, parameters: parameters, fetch: ["last_hidden_state"])
                return []
            } catch { return error.diagnostics.map(\.message) }
        }
        #expect(messages(["wave": wave]) == ["missing input 'lengths' (i32[B])"])
        #expect(messages(["wave": wave, "lengths": HostTensor(floats: [1, 2], shape: [2])]) == ["input 'lengths' must be i32[B], got f32[2]"])
        #expect(messages(["wave": wave, "lengths": HostTensor(int32s: [1, 2, 3], shape: [3])])
            == ["input 'lengths' axis 0 is B = 3, but input 'wave' axis 0 made B = 2"])
        #expect(messages(["wave": wave, "lengths": lengths, "wav": wave]) == ["unexpected input 'wav'"])
        #expect(throws: RunError.self) {
            try interpreter.run(inputs: ["wave": wave, "lengths": lengths], parameters: [:], fetch: ["last_hidden_state"])
        }
        #expect(throws: RunError.self) {
            // 5 samples are shorter than the conv stack's receptive field: a negative frame count.
            try interpreter.run(inputs: ["wave": HostTensor(.f32, shape: [1, 5]), "lengths": HostTensor(int32s: [5], shape: [1])],
                                parameters: parameters, fetch: ["last_hidden_state"])
        }
    }

    @Test("utterances of different lengths give the same hidden states in a padded batch as alone")
    func paddingInvariance() throws {
        let graph = try tinyHubert()
        let parameters = randomParameters(for: graph)
        let interpreter = Interpreter(graph: graph)
        let waves = [noise(2_000, seed: 3), noise(1_370, seed: 4), noise(905, seed: 5)]
        let taps = graph.taps.map(\.name)
        let padded = batch(waves)
        let together = try interpreter.run(inputs: ["wave": padded.wave, "lengths": padded.lengths], parameters: parameters, fetch: taps)
        for (b, samples) in waves.enumerated() {
            let single = batch([samples])
            let alone = try interpreter.run(inputs: ["wave": single.wave, "lengths": single.lengths], parameters: parameters, fetch: taps)
            for tap in taps {
                let a = try #require(alone[tap]), t = try #require(together[tap])
                let (frames, width) = (a.shape[1], a.shape[2])
                var worst: Float = 0, scale: Float = 0
                for f in 0..<frames {
                    for c in 0..<width {
                        let reference = a.floats[f * width + c]
                        worst = max(worst, abs(reference - t.floats[(b * t.shape[1] + f) * width + c]))
                        scale = max(scale, abs(reference))
                    }
                }
                #expect(worst <= 1e-5 * scale, "\(tap), utterance \(b): max difference \(worst) of \(scale)")
            }
        }
    }
}

@Suite("Cached constants after an optimizer step")
struct ConstantCacheStalenessTests {
    @Test("a weight updated in place by the optimizer is seen by the next inference run (no stale weight norm)")
    func updatedWeightsAreSeen() throws {
        var b = GraphBuilder(name: "stale")
        let x = b.input("x", .f32(["B", 3]))
        let v = b.parameter("v", shape: [2, 3]), g = b.parameter("g", shape: [2, 1])
        let w = b.add(.weightNorm(axis: 0), [v, g], name: "wn")[0]
        let y = b.add(.linear, [x, w], name: "y")[0]
        b.setOutputs([NamedValue("y", y)], taps: [])
        let graph = try b.finish()
        let parameters = [
            "v": HostTensor(floats: [1, 2, 3, 4, 5, 6], shape: [2, 3]),
            "g": HostTensor(floats: [1, 2], shape: [2, 1]),
        ]
        let input = ["x": HostTensor(floats: [1, 0, 0, 0, 1, 0], shape: [2, 3])]
        let interpreter = Interpreter(graph: graph)
        let before = try interpreter.run(inputs: input, parameters: parameters, fetch: ["y"])["y"]!.floatArray
        // One SGD step changes v in place (the tensors are shared, as in training).
        let optimizer = Optimizer(.sgd(momentum: 0, nesterov: false))
        try optimizer.step(parameters: parameters, gradients: [
            "v": HostTensor(floats: [1, -1, 1, -1, 1, -1], shape: [2, 3]),
            "g": HostTensor(floats: [0, 0], shape: [2, 1]),
        ], learningRate: 0.5)
        let after = try interpreter.run(inputs: input, parameters: parameters, fetch: ["y"])["y"]!.floatArray
        let fresh = try Interpreter(graph: graph).run(inputs: input, parameters: parameters, fetch: ["y"])["y"]!.floatArray
        #expect(after != before)
        #expect(after == fresh)
    }

    @Test("a convolution's weight packed once in inference: the plain numbers, and a weight updated in place is repacked")
    func packedConvolutionWeights() throws {
        var b = GraphBuilder(name: "packed_conv")
        let x = b.input("x", .f32(["B", 9, 4]))
        let v = b.parameter("v", shape: [4, 2, 5]), g = b.parameter("g", shape: [1, 1, 5])
        let w = b.add(.weightNorm(axis: 2), [v, g], name: "wn")[0]  // a cached constant, as HuBERT's positional conv
        let y = b.add(.conv1d(stride: 1, padding: 2, groups: 2), [x, w], name: "conv")[0]
        let plainWeight = b.parameter("d", shape: [3, 4, 9])  // 36 values a patch: not the direct loop
        let z = b.add(.conv1d(stride: 1, padding: 4, groups: 1), [x, plainWeight], name: "plain")[0]
        b.setOutputs([NamedValue("y", y), NamedValue("z", z)], taps: [])
        let graph = try b.finish()
        let parameters = [
            "v": HostTensor(floats: (0..<40).map { Float(($0 * 7) % 11) * 0.1 - 0.5 }, shape: [4, 2, 5]),
            "g": HostTensor(floats: [1, 2, 0.5, 1.5, 1], shape: [1, 1, 5]),
            "d": HostTensor(floats: (0..<108).map { Float(($0 * 5) % 7) * 0.2 - 0.6 }, shape: [3, 4, 9]),
        ]
        let input = ["x": HostTensor(floats: (0..<72).map { Float(($0 * 3) % 13) * 0.1 - 0.6 }, shape: [2, 9, 4])]
        let interpreter = Interpreter(graph: graph)
        func run(_ mode: RunMode) throws -> [[Float]] {
            let out = try interpreter.run(inputs: input, parameters: parameters, fetch: ["y", "z"], mode: mode)
            return [out["y"]!.floatArray, out["z"]!.floatArray]
        }
        // Inference packs the constant weights once; evaluation caches nothing: the same bits.
        let first = try run(.inference), again = try run(.inference), evaluated = try run(.evaluation)
        #expect(first == evaluated && again == evaluated)
        // Updated in place (and marked, as the optimizer does): the next inference run repacks.
        for name in ["v", "d"] {
            let tensor = parameters[name]!
            for i in 0..<tensor.count { tensor.floats[i] *= -1.5 }
            tensor.markModified()
        }
        let updated = try run(.inference)
        #expect(updated[0] != first[0] && updated[1] != first[1])
        #expect(updated == (try run(.evaluation)))
    }
    @Test("a long-kernel convolution with a constant weight runs through FFTs in inference: the direct numbers, and an updated weight is transformed again")
    func spectralConvolution() throws {
        var b = GraphBuilder(name: "spectral_conv")
        let x = b.input("x", .f32(["B", 40, 4]))
        let v = b.parameter("v", shape: [4, 2, 64]), g = b.parameter("g", shape: [1, 1, 64])
        let w = b.add(.weightNorm(axis: 2), [v, g], name: "wn")[0]  // HuBERT's positional conv in small
        let y = b.add(.conv1d(stride: 1, padding: 32, groups: 2), [x, w], name: "pos_conv")[0]
        b.setOutputs([NamedValue("y", y)], taps: [])
        let graph = try b.finish()
        let geometry = Conv1d.Geometry(batch: 2, inChannels: 4, outChannels: 4, inLength: 40, kernel: 64, padding: 32, groups: 2)
        #expect(Conv1d.usesSpectral(geometry))
        let parameters = [
            "v": HostTensor(floats: (0..<512).map { Float(($0 * 7) % 11) * 0.1 - 0.5 }, shape: [4, 2, 64]),
            "g": HostTensor(floats: (0..<64).map { 0.5 + Float($0 % 5) * 0.25 }, shape: [1, 1, 64]),
        ]
        let input = ["x": HostTensor(floats: (0..<320).map { Float(($0 * 3) % 13) * 0.1 - 0.6 }, shape: [2, 40, 4])]
        let interpreter = Interpreter(graph: graph)
        func run(_ mode: RunMode) throws -> [Float] {
            try interpreter.run(inputs: input, parameters: parameters, fetch: ["y"], mode: mode)["y"]!.floatArray
        }
        func expectNear(_ a: [Float], _ b: [Float], _ what: String) {
            #expect(a.count == b.count)
            let worst = zip(a, b).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? .infinity
            #expect(worst <= 1e-5, "\(what): \(worst)")
        }
        // Inference transforms the constant weight once (FFTs); evaluation runs the direct product.
        let first = try run(.inference), again = try run(.inference), evaluated = try run(.evaluation)
        #expect(first == again)
        expectNear(first, evaluated, "FFT against direct")
        let tensor = parameters["v"]!
        for i in 0..<tensor.count { tensor.floats[i] *= -1.5 }
        tensor.markModified()
        let updated = try run(.inference)
        #expect(updated != first)
        expectNear(updated, try run(.evaluation), "after an update")
    }
}

import Compiler
import GraphIR
import Kernels
import Runtime
import Testing
import TestSupport

/// The fusion pass, IR in and IR out (golden file in Snapshots/), its decisions and reasons, and the fused op's
/// numbers against the unfused ops.
@Suite("Fusion")
struct FusionTests {
    /// x -> linear -> gelu (fusible); x -> linear -> relu with the pre-activation also tapped (refused);
    /// x -> linear -> tanh with a second reader (refused); gelu -> scale (left to the elementwise-chain pass).
    static func graph() throws -> Graph {
        var b = GraphBuilder(name: "fusion")
        let x = b.input("x", .f32(["B", 8]))
        let w = b.parameter("w", shape: [6, 8]), bias = b.parameter("b", shape: [6])
        let pre = b.add(.linear, [x, w, bias], name: "ff_in")[0]
        let act = b.add(.unary(.gelu), [pre], name: "ff_act")[0]
        let scaled = b.add(.scale(0.5), [act], name: "half")[0]
        let tappedPre = b.add(.linear, [x, w], name: "tapped")[0]
        let relu = b.add(.unary(.relu), [tappedPre], name: "tapped_act")[0]
        let shared = b.add(.linear, [x, w], name: "shared")[0]
        let tanh = b.add(.unary(.tanh), [shared], name: "shared_act")[0]
        let sum = b.add(.binary(.add), [scaled, relu], name: "sum")[0]
        let sum2 = b.add(.binary(.add), [sum, tanh], name: "sum2")[0]
        let out = b.add(.binary(.add), [sum2, shared], name: "out")[0]
        b.setOutputs([NamedValue("out", out)], taps: [NamedValue("pre", tappedPre)])
        return try b.finish()
    }

    @Test("linear + activation fuses when the activation is the pre-activation's only reader; refusals name why")
    func decisions() throws {
        let (fused, report) = Fusion.run(try Self.graph())
        #expect(fused.verify().isEmpty)
        let byPair = Dictionary(uniqueKeysWithValues: report.decisions.map { ("\($0.producer)->\($0.consumer)", $0) })
        #expect(byPair["ff_in->ff_act"]?.fused == true)
        #expect(byPair["tapped->tapped_act"]?.fused == false)
        #expect(byPair["tapped->tapped_act"]?.reason == "the pre-activation is a graph output or tap")
        #expect(byPair["shared->shared_act"]?.fused == false)
        #expect(byPair["shared->shared_act"]?.otherReaders == ["out"])
        #expect(byPair["ff_act->half"] == nil, "pointwise chains are the chain pass's, which sees linear+gelu -> scale")
        #expect(report.fusedCount == 1)
        let node = try #require(fused.nodes.first { $0.op == .activated(.linear, .gelu) })
        #expect(node.members == ["ff_in", "ff_act"] && node.name == "ff_in+gelu")
        #expect(!fused.nodes.contains { $0.name == "ff_in" || $0.name == "ff_act" })
        expectSnapshot(fused.text, named: "fusion.inference.txt")
    }

    @Test("a residual add whose only reader is a layer norm becomes one add+layer_norm node, with the unfused numbers")
    func residualLayerNorm() throws {
        var b = GraphBuilder(name: "residual")
        let x = b.input("x", .f32(["B", 6])), r = b.input("r", .f32(["B", 6]))
        let gamma = b.parameter("gamma", shape: [6]), beta = b.parameter("beta", shape: [6])
        let sum = b.add(.binary(.add), [x, r], name: "residual")[0]
        let normed = b.add(.layerNorm(eps: 1e-5), [sum, gamma, beta], name: "norm")[0]
        let kept = b.add(.binary(.add), [normed, x], name: "kept")[0]  // read twice: not fused into the next norm
        let out = b.add(.layerNorm(eps: 1e-5), [kept, gamma, beta], name: "norm2")[0]
        let other = b.add(.binary(.add), [kept, r], name: "other")[0]
        b.setOutputs([NamedValue("out", out), NamedValue("other", other)], taps: [])
        let graph = try b.finish()
        let (fused, report) = Fusion.run(graph)
        #expect(fused.verify().isEmpty)
        let byPair = Dictionary(uniqueKeysWithValues: report.decisions.map { ("\($0.producer)->\($0.consumer)", $0) })
        #expect(byPair["residual->norm"]?.fused == true)
        #expect(byPair["kept->norm2"]?.fused == false && byPair["kept->norm2"]?.otherReaders == ["other"])
        #expect(fused.nodes.contains { $0.op == .addLayerNorm(eps: 1e-5) && $0.members == ["residual", "norm"] })

        let parameters = [
            "gamma": HostTensor(floats: [1, 0.5, 2, 1, 1.5, 0.8], shape: [6]),
            "beta": HostTensor(floats: [0, 0.1, -0.1, 0.2, 0, 0.3], shape: [6]),
        ]
        let inputs = [
            "x": HostTensor(floats: (0..<18).map { Float(($0 * 7) % 5) * 0.3 - 0.6 }, shape: [3, 6]),
            "r": HostTensor(floats: (0..<18).map { Float(($0 * 5) % 7) * 0.2 - 0.5 }, shape: [3, 6]),
        ]
        let plain = try Interpreter(graph: graph, optimize: false).run(inputs: inputs, parameters: parameters, fetch: ["out", "other"])
        let optimized = try Interpreter(graph: graph).run(inputs: inputs, parameters: parameters, fetch: ["out", "other"])
        for name in ["out", "other"] {
            #expect(optimized[name]!.floatArray == plain[name]!.floatArray, "\(name): the same operations, the same bits")
        }
    }

    @Test("a fused norm writes over its input as the norm alone does (the memory plan places it in place)")
    func fusedNormStaysInPlace() throws {
        var b = GraphBuilder(name: "in_place")
        let x = b.input("x", .f32([2, 5, 4])), lengths = b.input("lengths", .i32([2]))
        let gamma = b.parameter("gamma", shape: [4]), beta = b.parameter("beta", shape: [4])
        let scaled = b.add(.scale(2), [x], name: "scaled")[0]
        let normed = b.add(.groupNorm(groups: 2, eps: 1e-5), [scaled, gamma, beta, lengths], name: "norm")[0]
        let act = b.add(.unary(.gelu), [normed], name: "act")[0]
        let out = b.add(.scale(0.5), [act], name: "out")[0]
        b.setOutputs([NamedValue("out", out)], taps: [])
        let plan = try ExecutionPlan.compile(try b.finish(), fetch: ["out"], mode: .inference)
        let fusedNode = try #require(plan.program.nodes.first { $0.op == .activated(.groupNorm(groups: 2, eps: 1e-5), .gelu) })
        let memory = try #require(MemoryPlan.make(plan, symbols: [:]))
        let scaledValue = try #require(plan.program.nodes.first { $0.name == "scaled" }).outputs[0]
        #expect(memory.placements[fusedNode.outputs[0].index]?.sharesWith == scaledValue)
    }

    @Test("in a training graph a frozen pair fuses; a pair whose pre-activation the backward pass reads does not")
    func trainingGraphs() throws {
        var b = GraphBuilder(name: "fusion_training")
        let x = b.input("x", .f32([3, 8]))
        let frozen = b.parameter("frozen.w", shape: [8, 8]), w = b.parameter("w", shape: [6, 8])
        let features = b.add(.linear, [x, frozen], name: "features")[0]
        let active = b.add(.unary(.gelu), [features], name: "features_act")[0]
        let pre = b.add(.linear, [active, w], name: "ff_in")[0]
        let act = b.add(.unary(.gelu), [pre], name: "ff_act")[0]
        let loss = b.add(.reduce(.sum, axes: [0, 1], keepDims: false), [act], name: "loss")[0]
        let graph = try b.finishTraining(loss: loss) { !$0.hasPrefix("frozen.") }
        let (fused, report) = Fusion.run(graph)
        #expect(fused.verify().isEmpty)
        let byPair = Dictionary(uniqueKeysWithValues: report.decisions.map { ("\($0.producer)->\($0.consumer)", $0) })
        #expect(byPair["features->features_act"]?.fused == true, "no backward node reads the frozen pre-activation")
        #expect(byPair["ff_in->ff_act"]?.fused == false)
        #expect(byPair["ff_in->ff_act"]?.reason.hasPrefix("the pre-activation is read by the backward pass") == true)
        #expect(byPair["ff_in->ff_act"]?.otherReaders.contains("grad.ff_act") == true)
        #expect(fused.nodes.filter { if case .activated = $0.op { true } else { false } }.map(\.name) == ["features+gelu"])

        // The same loss and gradients, bit for bit, fused or not (the epilogue is the unfused GELU's operations).
        let parameters = [
            "frozen.w": HostTensor(floats: (0..<64).map { Float(($0 * 5) % 9) * 0.1 - 0.4 }, shape: [8, 8]),
            "w": HostTensor(floats: (0..<48).map { Float($0 % 7) * 0.1 - 0.3 }, shape: [6, 8]),
        ]
        let inputs = ["x": HostTensor(floats: (0..<24).map { Float(($0 * 13) % 11) * 0.2 - 1 }, shape: [3, 8])]
        let fetch = ["loss", "grad.w"]
        let mode = RunMode.training(seed: 1, step: 0)
        #expect(try Interpreter(graph: graph).plan(fetch: fetch, mode: mode).fusion?.fusedCount == 1)
        try expectOptimizedBitwisePlain(graph, inputs: inputs, parameters: parameters, fetch: fetch, mode: mode)
    }

    @Test("the fused plan computes the unfused plan's outputs (within 1e-5 relative)")
    func numbers() throws {
        let graph = try Self.graph()
        let parameters = [
            "w": HostTensor(floats: (0..<48).map { Float($0 % 7) * 0.1 - 0.3 }, shape: [6, 8]),
            "b": HostTensor(floats: [0.1, -0.2, 0.3, 0, 0.05, -0.1], shape: [6]),
        ]
        let x = HostTensor(floats: (0..<40).map { Float(($0 * 13) % 11) * 0.2 - 1 }, shape: [5, 8])
        func run(optimize: Bool) throws -> [Float] {
            let interpreter = Interpreter(graph: graph, optimize: optimize)
            return try interpreter.run(inputs: ["x": x], parameters: parameters, fetch: ["out"])["out"]!.floatArray
        }
        let fused = try run(optimize: true), plain = try run(optimize: false)
        #expect(fused.count == plain.count)
        for (a, b) in zip(fused, plain) { #expect(abs(a - b) <= 1e-5 * max(1, abs(b))) }
    }

    /// wave -> conv (1 channel, 10 taps, stride 5) -> group norm -> gelu (fusible, three into one); the GELU's
    /// output -> conv2 (8 channels, 3 taps: 24 values) -> norm2, conv2 tapped (refused); -> conv3 (8 x 5 = 40 values)
    /// -> norm3 (refused: too large a patch).
    static func normalizedGraph() throws -> Graph {
        var b = GraphBuilder(name: "normalized_conv")
        let x = b.input("x", .f32(["B", 64, 1])), lengths = b.input("lengths", .i32(["B"]))
        func norm(_ input: ValueID, channels: Int, groups: Int, _ name: String) -> ValueID {
            let gamma = b.parameter("\(name).gamma", shape: [Dim(channels)]), beta = b.parameter("\(name).beta", shape: [Dim(channels)])
            return b.add(.groupNorm(groups: groups, eps: 1e-5), [input, gamma, beta, lengths], name: name)[0]
        }
        let w = b.parameter("w", shape: [8, 1, 10])
        let conv = b.add(.conv1d(stride: 5, padding: 0, groups: 1), [x, w], name: "conv")[0]
        let act = b.add(.unary(.gelu), [norm(conv, channels: 8, groups: 8, "norm")], name: "act")[0]
        let w2 = b.parameter("w2", shape: [4, 8, 3]), bias2 = b.parameter("b2", shape: [4])
        let conv2 = b.add(.conv1d(stride: 2, padding: 1, groups: 1), [act, w2, bias2], name: "conv2")[0]
        let normed2 = norm(conv2, channels: 4, groups: 2, "norm2")
        let w3 = b.parameter("w3", shape: [4, 8, 5])
        let conv3 = b.add(.conv1d(stride: 2, padding: 1, groups: 1), [act, w3], name: "conv3")[0]
        let normed3 = norm(conv3, channels: 4, groups: 4, "norm3")
        b.setOutputs([NamedValue("out2", normed2), NamedValue("out3", normed3)], taps: [NamedValue("pre2", conv2)])
        return try b.finish()
    }

    @Test("a conv1d whose only reader is a group norm folds the norm in, then takes its GELU; refusals name why")
    func normalizedConvolution() throws {
        let graph = try Self.normalizedGraph()
        let (fused, report) = Fusion.run(graph)
        #expect(fused.verify().isEmpty)
        let byPair = Dictionary(uniqueKeysWithValues: report.decisions.map { ("\($0.producer)->\($0.consumer)", $0) })
        #expect(byPair["conv->norm"]?.fused == true)
        #expect(byPair["conv+norm->act"]?.fused == true)
        #expect(byPair["conv2->norm2"]?.reason == "the convolution's output is a graph output or tap")
        #expect(byPair["conv3->norm3"]?.fused == false)
        #expect(byPair["conv3->norm3"]?.reason.contains("at most 32 values (here 1 group, 40 values)") == true)
        #expect(Op.normalizedConv1dMaximumPatch == NormalizedConv1d.maximumPatch, "the pass decides by the kernel's limit")
        let node = try #require(fused.nodes.first {
            $0.op == .activated(.normalizedConv1d(stride: 5, padding: 0, groups: 1, normGroups: 8, eps: 1e-5), .gelu)
        })
        #expect(node.name == "conv+norm+gelu" && node.members == ["conv", "norm", "act"])
        expectSnapshot(fused.text, named: "fusion.normalized_conv.txt")

        // The numbers of the unfused plan (the norm's statistics from the patches' moments in Float64 rather than
        // Float32 sums of the outputs): within 1e-5, padded frames 0.
        var parameters = [String: HostTensor]()
        for (index, value) in graph.values.enumerated() {
            guard case let .parameter(name, _) = graph.producer(of: value.id).op else { continue }
            let count = value.type.shape.reduce(1) { $0 * ($1.constantValue ?? 1) }
            let isScale = name.hasSuffix(".gamma")
            parameters[name] = HostTensor(
                floats: (0..<count).map { Float(($0 * 7 + index) % 11) * (isScale ? 0.05 : 0.1) + (isScale ? 0.7 : -0.5) },
                shape: value.type.shape.map { $0.constantValue ?? 1 })
        }
        let inputs = [
            "x": HostTensor(floats: (0..<128).map { Float(($0 * 13) % 17) * 0.1 - 0.7 }, shape: [2, 64, 1]),
            "lengths": HostTensor(int32s: [12, 9], shape: [2]),
        ]
        let fetch = ["out2", "out3"]
        let plain = try Interpreter(graph: graph, optimize: false).run(inputs: inputs, parameters: parameters, fetch: fetch)
        let optimized = try Interpreter(graph: graph).run(inputs: inputs, parameters: parameters, fetch: fetch)
        #expect(try Interpreter(graph: graph).plan(fetch: fetch, mode: .inference).program.nodes.contains { $0.name == "conv+norm+gelu" })
        for name in fetch {
            let a = optimized[name]!.floatArray, b = plain[name]!.floatArray
            #expect(a.count == b.count)
            for (x, y) in zip(a, b) { #expect(abs(x - y) <= 1e-5 * max(1, abs(y)), "\(name)") }
        }
    }

    @Test("a training step keeps the convolution and its norm apart, frozen or not (bitwise the unfused plan)")
    func normalizedConvolutionTraining() throws {
        for trainsConvolution in [false, true] {
            var b = GraphBuilder(name: "normalized_training")
            let x = b.input("x", .f32([2, 64, 1])), lengths = b.input("lengths", .i32([2]))
            let w = b.parameter("w", shape: [8, 1, 10]), gamma = b.parameter("gamma", shape: [8]), beta = b.parameter("beta", shape: [8])
            let v = b.parameter("v", shape: [3, 8])
            let conv = b.add(.conv1d(stride: 5, padding: 0, groups: 1), [x, w], name: "conv")[0]
            let normed = b.add(.groupNorm(groups: 8, eps: 1e-5), [conv, gamma, beta, lengths], name: "norm")[0]
            let projected = b.add(.linear, [normed, v], name: "proj")[0]
            let loss = b.add(.reduce(.sum, axes: [0, 1, 2], keepDims: false), [projected], name: "loss")[0]
            let trained = try b.finishTraining(loss: loss) { $0 == "v" || (trainsConvolution && $0 == "w") }
            let decision = Fusion.run(trained).report.decisions.first { $0.producer == "conv" }
            #expect(decision?.fused == false)
            #expect(decision?.reason.hasPrefix("a training step keeps the norm apart") == true)
        }
    }

    /// x -> q, k, v (linear with bias) -> attention; `train`: the loss differentiates q, k and v.
    static func attentionGraph(train: Bool) throws -> Graph {
        var b = GraphBuilder(name: "qkv")
        let x = train ? b.parameter("x", shape: [2, 5, 8]) : b.input("x", .f32([2, 5, 8]))
        let lengths = b.input("lengths", .i32([2]))
        var projected = [ValueID]()
        for name in ["q", "k", "v"] {
            let w = b.parameter("\(name).w", shape: [8, 8]), bias = b.parameter("\(name).b", shape: [8])
            projected.append(b.add(.linear, [x, w, bias], name: "layer.\(name)")[0])
        }
        let attention = b.add(.attention(heads: 2), projected + [lengths], name: "layer.attn")[0]
        if train {
            let loss = b.add(.reduce(.sum, axes: [0, 1, 2], keepDims: false), [attention], name: "loss")[0]
            return try b.finishTraining(loss: loss) { _ in true }
        }
        b.setOutputs([NamedValue("out", attention)], taps: [NamedValue("keys", projected[1])])
        return try b.finish()
    }

    @Test("q, k and v on one input become one linear_group with three outputs and the separate products' numbers")
    func siblingLinears() throws {
        let graph = try Self.attentionGraph(train: false)
        let (fused, report) = Fusion.run(graph)
        #expect(fused.verify().isEmpty)
        let group = try #require(fused.nodes.first { if case .linearGroup = $0.op { true } else { false } })
        #expect(group.op == .linearGroup(count: 3, bias: true))
        #expect(group.name == "layer.q+k+v" && group.members == ["layer.q", "layer.k", "layer.v"])
        #expect(group.outputs.count == 3 && !fused.nodes.contains { $0.op == .linear })
        #expect(fused.nodes.first { $0.name == "layer.attn" }?.inputs.prefix(3).elementsEqual(group.outputs) == true)
        #expect(fused.taps.first?.value == group.outputs[1], "the tapped k is the group's second output")
        let decision = try #require(report.decisions.first { $0.pattern == "3 x linear on one input" })
        #expect(decision.fused && decision.consumer == "layer.q, layer.k, layer.v")

        var parameters = [String: HostTensor]()
        for (index, name) in ["q", "k", "v"].enumerated() {
            parameters["\(name).w"] = HostTensor(floats: (0..<64).map { Float(($0 * (index + 3)) % 9) * 0.1 - 0.4 }, shape: [8, 8])
            parameters["\(name).b"] = HostTensor(floats: (0..<8).map { Float($0 + index) * 0.05 - 0.2 }, shape: [8])
        }
        let inputs = ["lengths": HostTensor(int32s: [5, 3], shape: [2]),
                      "x": HostTensor(floats: (0..<80).map { Float(($0 * 13) % 11) * 0.2 - 1 }, shape: [2, 5, 8])]
        try expectOptimizedBitwisePlain(graph, inputs: inputs, parameters: parameters, fetch: ["out", "keys"], mode: .inference)

        // Training: each member's gradient node pairs with its own forward node, so the group is refused.
        let training = try Self.attentionGraph(train: true)
        let (unfused, trainingReport) = Fusion.run(training)
        let refusal = try #require(trainingReport.decisions.first { $0.pattern == "3 x linear on one input" })
        #expect(!refusal.fused && refusal.reason.hasPrefix("a member's output is read by the backward pass"))
        #expect(refusal.otherReaders == ["grad.layer.attn"])
        #expect(!unfused.nodes.contains { if case .linearGroup = $0.op { true } else { false } })
    }

    @Test("pointwise ops that feed one another run as one chain node: the same bits, one random stream, gradient pairings kept")
    func elementwiseChains() throws {
        // Inference: tanh -> scale -> gelu on an input, the scale also tapped in a second graph.
        for tapped in [false, true] {
            var b = GraphBuilder(name: "chain")
            let x = b.input("x", .f32(["B", 6]))
            let a = b.add(.unary(.tanh), [x], name: "a")[0]
            let scaled = b.add(.scale(1.5), [a], name: "scaled")[0]
            let out = b.add(.unary(.gelu), [scaled], name: "out")[0]
            b.setOutputs([NamedValue("out", out)], taps: tapped ? [NamedValue("scaled", scaled)] : [])
            let graph = try b.finish()
            let plan = try ExecutionPlan.compile(graph, fetch: ["out"], mode: .inference)
            let chains = plan.program.nodes.filter { if case .chain = $0.op { true } else { false } }
            if tapped {
                #expect(chains.map(\.name) == ["a+scale"])
                #expect(plan.fusion?.decisions.first { $0.producer == "scaled" }?.reason == "the intermediate is a graph output or tap")
            } else {
                #expect(chains.map(\.name) == ["a+scale+gelu"] && chains.first?.members == ["a", "scaled", "out"])
                #expect(chains.first?.op == .chain([.unary(.tanh), .scale(1.5), .unary(.gelu)]))
            }
            let input = HostTensor(floats: (0..<30_000).map { Float(($0 * 37) % 101) * 0.04 - 2 }, shape: [5_000, 6])
            try expectOptimizedBitwisePlain(graph, inputs: ["x": input], parameters: [:], fetch: ["out"], mode: .inference)
        }

        // Training: linear -> gelu -> dropout -> linear. The forward pair stays apart (GELU's gradient node pairs
        // with it through its output); the pair recomputed for the backward pass is one chain drawing the dropout's
        // stream, and so are the two gradients: loss and gradients bitwise the unoptimised plan's.
        var b = GraphBuilder(name: "chain_training")
        let x = b.input("x", .f32([40, 64]))
        let w1 = b.parameter("w1", shape: [96, 64]), w2 = b.parameter("w2", shape: [8, 96])
        let pre = b.add(.linear, [x, w1], name: "ff_in")[0]
        let act = b.add(.unary(.gelu), [pre], name: "ff_act")[0]
        let dropped = b.add(.dropout(probability: 0.3), [act], name: "ff_drop")[0]
        let out = b.add(.linear, [dropped, w2], name: "ff_out")[0]
        let loss = b.add(.reduce(.sum, axes: [0, 1], keepDims: false), [out], name: "loss")[0]
        let graph = try b.finishTraining(loss: loss) { _ in true }
        let fetch = ["loss", "grad.w1", "grad.w2"]
        let mode = RunMode.training(seed: 3, step: 5)
        let plan = try Interpreter(graph: graph).plan(fetch: fetch, mode: mode)
        let chains = plan.program.nodes.filter { if case .chain = $0.op { true } else { false } }
        #expect(chains.map(\.name) == ["ff_act.recomputed+dropout"])
        #expect(chains.first?.isBackward == true && chains.first?.streamName == "ff_drop")
        // The gradients chain too: the dropout's (regenerating the mask from the forward's stream), then GELU's.
        let gradients = plan.program.nodes.filter { if case .gradientChain = $0.op { true } else { false } }
        #expect(gradients.map(\.name) == ["grad.ff_drop+gelu_grad"] && gradients.first?.streamName == "ff_drop")
        #expect(gradients.first?.op == .gradientChain([.dropout(probability: 0.3), .unary(.gelu)]))
        #expect(gradients.first?.members == ["grad.ff_drop", "grad.ff_act"])
        let forward = try #require(plan.fusion?.decisions.first { $0.producer == "ff_act" && $0.consumer == "ff_drop" })
        #expect(!forward.fused && forward.otherReaders == ["grad.ff_act"])
        let parameters = [
            "w1": HostTensor(floats: (0..<(96 * 64)).map { Float(($0 * 7) % 23) * 0.01 - 0.1 }, shape: [96, 64]),
            "w2": HostTensor(floats: (0..<(8 * 96)).map { Float(($0 * 5) % 17) * 0.02 - 0.15 }, shape: [8, 96]),
        ]
        let inputs = ["x": HostTensor(floats: (0..<(40 * 64)).map { Float(($0 * 13) % 29) * 0.1 - 1.4 }, shape: [40, 64])]
        try expectOptimizedBitwisePlain(graph, inputs: inputs, parameters: parameters, fetch: fetch, mode: mode)
    }
}


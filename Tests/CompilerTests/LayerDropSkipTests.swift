import Compiler
import Foundation
import GraphIR
import Kernels
import Runtime
import Testing

/// A training step skips the layers `layer_drop` drops: their forward nodes and the backward nodes of their (zero)
/// gradients do not run, and the loss and gradients are those of the network without them.
@Suite struct LayerDropSkipTests {
    /// A parameter node of `shape` and its tensor, normal with `std` from `seed`.
    static func randomParameter(
        _ name: String, _ shape: [Int], seed: UInt64, std: Float, builder: inout GraphBuilder, parameters: inout [String: HostTensor]
    ) -> ValueID {
        let tensor = HostTensor(.f32, shape: shape)
        Philox(seed: seed).fillNormal(tensor.floats, count: tensor.count, std: std)
        parameters[name] = tensor
        return builder.parameter(name, shape: shape.map { Dim($0) })
    }

    @Test func droppedLayersDoNotRunAndTheNumbersAreThoseWithoutThem() throws {
        let (rows, width, layers) = (3, 5, 8)
        var builder = GraphBuilder(name: "t")
        var parameters = [String: HostTensor]()
        func parameter(_ name: String, _ shape: [Int], seed: UInt64) -> ValueID {
            Self.randomParameter(name, shape, seed: seed, std: 0.5, builder: &builder, parameters: &parameters)
        }
        var x = parameter("x", [rows, width], seed: 1)
        for layer in 0..<layers {
            let w = parameter("w\(layer)", [width, width], seed: UInt64(10 + layer))
            let y = builder.add(.unary(.tanh), [builder.add(.linear, [x, w], name: "linear\(layer)")[0]], name: "tanh\(layer)")[0]
            x = builder.add(.layerDrop(probability: 0.5), [x, y], name: "drop\(layer)")[0]
        }
        let loss = builder.add(.reduce(.sum, axes: [0, 1], keepDims: false), [x], name: "loss")[0]
        let gradients = try Autodiff.appendGradients(of: loss, to: &builder) { _ in true }
        builder.setOutputs([NamedValue("loss", loss)] + gradients.map { NamedValue("grad.\($0.name)", $0.gradient) }, taps: [])
        let interpreter = Interpreter(graph: try builder.finish())
        let fetch = ["loss"] + gradients.map { "grad.\($0.name)" }

        var sawDropped = false, sawKept = false
        for step in 0..<6 {
            let profile = OpProfile()
            let results = try interpreter.run(inputs: [:], parameters: parameters, fetch: fetch, mode: .training(seed: 3, step: UInt64(step)),
                                              profile: profile)
            // A dropped layer's weights get exact zeros; a kept one's do not (almost surely).
            var kept = [Bool]()
            for layer in 0..<layers {
                let gradient = try #require(results["grad.w\(layer)"])
                kept.append(gradient.floatArray.contains { $0 != 0 })
            }
            sawDropped = sawDropped || kept.contains(false)
            sawKept = sawKept || kept.contains(true)
            let keptCount = kept.filter { $0 }.count
            #expect(profile.calls["linear", default: 0] == keptCount, "step \(step): only the kept layers' linear nodes run")
            #expect(profile.calls["tanh", default: 0] == keptCount, "step \(step)")
            #expect(profile.calls["linear_grad", default: 0] == keptCount, "step \(step): and only their backward nodes")
            #expect(profile.calls["layer_drop_grad", default: 0] == 0, "step \(step): gradients pass layer_drop as they are")

            // The loss of the network made of the kept layers, in Float64.
            var state = parameters["x"]!.floatArray.map(Double.init)
            for layer in 0..<layers where kept[layer] {
                let w = parameters["w\(layer)"]!.floatArray.map(Double.init)
                var next = [Double](repeating: 0, count: rows * width)
                for r in 0..<rows {
                    for o in 0..<width {
                        var sum = 0.0
                        for i in 0..<width { sum += state[r * width + i] * w[o * width + i] }
                        next[r * width + o] = Foundation.tanh(sum)
                    }
                }
                state = next
            }
            let expected = state.reduce(0, +)
            let actual = Double(try #require(results["loss"]).floats[0])
            #expect(abs(actual - expected) <= 1e-4 * max(1, abs(expected)), "step \(step): loss \(actual), expected \(expected)")
        }
        #expect(sawDropped && sawKept, "p = 0.5 over 8 layers and 6 steps drops some layers and keeps others")
    }

    /// Layers of linear -> gelu -> dropout: the optimised plan (recomputed chains, chained gradients) runs only the
    /// kept layers' chains and gives the unoptimised plan's loss and gradients, bit for bit, step after step.
    @Test func chainedGradientsOfDroppedLayersDoNotRun() throws {
        let (rows, width, layers) = (4, 24, 6)
        var builder = GraphBuilder(name: "chains")
        var parameters = [String: HostTensor]()
        func parameter(_ name: String, _ shape: [Int], seed: UInt64) -> ValueID {
            Self.randomParameter(name, shape, seed: seed, std: 0.3, builder: &builder, parameters: &parameters)
        }
        var x = parameter("x", [rows, width], seed: 1)
        for layer in 0..<layers {
            let w = parameter("w\(layer)", [width, width], seed: UInt64(20 + layer))
            let pre = builder.add(.linear, [x, w], name: "linear\(layer)")[0]
            let act = builder.add(.unary(.gelu), [pre], name: "gelu\(layer)")[0]
            let dropped = builder.add(.dropout(probability: 0.2), [act], name: "dropout\(layer)")[0]
            x = builder.add(.layerDrop(probability: 0.4), [x, dropped], name: "drop\(layer)")[0]
        }
        let loss = builder.add(.reduce(.sum, axes: [0, 1], keepDims: false), [x], name: "loss")[0]
        let gradients = try Autodiff.appendGradients(of: loss, to: &builder) { _ in true }
        builder.setOutputs([NamedValue("loss", loss)] + gradients.map { NamedValue("grad.\($0.name)", $0.gradient) }, taps: [])
        let graph = try builder.finish()
        let fetch = ["loss"] + gradients.map { "grad.\($0.name)" }
        let optimized = Interpreter(graph: graph), plain = Interpreter(graph: graph, optimize: false)
        var sawDropped = false
        for step in 0..<8 {
            let mode = RunMode.training(seed: 5, step: UInt64(step))
            let profile = OpProfile()
            let a = try optimized.run(inputs: [:], parameters: parameters, fetch: fetch, mode: mode, profile: profile)
            let b = try plain.run(inputs: [:], parameters: parameters, fetch: fetch, mode: mode)
            for name in fetch { #expect(a[name]?.floatArray == b[name]?.floatArray, "step \(step): \(name)") }
            let kept = profile.calls["linear", default: 0]
            sawDropped = sawDropped || kept < layers
            #expect(profile.calls["dropout_grad+gelu_grad", default: 0] == kept, "step \(step): one chained gradient per kept layer")
            #expect(profile.calls["gelu_grad", default: 0] == 0 && profile.calls["dropout_grad", default: 0] == 0)
        }
        #expect(sawDropped)
        #expect(optimized.unplannedScratch == 0)
    }
}


import Compiler
import Foundation
import GraphIR
import Kernels
import Runtime
import Testing

/// A training step skips the layers `layer_drop` drops: their forward nodes and the backward nodes of their (zero)
/// gradients do not run, and the loss and gradients are those of the network without them.
@Suite struct LayerDropSkipTests {
    @Test func droppedLayersDoNotRunAndTheNumbersAreThoseWithoutThem() throws {
        let (rows, width, layers) = (3, 5, 8)
        var builder = GraphBuilder(name: "t")
        var parameters = [String: HostTensor]()
        func parameter(_ name: String, _ shape: [Int], seed: UInt64) -> ValueID {
            let tensor = HostTensor(.f32, shape: shape)
            Philox(seed: seed).fillNormal(tensor.floats, count: tensor.count, std: 0.5)
            parameters[name] = tensor
            return builder.parameter(name, shape: shape.map { Dim($0) })
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
}

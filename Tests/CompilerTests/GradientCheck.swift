import Compiler
import GraphIR
import Kernels
import Runtime
import Testing

/// A finite-difference check of the compiler's gradients for a small graph: every parameter of `build`'s graph is
/// trainable, the loss is `sum(output * R)` for a fixed random `R` (so every output element matters, with its own
/// weight), and each parameter's gradient is compared with central differences of the loss, computed in the same
/// training mode (the same dropout and time masks).
struct GradientCheck {
    var parameters: [String: HostTensor] = [:]
    var inputs: [String: HostTensor] = [:]
    var seed: UInt64 = 11

    /// A parameter of `shape` with normal(0, std) values (plus `offset`), declared in `builder`.
    mutating func parameter(_ name: String, _ shape: [Int], std: Float = 1, offset: Float = 0, in builder: inout GraphBuilder) -> ValueID {
        let tensor = HostTensor(.f32, shape: shape)
        seed &+= 1
        Philox(seed: seed).fillNormal(tensor.floats, count: tensor.count, mean: offset, std: std)
        parameters[name] = tensor
        return builder.parameter(name, shape: shape.map { Dim($0) })
    }

    /// An input given as is.
    mutating func input(_ name: String, _ tensor: HostTensor, in builder: inout GraphBuilder) -> ValueID {
        inputs[name] = tensor
        return builder.input(name, TensorType(tensor.dtype, tensor.shape.map { Dim($0) }))
    }

    /// Builds the loss over `output`, differentiates, and compares every gradient entry with central differences:
    /// |analytic - numeric| <= tolerance * max(1, |numeric|) (Float32 kernels: steps of 1e-2 agree to ~1e-4).
    func check(
        _ builder: GraphBuilder, output: ValueID, step: Float = 1e-2, tolerance: Float = 5e-3,
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) throws {
        var builder = builder
        let type = builder.type(of: output)
        let shape = type.shape.compactMap(\.constantValue)
        let weights = HostTensor(.f32, shape: shape)
        Philox(seed: 99).fillNormal(weights.floats, count: weights.count)
        let weightValue = builder.input("loss_weights", TensorType(.f32, type.shape))
        let product = builder.add(.binary(.multiply), [output, weightValue], name: "weighted")[0]
        let loss = builder.add(.reduce(.sum, axes: Array(0..<shape.count), keepDims: false), [product], name: "loss")[0]
        let gradients = try Autodiff.appendGradients(of: loss, to: &builder) { _ in true }
        builder.setOutputs([NamedValue("loss", loss)] + gradients.map { NamedValue("grad.\($0.name)", $0.gradient) }, taps: [])
        let graph = try builder.finish()
        #expect(graph.verify().isEmpty, sourceLocation: sourceLocation)
        let interpreter = Interpreter(graph: graph)
        var inputs = self.inputs
        inputs["loss_weights"] = weights
        let mode = RunMode.training(seed: 5, step: 3)
        let analytic = try interpreter.run(inputs: inputs, parameters: parameters,
                                           fetch: gradients.map { "grad.\($0.name)" }, mode: mode)
        #expect(Set(gradients.map(\.name)) == Set(parameters.keys), "every parameter gets a gradient", sourceLocation: sourceLocation)
        func lossValue() throws -> Double {
            Double(try interpreter.run(inputs: inputs, parameters: parameters, fetch: ["loss"], mode: mode)["loss"]!.floats[0])
        }
        for (name, _) in gradients {
            let parameter = parameters[name]!, gradient = analytic["grad.\(name)"]!
            #expect(gradient.shape == parameter.shape, sourceLocation: sourceLocation)
            var worst: Float = 0
            for index in 0..<parameter.count {
                let saved = parameter.floats[index]
                parameter.floats[index] = saved + step
                let plus = try lossValue()
                parameter.floats[index] = saved - step
                let minus = try lossValue()
                parameter.floats[index] = saved
                let numeric = Float((plus - minus) / (2 * Double(step)))
                worst = max(worst, abs(gradient.floats[index] - numeric) / max(1, abs(numeric)))
            }
            #expect(worst <= tolerance, "gradient of '\(name)': worst relative error \(worst)", sourceLocation: sourceLocation)
        }
    }
}

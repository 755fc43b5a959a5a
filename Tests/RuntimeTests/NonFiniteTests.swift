import GraphIR
import GraphSpec
@testable import Runtime
import Testing

/// A result with NaN or infinity is an error naming what was run and the node that made the first non-finite value,
/// at its line in the spec, never silent NaN output.
@Suite("Non-finite activations")
struct NonFiniteTests {
    static let spec = """
        version: 1
        inputs:
          x: {dtype: f32, shape: [B, 3]}
        model:
          nodes:
            scale: {op: linear, in: x, out: 2, params: scale}
            dense: {op: linear, in: scale, out: 2, params: dense}
            act: {op: gelu, in: dense}
          outputs: {y: act}
        """

    static func parameters(denseWeight: Float, denseBias: Float = 0) -> [String: HostTensor] {
        ["scale.weight": HostTensor(floats: [1, 0, 0, 0, 1, 0], shape: [2, 3]), "scale.bias": HostTensor(floats: [0, 0], shape: [2]),
         "dense.weight": HostTensor(floats: [denseWeight, 0, 0, denseWeight], shape: [2, 2]),
         "dense.bias": HostTensor(floats: [denseBias, 0], shape: [2])]
    }

    @Test("an overflow inside the graph names the node that made it and its spec line, optimised or not")
    func overflow() throws {
        let graph = try SpecCompiler.compile(text: Self.spec, file: "overflow.yaml").graph
        let x = HostTensor(floats: [1e20, 2, 3, 4, 5, 6], shape: [2, 3])
        for optimize in [true, false] {
            let interpreter = Interpreter(graph: graph, optimize: optimize)
            // Finite weights: a finite result passes.
            let fine = try interpreter.runFinite(inputs: ["x": x], parameters: Self.parameters(denseWeight: 1), fetch: ["y"], source: "the rows")
            #expect(fine["y"]?.floatArray.allSatisfy { $0.isFinite } == true)
            // 1e20 x 1e30 overflows Float32 in `dense` (or the linear + GELU group the optimiser makes of it).
            let error = #expect(throws: RunError.self) {
                try interpreter.runFinite(inputs: ["x": x], parameters: Self.parameters(denseWeight: 1e30), fetch: ["y"], source: "the rows")
            }
            let diagnostic = try #require(error?.diagnostics.first)
            #expect(diagnostic.message.hasPrefix("y of the rows is not finite: node '"), "\(diagnostic.message)")
            #expect(diagnostic.message.contains("dense"), "\(diagnostic.message)")
            #expect(diagnostic.message.contains("made 1 of 4 values not finite from finite inputs"), "\(diagnostic.message)")
            #expect(diagnostic.location?.file == "overflow.yaml" && diagnostic.location?.line == 7, "\(String(describing: diagnostic.location)) \(diagnostic.message)")
        }
    }

    @Test("a NaN parameter is named as the source")
    func nanParameter() throws {
        let graph = try SpecCompiler.compile(text: Self.spec, file: "nan.yaml").graph
        let x = HostTensor(floats: [1, 2, 3, 4, 5, 6], shape: [2, 3])
        let error = #expect(throws: RunError.self) {
            try Interpreter(graph: graph).runFinite(inputs: ["x": x], parameters: Self.parameters(denseWeight: 1, denseBias: .nan),
                                                    fetch: ["y"], source: "the rows")
        }
        #expect(error?.diagnostics.first?.message == "y of the rows is not finite: the parameter 'dense.bias' holds values that are not finite (NaN or infinity)",
                "\(error?.description ?? "")")
    }
}

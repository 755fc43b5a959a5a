import Foundation
import GraphIR
import GraphSpec
import Kernels
import ONNXExport
import Runtime
import Testing

/// The ONNX lowering: what a graph becomes, read back through the protobuf reader; refusals by op name.
@Suite("ONNX export")
struct ONNXLoweringTests {
    static let spec = """
        version: 1
        inputs:
          x: {dtype: f32, shape: [B, T, 4]}
        model:
          nodes:
            conv: {op: conv1d, in: x, out: 6, kernel: 3, stride: 2, params: conv}
            act: {op: gelu, in: conv}
            norm: {op: layer_norm, in: act, params: norm}
            dense: {op: linear, in: norm, out: 3, params: dense}
            drop: {op: dropout, in: dense, p: 0.1}
            probabilities: {op: softmax, in: drop}
          outputs: {probabilities: probabilities}
        """

    static func parameters(_ graph: Graph) -> [String: HostTensor] {
        var parameters = [String: HostTensor]()
        for (index, node) in graph.parameterNodes.enumerated() {
            guard case let .parameter(name, dims) = node.op else { continue }
            let tensor = HostTensor(.f32, shape: dims.compactMap(\.constantValue))
            Philox(seed: 3, node: UInt32(index)).fillNormal(tensor.floats, count: tensor.count, std: 0.5)
            parameters[name] = tensor
        }
        return parameters
    }

    @Test("a small model: inputs with symbolic dims, parameters as initializers, one ONNX node group per op, opset 17")
    func smallModel() throws {
        let graph = try SpecCompiler.compile(text: Self.spec, file: "small.yaml").graph
        let lowering = try ONNXLowering(graph: graph, parameters: Self.parameters(graph), outputs: ["probabilities"], modelName: "small",
                                        producerVersion: "test")
        let model = try ProtobufFields(lowering.model.encoded())
        #expect(model.integers(1) == [8])
        #expect(model.strings(2) == ["gmptl"])
        let opset = try #require(try model.messages(8).first)
        #expect(opset.integers(2) == [17])
        let graphFields = try #require(try model.messages(7).first)
        let nodes = try graphFields.messages(1)
        let types = nodes.flatMap { $0.strings(4) }
        #expect(types == ["Transpose", "Conv", "Transpose", "Div", "Erf", "Add", "Mul", "Mul", "LayerNormalization", "Transpose", "MatMul",
                          "Add", "Identity", "Softmax"], "\(types)")
        let initializers = try graphFields.messages(5)
        let names = Set(initializers.flatMap { $0.strings(8) })
        #expect(names.isSuperset(of: ["conv.weight", "conv.bias", "norm.weight", "norm.bias", "dense.weight", "dense.bias"]))
        // Raw float data of the right size: conv.weight is [6, 4, 3].
        let conv = try #require(initializers.first { $0.strings(8) == ["conv.weight"] })
        #expect(conv.integers(1) == [6, 4, 3] && conv.integers(2) == [1])
        if case let .bytes(raw)? = conv[9].first { #expect(raw.count == 6 * 4 * 3 * 4) } else { Issue.record("no raw data") }
        // The input keeps its symbolic dims; the output is named as asked.
        let input = try #require(try graphFields.messages(11).first)
        #expect(input.strings(1) == ["x"])
        let dims = try input.messages(2).first?.messages(1).first?.messages(2).first?.messages(1) ?? []
        #expect(dims.map { $0.strings(2).first ?? String($0.integers(1).first ?? -1) } == ["B", "T", "4"])
        #expect(try graphFields.messages(12).flatMap { $0.strings(1) } == ["probabilities"])
    }

    @Test("what ONNX cannot express is refused by op name, with its node and line")
    func refusal() throws {
        let graph = try SpecCompiler.compile(text: """
            version: 1
            inputs:
              x: {dtype: f32, shape: [B, T, 4]}
            model:
              nodes:
                swapped: {op: reshape, in: x, shape: [T, B, 4]}
              outputs: {y: swapped}
            """, file: "swap.yaml").graph
        let error = #expect(throws: ExportError.self) {
            try ONNXLowering(graph: graph, parameters: [:], outputs: ["y"], modelName: "m", producerVersion: "test")
        }
        let diagnostic = try #require(error?.diagnostics.first)
        #expect(diagnostic.message == "node 'swapped': op 'reshape' reshapes to more than one size ONNX cannot infer ([T, B, 4])",
                "\(diagnostic.message)")
        #expect(diagnostic.location?.file == "swap.yaml" && diagnostic.location?.line == 6)
        let unknown = #expect(throws: ExportError.self) {
            try ONNXLowering(graph: graph, parameters: [:], outputs: ["why"], modelName: "m", producerVersion: "test")
        }
        #expect(unknown?.description.contains("no output or tap 'why' to export") == true)
    }

    @Test("the protobuf reader refuses truncated input instead of reading past the end")
    func malformed() {
        var writer = ProtobufWriter()
        writer.string(1, "hello")
        writer.integer(2, -5)
        let bytes = writer.bytes
        #expect((try? ProtobufFields(bytes))?.integers(2) == [-5])
        #expect(throws: ProtobufFields.Malformed.self) { try ProtobufFields(Array(bytes.dropLast(3))) }
        #expect(throws: ProtobufFields.Malformed.self) { try ProtobufFields([0x0A, 0xFF]) }
    }
}

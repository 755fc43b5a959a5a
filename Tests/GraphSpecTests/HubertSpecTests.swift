import GraphIR
import Testing
import TestSupport
@testable import GraphSpec

@Suite("graphs/hubert_base.yaml")
struct HubertSpecTests {
    @Test("HuBERT base has 94,371,712 parameters with HF's names")
    func parameterCount() throws {
        let graph = try SpecCompiler.compile(path: graphPath("hubert_base.yaml")).graph
        #expect(graph.parameterCount == 94_371_712)
        let names = graph.parameterNodes.compactMap { node -> String? in
            if case let .parameter(name, _) = node.op { name } else { nil }
        }
        #expect(names.count == 211)
        #expect(names.contains("masked_spec_embed"))
        #expect(names.contains("feature_extractor.conv_layers.0.layer_norm.weight"))
        #expect(names.contains("encoder.pos_conv_embed.conv.weight_g"))
        #expect(names.contains("encoder.pos_conv_embed.conv.weight_v"))
        #expect(names.contains("encoder.layers.11.feed_forward.output_dense.bias"))
        #expect(!names.contains("feature_extractor.conv_layers.1.conv.bias"))
    }

    @Test("each transformer layer has 7,087,872 parameters: --set encoder.layers=2 removes ten of them")
    func fewerLayers() throws {
        let graph = try SpecCompiler.compile(path: graphPath("hubert_base.yaml"), overrides: ["encoder.layers=2"]).graph
        #expect(graph.parameterCount == 94_371_712 - 10 * 7_087_872)
        #expect(graph.taps.map(\.name) == ["hidden.0", "hidden.1", "hidden.2"])
    }

    @Test("frames are floor((S - 400) / 320) + 1 and every hidden state is tapped")
    func hiddenStates() throws {
        let graph = try SpecCompiler.compile(path: graphPath("hubert_base.yaml")).graph
        #expect(graph.taps.map(\.name) == (0...12).map { "hidden.\($0)" })
        for tap in graph.taps { #expect(graph[tap.value].type.description == "f32[B, floor((S - 400) / 320) + 1, 768]") }
        #expect(graph[graph.taps[0].value].type.shape[1].evaluate(["S": 64_000]) == 199)
    }

    @Test("a small backbone's IR and DOT match their snapshots")
    func snapshots() throws {
        let graph = try SpecCompiler.compile(path: graphPath("hubert_base.yaml"), overrides: ["encoder.layers=2"]).graph
        expectSnapshot(graph.text, named: "hubert_base.layers2.ir.txt")
        expectSnapshot(graph.dot(DOTOptions(collapse: .layers)), named: "hubert_base.layers2.layers.dot")
    }

    @Test("overrides of unknown keys and bad values are errors naming the key")
    func badOverrides() {
        #expect {
            try SpecCompiler.compile(path: graphPath("hubert_base.yaml"), overrides: ["encoder.layer=2"]).graph
        } throws: { error in
            guard let error = error as? SpecError, let first = error.diagnostics.first else { return false }
            return first.message == "--set encoder.layer: no such config key" && first.hint?.hasPrefix("did you mean 'encoder.layers'?") == true
        }
        #expect(throws: SpecError.self) { try SpecCompiler.compile(path: graphPath("hubert_base.yaml"), overrides: ["encoder.layers"]) }
        #expect(throws: SpecError.self) { try SpecCompiler.compile(path: graphPath("hubert_base.yaml"), overrides: ["encoder=3"]) }
        #expect(throws: SpecError.self) { try SpecCompiler.compile(path: graphPath("hubert_base.yaml"), overrides: ["encoder.layers=[1"]) }
    }
}

import Foundation
import GraphIR
import Testing
@testable import GraphSpec

@Suite("Imports and graphs/gmp_tl.yaml")
struct ImportTests {
    /// Writes files into a fresh temporary folder and returns its path.
    static func folder(_ files: [String: String]) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gmptl-imports-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return directory.path
    }

    static let backbone = """
        version: 1
        config:
          width: 6
        inputs:
          x: {dtype: f32, shape: [B, T, 4]}
        blocks:
          proj:
            inputs: [x]
            nodes:
              out: {op: linear, in: x, out: "${width}", params: dense}
            outputs: [out]
        model:
          nodes:
            first: {block: proj, in: x, params: first}
          taps:
            inner: first
          outputs:
            features: first
        """

    @Test("an imported model is a block with its own config, blocks and taps; its config is overridable by prefix")
    func importedModel() throws {
        let root = try Self.folder(["backbone.yaml": Self.backbone, "top.yaml": """
            version: 1
            imports:
              net: backbone.yaml
            inputs:
              x: {dtype: f32, shape: [B, T, 4]}
            model:
              nodes:
                body: {block: net, in: x}
                again: {block: net.proj, in: x, params: again}
                head: {op: linear, in: body.features, out: 2, params: head}
              outputs:
                y: head
                z: again
            """])
        let compiled = try SpecCompiler.compile(path: root + "/top.yaml")
        #expect(compiled.graph.taps.map(\.name) == ["inner"])
        #expect(compiled.graph.parameterCount == (4 * 6 + 6) * 2 + (6 * 2 + 2))
        let wider = try SpecCompiler.compile(path: root + "/top.yaml", overrides: ["net.width=8"])
        #expect(wider.graph.parameterCount == (4 * 8 + 8) * 2 + (8 * 2 + 2))
    }

    @Test("a missing import, an import cycle and an unknown imported block are errors at the import or the node")
    func badImports() throws {
        let root = try Self.folder([
            "a.yaml": "version: 1\nimports:\n  b: b.yaml\ninputs:\n  x: {dtype: f32, shape: [B]}\nmodel:\n  nodes:\n    y: {op: gelu, in: x}\n  outputs: {y: y}\n",
            "b.yaml": "version: 1\nimports:\n  a: a.yaml\ninputs:\n  x: {dtype: f32, shape: [B]}\nmodel:\n  nodes:\n    y: {op: gelu, in: x}\n  outputs: {y: y}\n",
            "c.yaml": "version: 1\nimports:\n  gone: missing.yaml\n  net: backbone.yaml\ninputs:\n  x: {dtype: f32, shape: [B, T, 4]}\nmodel:\n  nodes:\n    y: {block: net.proj2, in: x}\n  outputs: {y: y}\n",
            "backbone.yaml": Self.backbone,
        ])
        #expect {
            try SpecCompiler.compile(path: root + "/a.yaml")
        } throws: { error in
            (error as? SpecError)?.diagnostics.first?.message.hasPrefix("import cycle: ") == true
        }
        do {
            _ = try SpecCompiler.compile(path: root + "/c.yaml")
            Issue.record("c.yaml compiled")
        } catch {
            let rendered = error.diagnostics.map(\.rendered)
            #expect(rendered.contains { $0.hasPrefix("\(root)/c.yaml:3:9: error: cannot read '\(root)/missing.yaml'") })
            #expect(rendered.contains { $0.contains("unknown block 'net.proj2'") && $0.contains("did you mean 'net.proj'?") })
        }
    }

    @Test("gmp_tl.yaml compiles with HF names for the backbone and its heads, and shrinks with --set backbone.encoder.layers")
    func gmpTL() throws {
        let compiled = try SpecCompiler.compile(path: graphPath("gmp_tl.yaml"))
        let graph = compiled.graph
        #expect(compiled.stages.map(\.name) == ["multitask", "pseudo_labels", "stage1", "stage2", "stage2_ce"])
        #expect(compiled.stages.map(\.enabled) == [true, true, true, true, false], "the cross-entropy ablation is off by default")
        #expect(compiled.data?.classes == ["neutral", "happy", "angry", "sad"])
        #expect(compiled.data?.labels == ["neu": "neutral", "hap": "happy", "exc": "happy", "ang": "angry", "sad": "sad"])
        // The emotion heads follow the classes of the spec.
        let three = try SpecCompiler.compile(path: graphPath("gmp_tl.yaml"), overrides: ["data.classes=[neutral, angry, sad]", "data.labels.hap=angry", "data.labels.exc=angry"])
        #expect(three.graph[three.graph.outputs[0].value].type.description == "f32[B, 3]")
        #expect(throws: SpecError.self) { try SpecCompiler.compile(path: graphPath("gmp_tl.yaml"), overrides: ["data.labels.hap=joy"]) }
        #expect(graph.outputs.map(\.name) == ["emotion_logits", "gender_logits", "emotion_cosine"])
        #expect(graph.outputs.map { graph[$0.value].type.description } == ["f32[B, 4]", "f32[B, 2]", "f32[B, 4]"])
        let heads = 2_101_248 + 131_328 + 1_028 + 514 + 1_024 + 2 * (213_312 + 328_448 + 1_249_536)
        #expect(graph.parameterCount == 94_371_712 + heads)
        let small = try SpecCompiler.compile(path: graphPath("gmp_tl.yaml"), overrides: ["backbone.encoder.layers=9"])
        #expect(small.graph.parameterCount == 94_371_712 - 3 * 7_087_872 + heads)
    }
}

@Suite("Imported config")
struct ImportedConfigTests {
    @Test("an imported spec's config values refer to its own keys")
    func ownKeys() throws {
        let root = try ImportTests.folder(["inner.yaml": """
            version: 1
            config:
              width: 3
              double: "${width * 2}"
            inputs:
              x: {dtype: f32, shape: [B, 4]}
            model:
              nodes:
                y: {op: linear, in: x, out: "${double}", params: y}
              outputs: {y: y}
            """, "outer.yaml": """
            version: 1
            imports: {inner: inner.yaml}
            inputs:
              x: {dtype: f32, shape: [B, 4]}
            model:
              nodes:
                z: {block: inner, in: x}
              outputs: {z: z.y}
            """])
        let compiled = try SpecCompiler.compile(path: root + "/outer.yaml")
        #expect(compiled.graph.parameterCount == 4 * 6 + 6)
        let wider = try SpecCompiler.compile(path: root + "/outer.yaml", overrides: ["inner.width=5"])
        #expect(wider.graph.parameterCount == 4 * 10 + 10)
    }
}

import Foundation
import GraphIR
import GraphSpec
import Runtime
import Testing

/// Hidden states of graphs/hubert_base.yaml against transformers' HubertModel, on the committed fixture made by
/// scripts/make_hubert_fixture.py (a random tiny model saved with save_pretrained, and its hidden states for three
/// utterances run one at a time).
@Suite("HuBERT parity with transformers")
struct HubertParityTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/tiny_hubert").path

    struct Loaded {
        var graph: Graph
        var parameters: [String: HostTensor]
        var reference: [String: HostTensor]
        var layers: Int
    }

    static func load() throws -> Loaded {
        let checkpoint = try HFCheckpoint.load(directory: fixture)
        let graph = try SpecCompiler.compile(path: root.appendingPathComponent("graphs/hubert_base.yaml").path,
                                             overrides: checkpoint.configOverrides).graph
        let reference = try Safetensors.read(fixture + "/reference.safetensors")
        let layers = graph.taps.count - 1
        return Loaded(graph: graph, parameters: checkpoint.tensors, reference: reference, layers: layers)
    }

    /// max |ours - theirs| / max |theirs| over the valid frames of one utterance.
    static func relativeError(_ ours: HostTensor, row b: Int, _ theirs: HostTensor) -> Float {
        let (frames, width) = (theirs.shape[0], theirs.shape[1])
        var worst: Float = 0, scale: Float = 0
        for f in 0..<frames {
            for c in 0..<width {
                let reference = theirs.floats[f * width + c]
                worst = max(worst, abs(ours.floats[(b * ours.shape[1] + f) * width + c] - reference))
                scale = max(scale, abs(reference))
            }
        }
        return worst / max(scale, .leastNormalMagnitude)
    }

    @Test("every hidden state of each utterance, run alone, is within 1e-4 of transformers' (relative to its largest value)")
    func alone() throws {
        let loaded = try Self.load()
        let interpreter = Interpreter(graph: loaded.graph)
        let taps = (0...loaded.layers).map { "hidden.\($0)" }
        for utterance in 0..<3 {
            let wave = try #require(loaded.reference["wave.\(utterance)"])
            let input = HostTensor(floats: wave.floatArray, shape: [1, wave.count])
            let outputs = try interpreter.run(inputs: ["wave": input, "lengths": HostTensor(int32s: [Int32(wave.count)], shape: [1])],
                                              parameters: loaded.parameters, fetch: taps)
            for layer in 0...loaded.layers {
                let theirs = try #require(loaded.reference["hidden.\(layer).\(utterance)"])
                let ours = try #require(outputs["hidden.\(layer)"])
                #expect(ours.shape == [1] + theirs.shape)
                let error = Self.relativeError(ours, row: 0, theirs)
                #expect(error <= 1e-4, "utterance \(utterance), hidden.\(layer): relative error \(error)")
            }
        }
    }

    @Test("the three utterances in one padded batch give the same hidden states")
    func batched() throws {
        let loaded = try Self.load()
        let waves = try (0..<3).map { try #require(loaded.reference["wave.\($0)"]) }
        let longest = waves.map(\.count).max() ?? 0
        let input = HostTensor(.f32, shape: [3, longest])
        for (b, wave) in waves.enumerated() { (input.floats + b * longest).update(from: wave.floats, count: wave.count) }
        let lengths = HostTensor(int32s: waves.map { Int32($0.count) }, shape: [3])
        let taps = (0...loaded.layers).map { "hidden.\($0)" }
        let outputs = try Interpreter(graph: loaded.graph).run(inputs: ["wave": input, "lengths": lengths], parameters: loaded.parameters, fetch: taps)
        for utterance in 0..<3 {
            for layer in 0...loaded.layers {
                let theirs = try #require(loaded.reference["hidden.\(layer).\(utterance)"])
                let error = Self.relativeError(try #require(outputs["hidden.\(layer)"]), row: utterance, theirs)
                #expect(error <= 1e-4, "utterance \(utterance), hidden.\(layer): relative error \(error)")
            }
        }
    }
}

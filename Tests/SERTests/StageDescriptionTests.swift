import Foundation
import GraphSpec
import SER
import Testing

/// The training log's opening lines of each stage of graphs/gmp_tl.yaml.
@Suite("Stage descriptions")
struct StageDescriptionTests {
    @Test("each stage of the GMP-TL recipe names its losses with weights and settings, the scopes, the optimizer")
    func recipe() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let spec = try SpecCompiler.compile(path: root.appendingPathComponent("graphs/gmp_tl.yaml").path, overrides: [])
        func lines(_ name: String) throws -> [String] {
            let stage = try #require(spec.stages.first { $0.name == name })
            guard case let .train(settings) = stage.kind else { Issue.record("\(name) is not a training stage"); return [] }
            return settings.description(stage: name)
        }
        #expect(try lines("multitask") == [
            "multitask: 2 losses, summed",
            "  emotion: cross-entropy on emotion_logits against emotion, balanced class weights",
            "  gender: 0.3 x cross-entropy on gender_logits against gender",
            "  trains feature_extractor, feature_projection, encoder, masked_spec_embed, heads.bilstm, heads.projection, heads.emotion, heads.gender; frozen: feature_extractor",
            "  adamw lr 5e-05 (heads 0.001), weight decay 0.01, warmup 0.1, linear decay, clip norm 1; 20 epochs, batch 8, crops of at most 8 s",
        ])
        let stage1 = try lines("stage1")
        #expect(stage1.first == "stage1: 6 losses, summed")
        #expect(stage1.contains("  gmp_6_64: cross-entropy on frame_logits.hidden.6.k64 against pseudo_labels.hidden.6.k64, over the time-masked frames"))
        #expect(try lines("stage2").first == "stage2: AM-Softmax (s 30, m 0.35) on emotion_cosine against emotion")
    }
}

import GraphIR
import Testing
@testable import GraphSpec

/// Bad schedules: each breaks one thing in `StageTests.valid`, a spec whose four stages mirror GMP-TL's, and must
/// fail with the exact first message at the exact place.
@Suite("Stage validation")
struct StageTests {
    static let valid = #"""
version: 1
name: heads
config:
  k: [4, 8]
  lr: 1.0e-3
inputs:
  x: {dtype: f32, shape: [B, T, 8]}
  lengths: {dtype: i32, shape: [B]}
blocks:
  head:
    inputs: [x]
    nodes:
      logits: {op: linear, in: x, out: "${k[i]}", params: out}
    outputs: [logits]
model:
  nodes:
    frames: {op: linear, in: x, out: 8, params: encoder.frames}
    pooled: {op: masked_mean_pool, in: [frames, lengths]}
    emotion_logits: {op: linear, in: pooled, out: 4, params: heads.emotion}
    cosine: {op: cosine_similarity, in: pooled, classes: 4, params: heads.am}
    frame_heads: {block: head, repeat: {count: 2, chain: false}, in: [frames], params: "heads.frames.k{k[i]}", taps: {"frame_logits.k{k[i]}": logits}}
  taps:
    hidden.1: frames
  outputs:
    emotion_logits: emotion_logits
    cosine: cosine
stages:
  - name: multitask
    init: random
    losses:
      emotion: {op: cross_entropy, logits: emotion_logits, target: emotion, class_weights: balanced}
    train: [encoder, heads]
    optimizer: {name: adamw, lr: "${lr}", warmup: 0.1}
    epochs: 2
  - name: labels
    kmeans: {from: multitask, taps: [hidden.1], k: "${k}"}
  - name: frames
    init: multitask
    losses:
      small: {op: cross_entropy, logits: frame_logits.k4, target: labels.hidden.1.k4}
    train: [heads.frames]
    optimizer: {lr: 1.0e-4}
    epochs: 1
  - name: final
    init: frames
    losses:
      emotion: {op: am_softmax, cosine: cosine, target: emotion, s: 30, m: 0.2}
    train: [encoder, heads.am]
    optimizer: {lr: 1.0e-4, decay: cosine}
    epochs: 1
"""#

    @Test("the base schedule compiles into its four stages")
    func schedule() throws {
        let compiled = try SpecCompiler.compile(text: Self.valid, file: "spec.yaml")
        #expect(compiled.stages.map(\.name) == ["multitask", "labels", "frames", "final"])
        guard case let .train(multitask) = compiled.stages[0].kind, case let .kmeans(labels) = compiled.stages[1].kind,
              case let .train(frames) = compiled.stages[2].kind, case let .train(final) = compiled.stages[3].kind else {
            Issue.record("stage kinds")
            return
        }
        #expect(multitask.initialization == .random)
        #expect(multitask.losses.first?.classWeights == .balanced)
        #expect(multitask.optimizer.learningRate == 1.0e-3)
        #expect(multitask.optimizer.warmup == 0.1)
        #expect(labels.k == [4, 8])
        #expect(labels.taps == ["hidden.1"])
        #expect(labels.fitOn == "train")
        #expect(frames.initialization == .stage("multitask"))
        #expect(frames.losses.first?.frames == .masked)
        #expect(frames.losses.first?.target == "labels.hidden.1.k4")
        #expect(final.losses.first?.kind == .amSoftmax(scale: 30, margin: 0.2))
        #expect(final.optimizer.decay == .cosine)
    }

    @Test("for: makes one loss per combination of its variables, and choose() shortens a list by a switch")
    func lossFamilies() throws {
        let family = #"      small: {op: cross_entropy, logits: frame_logits.k4, target: labels.hidden.1.k4}"#
        let looped = #"""
              "frames_{tap}_{scale}":
                for: {tap: [hidden.1], scale: "${choose(wide, k, [k[0]])}"}
                op: cross_entropy
                logits: "frame_logits.k{scale}"
                target: "labels.{tap}.k{scale}"
                weight: "${1 / len(k)}"
        """#
        let text = Self.valid.replacingOccurrences(of: family, with: looped)
            .replacingOccurrences(of: "  lr: 1.0e-3\n", with: "  lr: 1.0e-3\n  wide: true\n")
        let compiled = try SpecCompiler.compile(text: text, file: "spec.yaml")
        guard case let .train(frames) = compiled.stages[2].kind else { Issue.record("stage kind"); return }
        #expect(frames.losses.map(\.name) == ["frames_hidden.1_4", "frames_hidden.1_8"])
        #expect(frames.losses.map(\.input) == ["frame_logits.k4", "frame_logits.k8"])
        #expect(frames.losses.map(\.target) == ["labels.hidden.1.k4", "labels.hidden.1.k8"])
        #expect(frames.losses.allSatisfy { $0.weight == 0.5 && $0.frames == .masked })
        let narrow = try SpecCompiler.compile(text: text, file: "spec.yaml", overrides: ["wide=false"])
        guard case let .train(one) = narrow.stages[2].kind else { Issue.record("stage kind"); return }
        #expect(one.losses.map(\.name) == ["frames_hidden.1_4"])
    }

    @Test("a bad stage fails with its message at its file:line:column", arguments: cases)
    func badStage(_ testCase: SpecCase) {
        testCase.check(base: Self.valid)
    }

    static let cases: [SpecCase] = [
        SpecCase("unknown stage key", edits: [(#"    epochs: 2"#, #"    epoch: 2"#)],
                 expected: #"spec.yaml:28:5: error: missing 'epochs' (in stages.multitask.epochs)"#, count: 2),
        SpecCase("a for: loss whose name misses a variable", edits: [(#"      small: {op: cross_entropy, logits: frame_logits.k4,"#, #"      small: {for: {scale: "${k}"}, op: cross_entropy, logits: "frame_logits.k{scale}","#)],
                 expected: #"spec.yaml:40:7: error: loss 'small' is defined twice (in stages.frames.losses)"#, count: 1),
        SpecCase("a for: variable that is not a list", edits: [(#"      small: {op: cross_entropy, logits: frame_logits.k4,"#, #"      small_{scale}: {for: {scale: 4}, op: cross_entropy, logits: "frame_logits.k{scale}","#)],
                 expected: #"spec.yaml:40:36: error: for variable 'scale' must be a list, got integer 4 (in stages.frames.losses.small_{scale}.for.scale)"#, count: 1),
        SpecCase("a for: variable with an empty list", edits: [(#"      small: {op: cross_entropy, logits: frame_logits.k4,"#, #"      small_{scale}: {for: {scale: []}, op: cross_entropy, logits: "frame_logits.k{scale}","#)],
                 expected: #"spec.yaml:40:36: error: for variable 'scale' is an empty list, which makes no loss (in stages.frames.losses.small_{scale}.for.scale)"#, count: 1),
        SpecCase("a mistake in a for: loss is reported once", edits: [(#"      small: {op: cross_entropy, logits: frame_logits.k4,"#, #"      small_{scale}: {for: {scale: "${k}"}, op: crossentropy, logits: "frame_logits.k{scale}","#)],
                 expected: #"spec.yaml:40:49: error: unknown loss op 'crossentropy' (in stages.frames.losses.small_4.op)"#, count: 1),
        SpecCase("choose() with two arguments", edits: [(#"    kmeans: {from: multitask, taps: [hidden.1], k: "${k}"}"#, #"    kmeans: {from: multitask, taps: [hidden.1], k: "${choose(true, k)}"}"#)],
                 expected: #"spec.yaml:36:55: error: choose() takes three arguments (a condition, its value when true, its value when false), not 2 (in stages.labels.kmeans.k)"#, count: 1),
        SpecCase("unknown loss op", edits: [(#"op: cross_entropy, logits: emotion_logits"#, #"op: crossentropy, logits: emotion_logits"#)],
                 expected: #"spec.yaml:31:21: error: unknown loss op 'crossentropy' (in stages.multitask.losses.emotion.op)"#, count: 1),
        SpecCase("unknown loss input", edits: [(#"logits: emotion_logits, target"#, #"logits: emotion_logit, target"#)],
                 expected: #"spec.yaml:31:44: error: unknown output or tap 'emotion_logit' (in stages.multitask.losses.emotion.logits)"#, count: 1),
        SpecCase("unknown target", edits: [(#"target: emotion, class_weights"#, #"target: emotions, class_weights"#)],
                 expected: #"spec.yaml:31:68: error: unknown target 'emotions' (in stages.multitask.losses.emotion.target)"#, count: 1),
        SpecCase("utterance labels on frame scores", edits: [(#"logits: frame_logits.k4, target: labels.hidden.1.k4"#, #"logits: frame_logits.k4, target: emotion"#)],
                 expected: #"spec.yaml:40:42: error: loss 'small' reads 'frame_logits.k4' of type f32[B, T, 4], but utterance labels need [B, C] scores (in stages.frames.losses.small.logits)"#, count: 1),
        SpecCase("unknown parameter scope", edits: [(#"train: [encoder, heads]"#, #"train: [encoder, head]"#)],
                 expected: #"spec.yaml:32:22: error: no parameter is in scope 'head' (in stages.multitask.train)"#, count: 1),
        SpecCase("negative learning rate", edits: [(#"lr: "${lr}""#, #"lr: -1"#)],
                 expected: #"spec.yaml:33:34: error: lr must be in [1e-12, 10.0], got -1 (in stages.multitask.optimizer.lr)"#, count: 1),
        SpecCase("unknown optimizer", edits: [(#"name: adamw"#, #"name: adamax"#)],
                 expected: #"spec.yaml:33:23: error: unknown optimizer 'adamax' (in stages.multitask.optimizer.name)"#, count: 1),
        SpecCase("zero epochs", edits: [(#"epochs: 2"#, #"epochs: 0"#)],
                 expected: #"spec.yaml:34:13: error: epochs must be at least 1, got 0 (in stages.multitask.epochs)"#, count: 1),
        SpecCase("init previous with no earlier training stage", edits: [(#"init: random"#, #"init: previous"#)],
                 expected: #"spec.yaml:29:11: error: init 'previous' needs an earlier training stage (in stages.multitask.init)"#, count: 1),
        SpecCase("a when switch that is not a boolean", edits: [("  - name: labels\n", "  - name: labels\n    when: 1\n")],
                 expected: #"spec.yaml:36:11: error: when must be true or false, got integer 1 (in stages.labels.when)"#, count: 1),
        SpecCase("not() of a number", edits: [("  - name: labels\n", "  - name: labels\n    when: \"${not(2)}\"\n")],
                 expected: #"spec.yaml:36:18: error: not() takes true or false, not an integer (in stages.labels.when)"#, count: 1),
        SpecCase("init from a later stage", edits: [(#"init: random"#, #"init: final"#)],
                 expected: #"spec.yaml:29:11: error: init refers to 'final', which is not an earlier training stage (in stages.multitask.init)"#, count: 1),
        SpecCase("kmeans from an unknown stage", edits: [(#"kmeans: {from: multitask"#, #"kmeans: {from: multitaks"#)],
                 expected: #"spec.yaml:36:20: error: kmeans reads the model of 'multitaks', which is not an earlier training stage (in stages.labels.kmeans.from)"#, count: 1),
        SpecCase("kmeans on an unknown tap", edits: [(#"taps: [hidden.1]"#, #"taps: [hidden.2]"#)],
                 expected: #"spec.yaml:36:38: error: unknown tap 'hidden.2' (in stages.labels.kmeans.taps)"#, count: 1),
        SpecCase("kmeans fitted on test data", edits: [(#"k: "${k}"}"#, #"k: "${k}", fit_on: test}"#)],
                 expected: #"spec.yaml:36:68: error: kmeans can only be fitted on the training split, got 'test' (in stages.labels.kmeans.fit_on)"#, count: 1),
        SpecCase("k below 2", edits: [(#"k: "${k}"}"#, #"k: [1, 8]}"#)],
                 expected: #"spec.yaml:36:52: error: cluster counts must be integers of at least 2, got integer 1 (in stages.labels.kmeans.k)"#, count: 1),
        SpecCase("pseudo-labels that were not made", edits: [(#"target: labels.hidden.1.k4"#, #"target: labels.hidden.1.k16"#)],
                 expected: #"spec.yaml:40:67: error: unknown target 'labels.hidden.1.k16' (in stages.frames.losses.small.target)"#, count: 1),
        SpecCase("duplicate stage name", edits: [(#"  - name: final"#, #"  - name: frames"#)],
                 expected: #"spec.yaml:44:11: error: stage 'frames' is defined twice (in stages[3].name)"#, count: 1),
        SpecCase("missing losses", edits: [(#"    losses:\#n      emotion: {op: am_softmax, cosine: cosine, target: emotion, s: 30, m: 0.2}\#n"#, #""#)],
                 expected: #"spec.yaml:44:5: error: missing 'losses': a training stage needs at least one loss (or 'kmeans' for a pseudo-label stage) (in stages.final)"#, count: 1),
        SpecCase("margin out of range", edits: [(#"m: 0.2"#, #"m: 2"#)],
                 expected: #"spec.yaml:47:76: error: m must be in [0.0, 1.0], got 2 (in stages.final.losses.emotion.m)"#, count: 1),
        SpecCase("missing optimizer", edits: [(#"    optimizer: {lr: 1.0e-4, decay: cosine}\#n"#, #""#)],
                 expected: #"spec.yaml:44:5: error: missing 'optimizer', such as {name: adamw, lr: 5.0e-5} (in stages.final)"#, count: 1),
        SpecCase("bad decay", edits: [(#"decay: cosine"#, #"decay: exponential"#)],
                 expected: #"spec.yaml:49:36: error: unknown decay 'exponential' (in stages.final.optimizer.decay)"#, count: 1),
        SpecCase("frame head size against K", edits: [(#"logits: frame_logits.k4, target: labels.hidden.1.k4"#, #"logits: frame_logits.k8, target: labels.hidden.1.k4"#)],
                 expected: #"spec.yaml:40:42: error: loss 'small' scores 8 classes but its targets have K = 4 clusters (in stages.frames.losses.small.logits)"#, count: 1),
    ]
}

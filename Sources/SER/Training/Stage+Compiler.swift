import Compiler
import GraphIR
import GraphSpec

/// The spec's stages in the compiler's terms: the front end (GraphSpec) and the compiler do not know each other;
/// this layer reads both.
extension Stage {
    /// A training stage's switched-on losses and trained scopes.
    public func trainingObjective() throws(CompileError) -> TrainingObjective {
        guard case let .train(settings) = kind else {
            throw CompileError("stage '\(name)' is a k-means stage, not a training stage", at: location)
        }
        let terms = settings.losses.filter(\.enabled).map { loss in
            let kind: TrainingObjective.Term.Kind = switch loss.kind {
            case .crossEntropy: .crossEntropy
            case let .amSoftmax(scale, margin): .amSoftmax(scale: scale, margin: margin)
            }
            let weights: TrainingObjective.Term.ClassWeights = switch loss.classWeights {
            case .none: .none
            case .balanced: .balanced
            case let .explicit(values): .explicit(values)
            }
            return TrainingObjective.Term(name: loss.name, kind: kind, input: loss.input, target: loss.target, weight: loss.weight,
                                          classWeights: weights, maskedFramesOnly: loss.frames == .masked)
        }
        return TrainingObjective(stage: name, location: location, terms: terms, train: settings.train, freeze: settings.freeze)
    }

    /// A k-means stage's taps and cluster counts.
    public func pseudoLabelSettings() throws(CompileError) -> PseudoLabelSettings {
        guard case let .kmeans(settings) = kind else {
            throw CompileError("stage '\(name)' is not a k-means stage", at: location)
        }
        return PseudoLabelSettings(stage: name, location: location, taps: settings.taps, k: settings.k)
    }
}

extension TrainingGraph {
    /// The training graph of a spec's training stage over `model`.
    public init(model: Graph, stage: Stage, termScales: Bool = false) throws(CompileError) {
        try self.init(model: model, objective: stage.trainingObjective(), termScales: termScales)
    }
}

extension PseudoLabelGraph {
    /// The pseudo-label graph of a spec's k-means stage over `model`.
    public init(model: Graph, stage: Stage) throws(CompileError) {
        try self.init(model: model, settings: stage.pseudoLabelSettings())
    }
}

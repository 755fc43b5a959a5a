import GraphIR

/// One step of a spec's schedule (`stages:`), checked against the compiled graph. Training and k-means stages run
/// in later parts of the toolkit; the spec language reads and validates them completely now, so that a mistake in
/// a schedule is found at compile time, not hours into a run.
public struct Stage: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        case train(TrainStage)
        case kmeans(KMeansStage)
    }

    public var name: String
    public var kind: Kind
    public var location: SourceLocation
    /// False when the stage's `when:` is false (an ablation switch): runs skip it.
    public var enabled: Bool

    public init(name: String, kind: Kind, location: SourceLocation, enabled: Bool = true) {
        self.name = name
        self.kind = kind
        self.location = location
        self.enabled = enabled
    }
}

/// Where a training stage's parameters start.
public enum Initialization: Hashable, Sendable {
    /// A HuggingFace checkpoint directory given at run time (`--checkpoint DIR`); parameters it lacks (the heads)
    /// start at random.
    case pretrained
    /// Every parameter at random, from the seed.
    case random
    /// The parameters an earlier stage ended with.
    case stage(String)
    /// The parameters of the last training stage that ran before this one (with `when:` switches, the one before
    /// a skipped stage).
    case previous
}

/// A loss term of a training stage.
public struct Loss: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        /// Softmax cross-entropy over `logits` (`[B, C]`, or `[B, T, C]` for frame-level targets).
        case crossEntropy
        /// Additive-margin softmax over cosine scores (`[B, C]`, the output of a `cosine_similarity` node).
        case amSoftmax(scale: Double, margin: Double)
    }

    public enum ClassWeights: Hashable, Sendable {
        case none
        /// Inverse class frequency over the training split.
        case balanced
        case explicit([Double])
    }

    /// Which frames a frame-level loss counts.
    public enum Frames: String, Hashable, Sendable {
        /// The frames the time mask replaced (HuBERT-style masked prediction).
        case masked
        /// Every valid frame.
        case valid
    }

    public var name: String
    public var kind: Kind
    /// The graph output or tap the loss reads.
    public var input: String
    /// The targets: a label of the data (`emotion`, `gender`) or pseudo-labels (`pseudo_labels.hidden.6.k64`).
    public var target: String
    public var weight: Double
    public var classWeights: ClassWeights
    public var frames: Frames?
    /// False when the loss's `when:` is false (an ablation switch): it is left out of the stage's sum.
    public var enabled: Bool = true
}

public struct OptimizerSettings: Hashable, Sendable {
    public enum Name: String, Hashable, Sendable, CaseIterable { case adamw, adam, sgd }
    public enum Decay: String, Hashable, Sendable, CaseIterable { case linear, cosine, constant }

    public var name: Name
    public var learningRate: Double
    /// Learning rates of parameter scopes that differ from `learningRate` (`{heads: 1.0e-3}`).
    public var scopeLearningRates: [String: Double]
    public var weightDecay: Double
    public var betas: [Double]
    public var epsilon: Double
    /// The fraction of steps spent warming up linearly from 0.
    public var warmup: Double
    public var decay: Decay
    /// Gradients are clipped to this global norm (nil: no clipping).
    public var clipNorm: Double?
    /// SGD's momentum (0: plain SGD).
    public var momentum: Double = 0
}

public struct TrainStage: Hashable, Sendable {
    public var initialization: Initialization
    public var losses: [Loss]
    /// Parameter scopes (name prefixes) that train; everything else is frozen.
    public var train: [String]
    /// Scopes frozen inside the trained ones (the CNN feature extractor).
    public var freeze: [String]
    public var optimizer: OptimizerSettings
    public var epochs: Int
    public var batchSize: Int
    public var accumulate: Int
    /// Training crops longer utterances to this many seconds (nil: whole utterances).
    public var maxSeconds: Double?
}

public struct KMeansStage: Hashable, Sendable {
    /// The training stage whose model is tapped.
    public var from: String
    public var taps: [String]
    public var k: [Int]
    public var iterations: Int
    /// The fraction of training frames sampled to fit the centroids.
    public var sampleFraction: Double
    /// Only `train`: clustering never sees validation or test utterances.
    public var fitOn: String
    public var seed: Int
}

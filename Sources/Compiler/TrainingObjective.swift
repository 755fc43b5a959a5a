import GraphIR

/// What a training stage optimises, in the compiler's own terms: the loss terms over the model's outputs and which
/// parameters train. The spec's stages (GraphSpec) are converted to it by the layer that reads both (SER), so that
/// the compiler does not depend on the front end.
public struct TrainingObjective: Hashable, Sendable {
    /// One loss term.
    public struct Term: Hashable, Sendable {
        public enum Kind: Hashable, Sendable {
            /// Softmax cross-entropy over scores `[B, C]`, or `[B, T, C]` for frame-level targets.
            case crossEntropy
            /// Additive-margin softmax over cosine scores (`[B, C]`, the output of a `cosine_similarity` node).
            case amSoftmax(scale: Double, margin: Double)
        }

        public enum ClassWeights: Hashable, Sendable {
            case none
            /// Inverse class frequency over the training split (supplied at run time).
            case balanced
            case explicit([Double])
        }

        public var name: String
        public var kind: Kind
        /// The model output or tap the term reads.
        public var input: String
        /// The label it is compared with (`emotion`, `pseudo_labels.hidden.6.k64`).
        public var target: String
        public var weight: Double
        public var classWeights: ClassWeights
        /// Frame-level terms: only the frames the time mask replaced (else every valid frame).
        public var maskedFramesOnly: Bool

        public init(name: String, kind: Kind, input: String, target: String, weight: Double, classWeights: ClassWeights,
                    maskedFramesOnly: Bool) {
            self.name = name
            self.kind = kind
            self.input = input
            self.target = target
            self.weight = weight
            self.classWeights = classWeights
            self.maskedFramesOnly = maskedFramesOnly
        }
    }

    /// The stage's name, for messages and node names.
    public var stage: String
    /// Where the stage is written, for messages.
    public var location: SourceLocation?
    /// The terms that count (switched-off ones left out).
    public var terms: [Term]
    /// Parameter scopes (name prefixes at a dot) that train, and those frozen inside them.
    public var train: [String]
    public var freeze: [String]

    public init(stage: String, location: SourceLocation?, terms: [Term], train: [String], freeze: [String]) {
        self.stage = stage
        self.location = location
        self.terms = terms
        self.train = train
        self.freeze = freeze
    }
}

/// What a k-means stage labels, in the compiler's terms: the taps and the cluster counts.
public struct PseudoLabelSettings: Hashable, Sendable {
    public var stage: String
    public var location: SourceLocation?
    public var taps: [String]
    public var k: [Int]

    public init(stage: String, location: SourceLocation?, taps: [String], k: [Int]) {
        self.stage = stage
        self.location = location
        self.taps = taps
        self.k = k
    }
}

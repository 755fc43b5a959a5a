/// Names and inputs of ops, as the graph language and error messages spell them.
extension Op {
    /// The op's name in specs, text dumps and DOT (`conv1d`, `layer_norm`, `gelu`).
    public var name: String {
        switch self {
        case .input: "input"
        case .parameter: "parameter"
        case .constant: "constant"
        case .linear: "linear"
        case let .activated(product, function): "\(product.name)+\(function.rawValue)"
        case .linearGroup: "linear_group"
        case let .chain(ops): ops.map(\.name).joined(separator: "+")
        case let .gradientChain(ops): ops.map { "\($0.name)_grad" }.joined(separator: "+")
        case .matmul: "matmul"
        case .conv1d: "conv1d"
        case .layerNorm: "layer_norm"
        case .addLayerNorm: "add+layer_norm"
        case .groupNorm: "group_norm"
        case .normalizedConv1d: "conv1d+group_norm"
        case .weightNorm: "weight_norm"
        case let .unary(function): function.rawValue
        case let .binary(function): function.rawValue
        case .scale: "scale"
        case .softmax: "softmax"
        case .logSoftmax: "log_softmax"
        case let .reduce(function, _, _): "reduce_\(function.rawValue)"
        case .reshape: "reshape"
        case .transpose: "transpose"
        case .slice: "slice"
        case .concat: "concat"
        case .attention: "attention"
        case .lstm: "lstm"
        case .maskedMeanPool: "masked_mean_pool"
        case .maskPadding: "mask_padding"
        case .windowLengths: "window_lengths"
        case .dropout: "dropout"
        case .layerDrop: "layer_drop"
        case .timeMask: "time_mask"
        case .crossEntropy: "cross_entropy"
        case .amSoftmax: "am_softmax"
        case .cosineSimilarity: "cosine_similarity"
        case .kmeansAssign: "kmeans_assign"
        case let .gradient(forward, _): "\(forward.name)_grad"
        }
    }

    /// The names of the op's inputs in order; a trailing `?` marks an optional one (it may be left out, and only
    /// from the end), a leading `*` a list of any length (concat).
    public var inputNames: [String] {
        switch self {
        case .input, .parameter, .constant: []
        case .linear: ["x", "weight", "bias?"]
        case let .activated(product, _): product.inputNames
        case let .linearGroup(count, bias):
            ["x"] + (1...max(1, count)).flatMap { bias ? ["weight_\($0)", "bias_\($0)"] : ["weight_\($0)"] }
        case .matmul: ["a", "b"]
        case .conv1d: ["x", "weight", "bias?"]
        case .layerNorm: ["x", "weight", "bias"]
        case .addLayerNorm: ["a", "b", "weight", "bias"]
        case .groupNorm: ["x", "weight", "bias", "lengths"]
        case .normalizedConv1d: ["x", "weight", "norm_weight", "norm_bias", "lengths", "bias?"]
        case .weightNorm: ["v", "g"]
        case .unary, .scale, .softmax, .logSoftmax, .reduce, .reshape, .transpose, .slice, .dropout, .chain: ["x"]
        case let .gradientChain(ops): ops.indices.flatMap { ["x\($0 + 1)", "y\($0 + 1)"] } + ["dy"]
        case .binary: ["a", "b"]
        case .layerDrop: ["skip", "layer"]
        case .concat: ["*x"]
        case .attention: ["q", "k", "v", "lengths"]
        case .lstm:
            ["x", "lengths", "weight_ih", "weight_hh", "bias_ih", "bias_hh",
             "weight_ih_reverse", "weight_hh_reverse", "bias_ih_reverse", "bias_hh_reverse"]
        case .maskedMeanPool, .maskPadding: ["x", "lengths"]
        case .windowLengths: ["lengths"]
        case .timeMask: ["x", "lengths", "embedding"]
        case .crossEntropy: ["logits", "targets", "class_weights?", "mask?"]
        case .amSoftmax: ["features", "weight", "targets"]
        case .cosineSimilarity: ["features", "weight"]
        case .kmeansAssign: ["features", "centroids"]
        case let .gradient(forward, wrt):
            Array(forward.inputNames.map { $0.replacingSuffix("?") }.prefix(wrt.count)) + ["y", "dy"]
        }
    }

    /// The names of the op's outputs as specs refer to them (`masked.mask`); the first is the node itself (`masked`).
    /// Outputs after the first are never differentiated (masks).
    public var outputNames: [String] {
        switch self {
        case .timeMask: ["", "mask"]
        case let .linearGroup(count, _): [""] + (1..<max(1, count)).map { "y\($0 + 1)" }
        case let .gradient(forward, wrt): zip(forward.inputNames, wrt).filter(\.1).map { "d" + $0.0.replacingSuffix("?") }
        default: [""]
        }
    }

    /// How many inputs the op takes.
    public var arity: ClosedRange<Int> {
        if case let .gradient(_, wrt) = self { return (wrt.count + 2)...(wrt.count + 2) }
        let names = inputNames
        if names.first?.hasPrefix("*") == true { return 1...Int.max }
        let required = names.filter { !$0.hasSuffix("?") }.count
        return required...names.count
    }

    /// Whether the op draws random numbers in training (and needs a (seed, step, node) stream).
    public var isRandom: Bool {
        switch self {
        case .dropout, .timeMask, .layerDrop: true
        case let .chain(ops), let .gradientChain(ops): ops.contains(where: \.isRandom)
        default: false
        }
    }

    /// Whether the op is a loss (a scalar to minimise).
    public var isLoss: Bool {
        switch self {
        case .crossEntropy, .amSoftmax: true
        default: false
        }
    }
}

import GraphIR

/// A HuggingFace `HubertConfig` (config.json) as overrides of graphs/hubert_base.yaml's config, and the refusal
/// of variants the graph does not compute.
extension HFCheckpoint {
    /// The overrides for a config.json file.
    public static func configOverrides(contentsOf path: String) throws(CheckpointError) -> [String] {
        let bytes = try MappedFile.withBytes(of: path) { (file) throws(CheckpointError) in Array(file) }
        return try configOverrides(bytes, file: path)
    }

    /// The overrides for config.json text; `file` names it in errors.
    ///
    /// Every key of graphs/hubert_base.yaml that the config decides is set, in a fixed order (`features.channels`,
    /// `features.kernels`, `features.strides`, `features.bias`, `encoder.hidden`, `encoder.layers`, `encoder.heads`,
    /// `encoder.intermediate`, `encoder.pos_kernel`, `encoder.pos_groups`, `eps`); a key absent from the config
    /// takes `HubertConfig`'s default. All problems are reported together.
    public static func configOverrides(json: String, file: String = "config.json") throws(CheckpointError) -> [String] {
        try configOverrides(Array(json.utf8), file: file)
    }

    private static func configOverrides(_ bytes: [UInt8], file: String) throws(CheckpointError) -> [String] {
        let json: Any
        switch JSONValues.parse(bytes) {
        case .success(let value): json = value
        case .failure(let failure): throw CheckpointError("\(failure.reason)", file: file)
        }
        guard let object = json as? [String: Any] else { throw CheckpointError("not a JSON object", file: file) }
        var config = ConfigReader(object: object, file: file)

        if object["model_type"] != nil {
            let modelType = config.string("model_type", default: "hubert")
            if modelType != "hubert" {
                config.refuse("model_type '\(modelType)' is not supported: only HuBERT checkpoints (model_type 'hubert') are read")
            }
        }
        let featExtractNorm = config.string("feat_extract_norm", default: "group")
        switch featExtractNorm {
        case "group": break
        case "layer":
            config.refuse("feat_extract_norm 'layer' (layer norm in every conv layer, as in hubert-large) is not supported: "
                + "the graph has group norm in the first conv layer ('group')")
        default: config.refuse("feat_extract_norm '\(featExtractNorm)' is neither 'group' nor 'layer'")
        }
        if config.bool("do_stable_layer_norm", default: false) {
            config.refuse("do_stable_layer_norm true (pre-LN transformer layers, as in hubert-large) is not supported: "
                + "the graph's layers are post-LN")
        }
        if !config.bool("feat_proj_layer_norm", default: true) {
            config.refuse("feat_proj_layer_norm false (no layer norm before the feature projection) is not supported")
        }
        for key in ["hidden_act", "feat_extract_activation"] {
            let activation = config.string(key, default: "gelu")
            if activation != "gelu" {
                config.refuse("\(key) '\(activation)' is not supported: the graph uses the exact (erf) GELU ('gelu')")
            }
        }
        if config.bool("conv_pos_batch_norm", default: false) {
            config.refuse("conv_pos_batch_norm true (batch norm instead of weight norm in the positional convolution) "
                + "is not supported")
        }

        // Sizes are bounded here, before the graph is built or anything allocated, so that a config.json asking
        // for 16 million layers is refused naming its key (`Limits`: well above every published HuBERT).
        let hidden = config.positiveInteger("hidden_size", default: 768, limit: Limits.width)
        let layers = config.positiveInteger("num_hidden_layers", default: 12, limit: Limits.layers)
        let heads = config.positiveInteger("num_attention_heads", default: 12, limit: Limits.width)
        let intermediate = config.positiveInteger("intermediate_size", default: 3072, limit: Limits.width)
        let convDim = config.positiveIntegers("conv_dim", default: Array(repeating: 512, count: 7), limit: Limits.width)
        let kernels = config.positiveIntegers("conv_kernel", default: [10, 3, 3, 3, 3, 2, 2], limit: Limits.width)
        let strides = config.positiveIntegers("conv_stride", default: [5, 2, 2, 2, 2, 2, 2], limit: Limits.width)
        let bias = config.bool("conv_bias", default: false)
        let posKernel = config.positiveInteger("num_conv_pos_embeddings", default: 128, limit: Limits.width)
        let posGroups = config.positiveInteger("num_conv_pos_embedding_groups", default: 16, limit: Limits.width)
        let eps = config.positiveNumber("layer_norm_eps", default: 1e-5)

        if convDim.count > Limits.convLayers {
            config.refuse("conv_dim has \(convDim.count) conv layers, past the limit of \(Limits.convLayers)")
        }
        if hidden % heads != 0 {
            config.refuse("hidden_size \(hidden) is not divisible by num_attention_heads \(heads)")
        }
        if hidden % posGroups != 0 {
            config.refuse("hidden_size \(hidden) is not divisible by num_conv_pos_embedding_groups \(posGroups)")
        }
        let parameters = layers * (4 * hidden * hidden + 2 * hidden * intermediate)
        if config.problems.isEmpty, parameters > Limits.parameters {
            config.refuse("num_hidden_layers \(layers), hidden_size \(hidden) and intermediate_size \(intermediate) make "
                + "about \(parameters) parameters, past the limit of \(Limits.parameters)")
        }

        if let first = convDim.first, convDim.contains(where: { $0 != first }) {
            config.refuse("conv_dim with different sizes per layer is not supported (got \(list(convDim)))")
        }
        if convDim.count != kernels.count || convDim.count != strides.count {
            config.refuse("conv_dim, conv_kernel and conv_stride must have one entry per conv layer, but have "
                + "\(convDim.count), \(kernels.count) and \(strides.count)")
        }
        guard config.problems.isEmpty else { throw CheckpointError(config.problems) }
        return [
            "features.channels=\(convDim.first ?? 512)",
            "features.kernels=\(list(kernels))",
            "features.strides=\(list(strides))",
            "features.bias=\(bias)",
            "encoder.hidden=\(hidden)",
            "encoder.layers=\(layers)",
            "encoder.heads=\(heads)",
            "encoder.intermediate=\(intermediate)",
            "encoder.pos_kernel=\(posKernel)",
            "encoder.pos_groups=\(posGroups)",
            "eps=\(eps)",
        ]
    }

    /// The largest sizes a config.json may ask for.
    enum Limits {
        /// hidden_size, intermediate_size, heads, conv widths, kernels and strides.
        static let width = 1 << 16
        static let layers = 1024
        static let convLayers = 64
        /// The transformer layers' weights (HuBERT XLarge: about a billion).
        static let parameters = 1 << 34
    }

    private static func list(_ values: [Int]) -> String { "[\(values.map(String.init).joined(separator: ", "))]" }
}

/// Typed reads of config.json keys with defaults, collecting problems.
private struct ConfigReader {
    let object: [String: Any]
    let file: String
    var problems: [Diagnostic] = []

    init(object: [String: Any], file: String) {
        self.object = object
        self.file = file
    }

    mutating func refuse(_ message: String) { problems += CheckpointError(message, file: file).diagnostics }

    private mutating func wrong(_ key: String, _ value: Any, _ expected: String) {
        refuse("'\(key)' must be \(expected), got \(JSONValues.describe(value))")
    }

    mutating func positiveInteger(_ key: String, default fallback: Int, limit: Int) -> Int {
        guard let value = object[key] else { return fallback }
        guard let number = JSONValues.integer(value), number >= 1, number <= limit else {
            wrong(key, value, "a positive integer of at most \(limit)")
            return fallback
        }
        return number
    }

    mutating func positiveIntegers(_ key: String, default fallback: [Int], limit: Int) -> [Int] {
        guard let value = object[key] else { return fallback }
        guard let items = value as? [Any], !items.isEmpty else {
            wrong(key, value, "a non-empty list of positive integers")
            return fallback
        }
        var numbers: [Int] = []
        for item in items {
            guard let number = JSONValues.integer(item), number >= 1, number <= limit else {
                wrong(key, value, "a non-empty list of positive integers of at most \(limit)")
                return fallback
            }
            numbers.append(number)
        }
        return numbers
    }

    mutating func positiveNumber(_ key: String, default fallback: Double) -> Double {
        guard let value = object[key] else { return fallback }
        guard let number = JSONValues.number(value), number > 0, number.isFinite else {
            wrong(key, value, "a positive number")
            return fallback
        }
        return number
    }

    mutating func bool(_ key: String, default fallback: Bool) -> Bool {
        guard let value = object[key] else { return fallback }
        guard let flag = JSONValues.bool(value) else {
            wrong(key, value, "true or false")
            return fallback
        }
        return flag
    }

    mutating func string(_ key: String, default fallback: String) -> String {
        guard let value = object[key] else { return fallback }
        guard let text = value as? String else {
            wrong(key, value, "a string")
            return fallback
        }
        return text
    }
}

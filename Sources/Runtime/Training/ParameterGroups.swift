/// Which learning rate and weight decay each parameter gets: per-scope learning-rate scales and the no-decay rule.
///
/// A scope is a parameter-name prefix at a component boundary: `heads` covers `heads` and `heads.emotion.weight` but
/// not `heads2.weight` (a scope ending in `.` covers any name starting with it). Where several scopes cover a name,
/// the longest wins; names no scope covers get scale 1. A scope's scale multiplies the base schedule's rate, so the
/// group follows the same schedule shape with its own peak (`OptimizerSettings.scopeLearningRates` gives absolute
/// peaks: use `scales(base:scopeRates:)`).
public struct ParameterGroups: Sendable {
    /// Scope to learning-rate scale.
    public let scopeScales: [String: Double]
    /// True for the parameters weight decay is not applied to.
    public let noDecay: @Sendable (String) -> Bool
    /// The scopes, longest first (ties by name), for the longest-prefix match.
    private let ordered: [String]

    public init(scopeScales: [String: Double] = [:], noDecay: @escaping @Sendable (String) -> Bool = ParameterGroups.defaultNoDecay) {
        self.scopeScales = scopeScales
        self.noDecay = noDecay
        ordered = scopeScales.keys.sorted { $0.count != $1.count ? $0.count > $1.count : $0 < $1 }
    }

    /// Scales relative to `base` for absolute per-scope learning rates (`{heads: 1.0e-3}` with base 5.0e-5 gives
    /// `heads: 20`); a base of 0 gives scale 0.
    public static func scales(base: Double, scopeRates: [String: Double]) -> [String: Double] {
        scopeRates.mapValues { base == 0 ? 0 : $0 / base }
    }

    /// The default no-decay rule, the usual one for transformer fine-tuning: biases (`.bias`), normalisation gains
    /// (names ending in `norm.weight`, which covers `layer_norm.weight` and `final_layer_norm.weight`), HuBERT's
    /// `masked_spec_embed` and the weight-norm magnitude `weight_g` of the positional convolution.
    public static let defaultNoDecay: @Sendable (String) -> Bool = { name in
        name == "bias" || name.hasSuffix(".bias") || name.hasSuffix("norm.weight")
            || name.hasSuffix("masked_spec_embed") || name.hasSuffix("weight_g")
    }

    /// The scope that decides `name`'s scale, if any covers it.
    public func scope(of name: String) -> String? {
        ordered.first { scope in
            name == scope || (scope.hasSuffix(".") ? name.hasPrefix(scope) : name.hasPrefix(scope + "."))
        }
    }

    /// `name`'s learning-rate scale (1 when no scope covers it).
    public func scale(of name: String) -> Double { scope(of: name).flatMap { scopeScales[$0] } ?? 1 }

    /// Whether weight decay applies to `name`.
    public func decays(_ name: String) -> Bool { !noDecay(name) }
}

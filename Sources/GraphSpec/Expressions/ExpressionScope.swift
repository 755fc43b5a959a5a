import GraphIR

/// What the names in an expression mean: config keys, the repeat index `i`, shape symbols, ...
///
/// The config table conforms (its `value(of:)` evaluates a key's own expression on first use, which is where it
/// detects cycles); `ValueScope` is a fixed table of values over an optional parent scope.
public protocol ExpressionScope {
    /// The value of a name (`heads`, `encoder.hidden`), or nil when the scope does not know it.
    func value(of name: String) throws(SpecError) -> ConfigValue?

    /// The names the scope knows, for "did you mean" when a name is unknown; asked only then.
    var names: [String] { get }
}

/// A fixed table of values, in front of an optional parent scope: `ValueScope(["i": 3], parent: config)` is the
/// config with the repeat index bound.
public struct ValueScope: ExpressionScope {
    public var values: [String: ConfigValue]
    public var parent: (any ExpressionScope)?

    public init(_ values: [String: ConfigValue] = [:], parent: (any ExpressionScope)? = nil) {
        self.values = values
        self.parent = parent
    }

    public func value(of name: String) throws(SpecError) -> ConfigValue? {
        if let value = values[name] { return value }
        return try parent?.value(of: name)
    }

    /// This table's names, sorted, then the parent's.
    public var names: [String] { values.keys.sorted() + (parent?.names ?? []) }
}

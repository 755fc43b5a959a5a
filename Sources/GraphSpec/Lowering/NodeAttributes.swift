import GraphIR

/// The names an expression may use while lowering: config keys, the repeat index `i`, and dimension symbols.
struct LoweringScope: ExpressionScope {
    let config: ConfigTable
    /// The config prefix of the module being lowered: an imported spec sees its own keys without it.
    let prefix: String
    let locals: [String: ConfigValue]
    let symbols: Set<String>

    func value(of name: String) throws(SpecError) -> ConfigValue? {
        if let local = locals[name] { return local }
        if symbols.contains(name) { return .dim(.symbol(name)) }
        return try config.value(of: prefix + name)
    }

    /// The same scope with more local values (loop variables), which shadow the earlier ones.
    func adding(_ values: [String: ConfigValue]) -> LoweringScope {
        LoweringScope(config: config, prefix: prefix, locals: locals.merging(values) { _, new in new }, symbols: symbols)
    }

    var names: [String] {
        Array(locals.keys) + symbols.sorted()
            + config.keys.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }
}

/// Reads a node's attributes from its YAML mapping, evaluating `${...}` expressions, checking types, and
/// reporting every problem at the attribute's place.
struct NodeAttributes: AttributeReader {
    let node: YAMLNode
    let keyPath: String
    let scope: LoweringScope
    let sink: DiagnosticSink

    /// The attribute's value, evaluated; nil (reported) when missing without a default or invalid.
    private func value(_ key: String, required: Bool) -> (ConfigValue, YAMLNode)? {
        guard let attribute = node.value(forKey: key) else {
            if required { sink.error("missing '\(key)'", at: node, keyPath: keyPath) }
            return nil
        }
        guard let value = evaluate(attribute, keyPath: "\(keyPath).\(key)") else { return nil }
        return (value, attribute)
    }

    /// A YAML value as a config value: plain scalars are numbers, booleans or strings; quoted strings are strings
    /// unless they hold `${...}`; lists become lists.
    func evaluate(_ yaml: YAMLNode, keyPath: String) -> ConfigValue? {
        do {
            return try ConfigTable.literal(yaml, scope: scope)
        } catch {
            sink.absorb(error, keyPath: keyPath)
            return nil
        }
    }

    private func typeError(_ key: String, _ expected: String, _ value: ConfigValue, _ yaml: YAMLNode) {
        sink.error("'\(key)' must be \(expected), got \(value.typeName) \(value)", at: yaml, keyPath: "\(keyPath).\(key)")
    }

    func int(_ key: String, default fallback: Int?) -> Int? {
        guard let (value, yaml) = value(key, required: fallback == nil) else { return fallback.flatMap { node.value(forKey: key) == nil ? $0 : nil } }
        guard case let .int(number) = value else { typeError(key, "an integer", value, yaml); return nil }
        return number
    }

    func double(_ key: String, default fallback: Double?) -> Double? {
        guard let (value, yaml) = value(key, required: fallback == nil) else { return fallback.flatMap { node.value(forKey: key) == nil ? $0 : nil } }
        switch value {
        case let .int(number): return Double(number)
        case let .double(number): return number
        default: typeError(key, "a number", value, yaml); return nil
        }
    }

    func bool(_ key: String, default fallback: Bool?) -> Bool? {
        guard let (value, yaml) = value(key, required: fallback == nil) else { return fallback.flatMap { node.value(forKey: key) == nil ? $0 : nil } }
        guard case let .bool(flag) = value else { typeError(key, "true or false", value, yaml); return nil }
        return flag
    }

    func string(_ key: String, default fallback: String?) -> String? {
        guard let (value, yaml) = value(key, required: fallback == nil) else { return fallback.flatMap { node.value(forKey: key) == nil ? $0 : nil } }
        guard case let .string(text) = value else { typeError(key, "a string", value, yaml); return nil }
        return text
    }

    func ints(_ key: String, default fallback: [Int]?) -> [Int]? {
        guard let (value, yaml) = value(key, required: fallback == nil) else { return fallback.flatMap { node.value(forKey: key) == nil ? $0 : nil } }
        guard case let .list(items) = value else { typeError(key, "a list of integers", value, yaml); return nil }
        var numbers = [Int]()
        for item in items {
            guard case let .int(number) = item else { typeError(key, "a list of integers", value, yaml); return nil }
            numbers.append(number)
        }
        return numbers
    }

    func dims(_ key: String) -> [Dim]? {
        guard let yaml = node.value(forKey: key) else {
            sink.error("missing '\(key)'", at: node, keyPath: keyPath)
            return nil
        }
        guard let items = yaml.items else {
            sink.error("'\(key)' must be a list of dimensions such as [B, T, 768], got \(yaml.kindDescription)", at: yaml, keyPath: "\(keyPath).\(key)")
            return nil
        }
        let dims = items.enumerated().compactMap { index, item in dimValue(item, key: "\(keyPath).\(key)[\(index)]") }
        return dims.count == items.count ? dims : nil
    }

    func invalid(_ key: String, _ message: String) {
        sink.error(message, at: node.value(forKey: key) ?? node, keyPath: "\(keyPath).\(key)")
    }

    /// An integer from a YAML value (a plain number or an expression).
    func intValue(_ yaml: YAMLNode, key: String) -> Int? {
        guard let value = evaluate(yaml, keyPath: key) else { return nil }
        guard case let .int(number) = value else {
            sink.error("expected an integer, got \(value.typeName) \(value)", at: yaml, keyPath: key)
            return nil
        }
        return number
    }

    /// A dimension: an integer, a symbol declared by the inputs (`B`), or an expression of them.
    func dimValue(_ yaml: YAMLNode, key: String) -> Dim? {
        if yaml.isPlain, let text = yaml.scalar, SpecDecoder.isIdentifier(text) {
            guard scope.symbols.contains(text) else {
                sink.error("unknown dimension '\(text)'", at: yaml, keyPath: key,
                           hint: Suggestion.hint(for: text, in: scope.symbols) ?? "dimensions are the symbols of the inputs' shapes: \(scope.symbols.sorted().joined(separator: ", "))")
                return nil
            }
            return .symbol(text)
        }
        guard let value = evaluate(yaml, keyPath: key) else { return nil }
        switch value {
        case let .int(number) where number >= 0: return Dim(number)
        case let .dim(dim): return dim
        default:
            sink.error("a dimension must be a size of at least 0, a symbol such as B, or an expression of them; got \(value.typeName) \(value)",
                       at: yaml, keyPath: key)
            return nil
        }
    }
}

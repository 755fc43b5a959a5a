import GraphIR

/// The `config:` section: named values by dotted key path (`encoder.layers`), evaluated on demand so that values
/// may refer to each other (`intermediate: "${encoder.hidden * 4}"`), with command-line overrides
/// (`--set encoder.layers=2`) that may only replace keys that exist.
final class ConfigTable: ExpressionScope {
    /// Leaf values by key path, in file order.
    private var leaves: [String: YAMLNode] = [:]
    private(set) var keys: [String] = []
    /// Key paths of groups (mappings), which are not values themselves.
    private var groups: Set<String> = []
    private var cache: [String: ConfigValue] = [:]
    private var evaluating: [String] = []
    private var overridden: [String: String] = [:]
    /// The module prefix of each imported key (`backbone.`): its expressions name keys of its own spec.
    private var prefixes: [String: String] = [:]

    /// The config of `node` (nil: no config); structural problems go to the sink.
    init(_ node: YAMLNode?, sink: DiagnosticSink) {
        guard let node else { return }
        guard node.entries != nil else {
            sink.error("config must be a mapping of names to values, got \(node.kindDescription)", at: node, keyPath: "config")
            return
        }
        flatten(node, prefix: "", sink: sink)
    }

    /// Adds an imported spec's config under `prefix` (an alias: `backbone`).
    func merge(_ node: YAMLNode?, prefix: String, sink: DiagnosticSink) {
        groups.insert(prefix)
        guard let node else { return }
        guard node.entries != nil else {
            sink.error("config must be a mapping of names to values, got \(node.kindDescription)", at: node, keyPath: "config")
            return
        }
        let before = Set(keys)
        flatten(node, prefix: prefix, sink: sink)
        for key in keys where !before.contains(key) { prefixes[key] = prefix + "." }
    }

    private func flatten(_ node: YAMLNode, prefix: String, sink: DiagnosticSink) {
        for entry in node.entries ?? [] {
            guard let key = entry.key.scalar, SpecDecoder.isIdentifier(key) else {
                sink.error("a config name must be letters, digits and '_', got '\(entry.key.scalar ?? entry.key.kindDescription)'",
                           at: entry.key, keyPath: prefix.isEmpty ? "config" : "config.\(prefix)")
                continue
            }
            let path = prefix.isEmpty ? key : "\(prefix).\(key)"
            if entry.value.entries != nil {
                groups.insert(path)
                flatten(entry.value, prefix: path, sink: sink)
            } else {
                leaves[path] = entry.value
                keys.append(path)
            }
        }
    }

    /// Applies `key=value` overrides; the value is read as YAML (`2`, `1.0e-4`, `[64, 512]`, `"${x * 2}"`).
    func apply(overrides: [String], sink: DiagnosticSink) {
        for text in overrides {
            guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
                sink.report(Diagnostic("--set takes key=value, got '\(text)'", keyPath: nil, hint: "for example --set encoder.layers=2"))
                continue
            }
            let key = String(text[..<equals]), valueText = String(text[text.index(after: equals)...])
            guard leaves[key] != nil else {
                let hint = groups.contains(key)
                    ? "'\(key)' is a group; set one of its keys: \(keys.filter { $0.hasPrefix(key + ".") }.joined(separator: ", "))"
                    : Suggestion.hint(for: key, in: keys).map { "\($0) valid keys: \(keys.joined(separator: ", "))" }
                        ?? "valid keys: \(keys.joined(separator: ", "))"
                sink.report(Diagnostic("--set \(key): no such config key", hint: hint))
                continue
            }
            do {
                let node = try YAMLReader.parse(valueText, file: "--set \(key)")
                leaves[key] = node
                overridden[key] = valueText
                cache = [:]
            } catch {
                sink.absorb(error)
            }
        }
    }

    /// The value of a key path; nil when there is no such key.
    func value(of name: String) throws(SpecError) -> ConfigValue? {
        if let cached = cache[name] { return cached }
        guard let node = leaves[name] else {
            if groups.contains(name) {
                throw SpecError("'\(name)' is a group of settings, not a value",
                                hint: "use one of: \(keys.filter { $0.hasPrefix(name + ".") }.joined(separator: ", "))")
            }
            return nil
        }
        if let start = evaluating.firstIndex(of: name) {
            let cycle = evaluating[start...] + [name]
            throw SpecError("config values refer to each other in a cycle: \(cycle.joined(separator: " -> "))", at: node.location,
                            keyPath: "config.\(name)")
        }
        guard evaluating.count < SpecLimits.referenceDepth else {
            throw SpecError("config values refer to each other more than \(SpecLimits.referenceDepth) deep (\(evaluating[0]) -> \(evaluating[1]) -> ... -> \(name))",
                            at: node.location, keyPath: "config.\(name)")
        }
        evaluating.append(name)
        defer { evaluating.removeLast() }
        let value = try Self.literal(node, scope: ModuleScope(table: self, prefix: prefixes[name] ?? ""))
        cache[name] = value
        return value
    }

    var names: [String] { keys }

    /// Where a key's value is written (its spec file, or `--set KEY` for an override).
    func location(of key: String) -> SourceLocation? { leaves[key]?.location }

    /// A YAML value as a config value: plain scalars are integers, numbers, booleans or strings; a quoted string is
    /// a string unless it holds `${...}`, which is evaluated in `scope`; sequences are lists.
    static func literal(_ node: YAMLNode, scope: some ExpressionScope) throws(SpecError) -> ConfigValue {
        if let items = node.items {
            var values = [ConfigValue]()
            for item in items { values.append(try literal(item, scope: scope)) }
            return .list(values)
        }
        guard let text = node.scalar else {
            throw SpecError("expected a value (number, string, boolean or list), got \(node.kindDescription)", at: node.location)
        }
        if text.contains("${") { return try Interpolation.evaluate(text, at: node.textLocation, scope: scope) }
        if node.isPlain {
            if let number = node.int { return .int(number) }
            if let number = node.double { return .double(number) }
            if let flag = node.bool { return .bool(flag) }
        }
        return .string(text)
    }
}

/// The config as one module sees it: its own keys without their import prefix.
struct ModuleScope: ExpressionScope {
    let table: ConfigTable
    let prefix: String

    func value(of name: String) throws(SpecError) -> ConfigValue? { try table.value(of: prefix + name) }

    var names: [String] { table.keys.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) } }
}

import GraphIR

/// A node of a YAML document, with where it starts in the source.
///
/// The reader resolves aliases (`*base` becomes a copy of the node anchored `&base`) and merge keys
/// (`<<: *base`), so users of the tree see plain scalars, sequences and mappings.
public struct YAMLNode: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        case scalar(YAMLScalar)
        case sequence([YAMLNode])
        /// Entries in document order; keys are scalars and unique (by text).
        case mapping([Entry])
    }

    /// One `key: value` pair of a mapping.
    public struct Entry: Hashable, Sendable {
        public var key: YAMLNode
        public var value: YAMLNode

        public init(key: YAMLNode, value: YAMLNode) {
            self.key = key
            self.value = value
        }
    }

    public var kind: Kind
    /// Where the node starts: its first character, or its anchor or tag when it has one (1-based line and column,
    /// columns counting characters). For a node an alias produced, the alias's place.
    public var location: SourceLocation
    /// The node's tag as libyaml expands it (`!!str` is `tag:yaml.org,2002:str`), nil when it has none.
    public var tag: String?
    /// The anchor (`&base`) the node was defined with, or, for a node an alias produced, the anchor it names.
    public var anchor: String?
    /// For a node an alias (`*base`) produced: where the anchored node it copies starts. Nodes inside the copy keep
    /// their places in the anchored node.
    public var definition: SourceLocation?

    public init(
        _ kind: Kind, at location: SourceLocation, tag: String? = nil, anchor: String? = nil,
        definition: SourceLocation? = nil
    ) {
        self.kind = kind
        self.location = location
        self.tag = tag
        self.anchor = anchor
        self.definition = definition
    }

    // MARK: - Shape

    /// The scalar's text; nil for a sequence or a mapping.
    public var scalar: String? {
        guard case .scalar(let scalar) = kind else { return nil }
        return scalar.text
    }

    /// The scalar's style; nil for a sequence or a mapping.
    public var style: YAMLScalar.Style? {
        guard case .scalar(let scalar) = kind else { return nil }
        return scalar.style
    }

    /// A scalar written without quotes or block indicators (`123`, not `"123"` or `|`).
    public var isPlain: Bool { style == .plain }

    /// The items of a sequence; nil for other nodes.
    public var items: [YAMLNode]? {
        guard case .sequence(let items) = kind else { return nil }
        return items
    }

    /// The entries of a mapping in document order; nil for other nodes.
    public var entries: [Entry]? {
        guard case .mapping(let entries) = kind else { return nil }
        return entries
    }

    /// The keys of a mapping in document order; empty for other nodes.
    public var keys: [String] { entries?.compactMap(\.key.scalar) ?? [] }

    /// The entry whose key is `key`, for its key's place as well as its value; nil if absent or not a mapping.
    public func entry(forKey key: String) -> Entry? {
        entries?.first { $0.key.scalar == key }
    }

    /// The value of `key` in a mapping; nil if absent or not a mapping.
    public func value(forKey key: String) -> YAMLNode? { entry(forKey: key)?.value }

    /// "a scalar", "a sequence" or "a mapping", for messages such as "expected a mapping, found a sequence".
    public var kindDescription: String {
        switch kind {
        case .scalar: "a scalar"
        case .sequence: "a sequence"
        case .mapping: "a mapping"
        }
    }

    // MARK: - Typed reads (YAML 1.2 core schema)

    /// The integer a plain scalar spells (`42`, `-3`, `+7`, `0x1F`, `0o17`), or that an `!!int` scalar holds;
    /// nil for quoted scalars (`"42"` is a string), floats (`1.0`, `1e4`) and other text.
    public var int: Int? {
        resolvable(as: YAMLCoreSchema.intTag).flatMap(YAMLCoreSchema.int)
    }

    /// The number a plain scalar spells, integers included (`1`, `-3`, `1.5e-3`, `.5`, `1e4`, `.inf`, `.nan`), or
    /// that an `!!float` or `!!int` scalar holds; nil for quoted scalars and other text.
    public var double: Double? {
        guard let text = resolvable(as: YAMLCoreSchema.floatTag) ?? resolvable(as: YAMLCoreSchema.intTag) else {
            return nil
        }
        return YAMLCoreSchema.double(text)
    }

    /// `true` or `false` (also `True`, `TRUE`, ...) in a plain or `!!bool` scalar. `yes`, `no`, `on` and `off` are
    /// strings, as in YAML 1.2.
    public var bool: Bool? {
        resolvable(as: YAMLCoreSchema.boolTag).flatMap(YAMLCoreSchema.bool)
    }

    /// A plain scalar `~`, `null` (`Null`, `NULL`) or nothing at all (`key:`), or an `!!null` scalar.
    public var isNull: Bool {
        resolvable(as: YAMLCoreSchema.nullTag).map(YAMLCoreSchema.isNull) ?? false
    }

    /// The scalar's text if the core schema may read it as a value of `coreTag`: an untagged plain scalar, or a
    /// scalar of any style tagged `coreTag`.
    private func resolvable(as coreTag: String) -> String? {
        guard case .scalar(let scalar) = kind else { return nil }
        if let tag { return tag == coreTag ? scalar.text : nil }
        return scalar.style == .plain ? scalar.text : nil
    }

    /// Where a scalar's text begins: one column after the opening quote of a single- or double-quoted scalar,
    /// so that positions inside the text (an expression's error) land on the right column. Block scalars
    /// (`|`, `>`) start on later lines, so their start is kept.
    public var textLocation: SourceLocation {
        switch style {
        case .singleQuoted?, .doubleQuoted?:
            var location = self.location
            location.column += 1
            return location
        default:
            return location
        }
    }
}

import GraphIR

/// Builds the node tree from the parser's events (scalar, alias, collection start and end) and applies the rules
/// libyaml leaves to its user: unique scalar keys, aliases, merge keys, and limits on nesting and alias expansion.
///
/// Problems that leave the tree well formed (a duplicate key, an undefined alias, a complex key) are collected in
/// `diagnostics` and building goes on; limits stop it with a thrown error. Iterative: an explicit stack of open
/// collections, so no input nests the Swift call stack.
struct YAMLTreeBuilder {
    let maximumDepth: Int
    let maximumAliasNodes: Int

    /// The problems found so far.
    private(set) var diagnostics: [Diagnostic] = []
    /// The document's root once its last event has been seen.
    private(set) var root: YAMLNode?

    private var open: [Collection] = []
    /// Anchored nodes with their sizes, by name; a later anchor of the same name replaces an earlier one.
    private var anchors: [String: (node: YAMLNode, measure: Measure)] = [:]
    /// Anchor names in the order they were defined, for did-you-mean hints.
    private var anchorNames: [String] = []
    /// Anchors of the collections now open, which an alias inside them cannot name.
    private var openAnchors: [String: Int] = [:]
    /// Nodes produced by aliases so far.
    private var aliasNodes = 0

    init(maximumDepth: Int, maximumAliasNodes: Int) {
        self.maximumDepth = maximumDepth
        self.maximumAliasNodes = maximumAliasNodes
    }

    /// How big a finished node is.
    private struct Measure {
        /// Nodes in it, itself included, counting what aliases produced.
        var size = 1
        /// Collections nested in it, itself included (0 for a scalar).
        var height = 0

        static let scalar = Measure()

        /// Adds a child to a collection's measure.
        mutating func add(_ child: Measure) {
            size = YAMLTreeBuilder.add(size, child.size)
            height = max(height, child.height + 1)
        }
    }

    /// An open sequence or mapping.
    private struct Collection {
        enum Kind { case sequence, mapping }

        /// What the next node of a mapping is for.
        enum Slot {
            /// A key.
            case key
            /// The value of this key (whose text is given).
            case value(key: YAMLNode, text: String)
            /// The value of a merge key `<<`.
            case merge
            /// The value of a key already reported (duplicate or not a scalar): read and dropped.
            case ignoredValue(path: String)
        }

        var kind: Kind
        var location: SourceLocation
        var tag: String?
        var anchor: String?
        /// The key path of the collection (`blocks.layer`, `nodes[2]`); empty for the root.
        var path: String
        var items: [YAMLNode] = []
        var entries: [YAMLNode.Entry] = []
        var slot = Slot.key
        /// Where each key was first written.
        var keyLocations: [String: SourceLocation] = [:]
        /// Entries of merge keys, each with the number of explicit entries before it.
        var merges: [(position: Int, entries: [YAMLNode.Entry])] = []
        var measure = Measure(size: 1, height: 1)

        /// The key path of the next node added.
        var childPath: String {
            switch kind {
            case .sequence: return path + "[\(items.count)]"
            case .mapping:
                switch slot {
                case .key: return path
                case .value(_, let text): return YAMLTreeBuilder.join(path, text)
                case .merge: return YAMLTreeBuilder.join(path, "<<")
                case .ignoredValue(let path): return path
                }
            }
        }
    }

    /// The key path where the next node goes.
    private var currentPath: String { open.last?.childPath ?? "" }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }

    // MARK: - Events

    mutating func scalar(_ scalar: YAMLScalar, tag: String?, anchor: String?, at location: SourceLocation) {
        let node = YAMLNode(.scalar(scalar), at: location, tag: tag, anchor: anchor)
        define(anchor, as: node, measure: .scalar)
        add(node, measure: .scalar)
    }

    mutating func alias(_ name: String, at location: SourceLocation) throws(SpecError) {
        guard let (target, measure) = anchors[name] else {
            if openAnchors[name, default: 0] > 0 {
                report("alias '*\(name)' refers to a node that contains it", at: location, keyPath: currentPath)
            } else {
                report(
                    "undefined alias '*\(name)'", at: location, keyPath: currentPath,
                    hint: Suggestion.hint(for: name, in: anchorNames))
            }
            add(YAMLNode(.scalar(YAMLScalar("")), at: location), measure: .scalar)
            return
        }
        aliasNodes = Self.add(aliasNodes, measure.size)
        if aliasNodes > maximumAliasNodes {
            throw failure(
                "aliases expand to more than \(maximumAliasNodes) nodes", at: location, keyPath: currentPath)
        }
        // The copy must not nest deeper than the limit either: nested aliases could otherwise build a tree
        // thousands of levels deep, too deep for code that walks it recursively.
        if open.count + measure.height > maximumDepth {
            throw failure(
                "collections nest deeper than \(maximumDepth) levels through alias '*\(name)'", at: location)
        }
        var copy = target
        copy.location = location
        copy.definition = target.definition ?? target.location
        add(copy, measure: measure)
    }

    mutating func beginSequence(tag: String?, anchor: String?, at location: SourceLocation) throws(SpecError) {
        try begin(.sequence, tag: tag, anchor: anchor, at: location)
    }

    mutating func beginMapping(tag: String?, anchor: String?, at location: SourceLocation) throws(SpecError) {
        try begin(.mapping, tag: tag, anchor: anchor, at: location)
    }

    /// Closes the innermost open collection.
    mutating func end() {
        guard let collection = open.popLast() else { return }
        if let anchor = collection.anchor { openAnchors[anchor, default: 1] -= 1 }
        let kind: YAMLNode.Kind =
            switch collection.kind {
            case .sequence: .sequence(collection.items)
            case .mapping: .mapping(Self.merged(collection))
            }
        let node = YAMLNode(kind, at: collection.location, tag: collection.tag, anchor: collection.anchor)
        define(collection.anchor, as: node, measure: collection.measure)
        add(node, measure: collection.measure)
    }

    /// An error for a problem that stops reading, with the problems found before it.
    func failure(
        _ message: String, at location: SourceLocation?, keyPath: String? = nil, notes: [Diagnostic.Note] = []
    ) -> SpecError {
        SpecError(diagnostics + [Diagnostic(message, at: location, keyPath: keyPath, notes: notes)])
    }

    // MARK: - Building

    private mutating func begin(
        _ kind: Collection.Kind, tag: String?, anchor: String?, at location: SourceLocation
    ) throws(SpecError) {
        // No key path in the error: it would be hundreds of keys long.
        if open.count >= maximumDepth {
            throw failure("collections nest deeper than \(maximumDepth) levels", at: location)
        }
        let path = currentPath
        if let anchor { openAnchors[anchor, default: 0] += 1 }
        open.append(Collection(kind: kind, location: location, tag: tag, anchor: anchor, path: path))
    }

    private mutating func define(_ anchor: String?, as node: YAMLNode, measure: Measure) {
        guard let anchor else { return }
        if anchors.updateValue((node, measure), forKey: anchor) == nil { anchorNames.append(anchor) }
    }

    /// Adds a finished node to the innermost open collection, or makes it the root.
    private mutating func add(_ node: YAMLNode, measure: Measure) {
        guard var collection = open.popLast() else {
            root = node
            return
        }
        collection.measure.add(measure)
        switch collection.kind {
        case .sequence:
            collection.items.append(node)
        case .mapping:
            switch collection.slot {
            case .key:
                collection.slot = keySlot(for: node, in: &collection)
            case .value(let key, _):
                collection.entries.append(YAMLNode.Entry(key: key, value: node))
                collection.slot = .key
            case .merge:
                if let entries = mergedEntries(of: node, path: collection.childPath) {
                    collection.merges.append((collection.entries.count, entries))
                }
                collection.slot = .key
            case .ignoredValue:
                collection.slot = .key
            }
        }
        open.append(collection)
    }

    /// Checks a key and says what its value is for.
    private mutating func keySlot(for key: YAMLNode, in collection: inout Collection) -> Collection.Slot {
        guard case .scalar(let scalar) = key.kind else {
            report(
                "mapping keys must be scalars, found \(key.kindDescription)", at: key.location,
                keyPath: collection.path)
            return .ignoredValue(path: collection.path)
        }
        let text = scalar.text
        let path = Self.join(collection.path, text)
        if let first = collection.keyLocations[text] {
            report(
                "duplicate key '\(text)'", at: key.location, keyPath: path,
                notes: [Diagnostic.Note("first defined here", at: first)])
            return .ignoredValue(path: path)
        }
        collection.keyLocations[text] = key.location
        let isMerge = scalar.style == .plain && text == "<<" && (key.tag == nil || key.tag == YAMLCoreSchema.mergeTag)
        return isMerge ? .merge : .value(key: key, text: text)
    }

    /// The entries a merge key's value brings: a mapping's, or those of a sequence of mappings (earlier mappings
    /// win). Nil, reported, for other values.
    private mutating func mergedEntries(of value: YAMLNode, path: String) -> [YAMLNode.Entry]? {
        switch value.kind {
        case .mapping(let entries):
            return entries
        case .sequence(let items):
            var entries: [YAMLNode.Entry] = []
            for item in items {
                guard case .mapping(let itemEntries) = item.kind else {
                    let found = "found \(item.kindDescription) in the sequence"
                    report(
                        "the merge key '<<' takes a mapping or a sequence of mappings, \(found)", at: item.location,
                        keyPath: path)
                    return nil
                }
                entries += itemEntries
            }
            return entries
        case .scalar:
            report(
                "the merge key '<<' takes a mapping or a sequence of mappings, found \(value.kindDescription)",
                at: value.location, keyPath: path)
            return nil
        }
    }

    /// A mapping's entries with merged ones in place of their merge keys: explicit keys win over merged ones
    /// wherever they are, and among merged keys the first wins.
    private static func merged(_ collection: Collection) -> [YAMLNode.Entry] {
        guard !collection.merges.isEmpty else { return collection.entries }
        var taken = Set(collection.entries.compactMap(\.key.scalar))
        var result: [YAMLNode.Entry] = []
        var merges = collection.merges[...]
        for (position, entry) in collection.entries.enumerated() {
            while let merge = merges.first, merge.position <= position {
                append(merge.entries, to: &result, skipping: &taken)
                merges = merges.dropFirst()
            }
            result.append(entry)
        }
        for merge in merges { append(merge.entries, to: &result, skipping: &taken) }
        return result
    }

    private static func append(
        _ entries: [YAMLNode.Entry], to result: inout [YAMLNode.Entry], skipping taken: inout Set<String>
    ) {
        for entry in entries {
            guard let key = entry.key.scalar, taken.insert(key).inserted else { continue }
            result.append(entry)
        }
    }

    private mutating func report(
        _ message: String, at location: SourceLocation, keyPath: String, hint: String? = nil,
        notes: [Diagnostic.Note] = []
    ) {
        diagnostics.append(Diagnostic(message, at: location, keyPath: keyPath, hint: hint, notes: notes))
    }

    /// Saturating addition of node counts.
    fileprivate static func add(_ a: Int, _ b: Int) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : sum
    }
}

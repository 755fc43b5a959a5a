import GraphIR

/// Reads a spec's YAML tree into `Spec`, checking its structure: required and unknown keys (with did-you-mean),
/// kinds of values, names. Expressions are not evaluated here.
struct SpecDecoder {
    static let supportedVersions = [1]
    let sink: DiagnosticSink

    func decode(_ root: YAMLNode, file: String) -> Spec? {
        guard var top = MappingReader(root, keyPath: "", sink: sink, what: "a spec") else { return nil }
        var version = 1
        if let node = top.required("version", what: "the language version, 1") {
            if let value = node.int, Self.supportedVersions.contains(value) {
                version = value
            } else {
                sink.error("unsupported version '\(node.scalar ?? node.kindDescription)'", at: node, keyPath: "version",
                           hint: "this gmptl reads version \(Self.supportedVersions.map(String.init).joined(separator: ", "))")
            }
        }
        let graphName = top.optional("name").flatMap { self.name($0, keyPath: "name", what: "the graph name") } ?? file
        _ = top.optional("description")
        let config = top.optional("config")
        let before = sink.diagnostics.count
        let inputs = top.optional("inputs").map { decodeInputs($0) } ?? []
        let inputsComplete = sink.diagnostics.count == before
        var blocks = [String: BlockSpec]()
        var blockOrder = [String]()
        if let node = top.optional("blocks"), var reader = MappingReader(node, keyPath: "blocks", sink: sink, what: "blocks") {
            for entry in node.entries ?? [] {
                guard let key = name(entry.key, keyPath: "blocks", what: "a block name") else { continue }
                reader.allow([key])
                if let block = decodeBlock(entry.value, name: key, keyPath: "blocks.\(key)", isModel: false) {
                    blocks[key] = block
                    blockOrder.append(key)
                }
            }
            reader.finish(context: "blocks")
        }
        let modelNode = top.required("model", what: "the model's nodes and outputs")
        let model = modelNode.flatMap { decodeBlock($0, name: graphName, keyPath: "model", isModel: true) }
        var stages = [YAMLNode]()
        if let node = top.optional("stages") {
            if let items = node.items { stages = items } else {
                sink.error("stages must be a list, got \(node.kindDescription)", at: node, keyPath: "stages")
            }
        }
        var imports = [(alias: String, path: String, node: YAMLNode)]()
        if let node = top.optional("imports") {
            if let entries = node.entries {
                for entry in entries {
                    guard let alias = name(entry.key, keyPath: "imports", what: "an import alias") else { continue }
                    guard let path = entry.value.scalar, !path.isEmpty else {
                        sink.error("an import is a file path, such as hubert_base.yaml", at: entry.value, keyPath: "imports.\(alias)")
                        continue
                    }
                    imports.append((alias, path, entry.value))
                }
            } else {
                sink.error("imports must map aliases to spec files, such as {backbone: hubert_base.yaml}", at: node, keyPath: "imports")
            }
        }
        top.finish(context: "the spec")
        guard let model else { return nil }
        return Spec(file: file, version: version, name: graphName, root: root, config: config, inputs: inputs,
                    inputsComplete: inputsComplete, blocks: blocks,
                    blockOrder: blockOrder, model: model, stages: stages, imports: imports)
    }

    // MARK: - Sections

    func decodeInputs(_ node: YAMLNode) -> [InputSpec] {
        guard MappingReader(node, keyPath: "inputs", sink: sink, what: "inputs") != nil else { return [] }
        var inputs = [InputSpec]()
        for entry in node.entries ?? [] {
            guard let key = name(entry.key, keyPath: "inputs", what: "an input name") else { continue }
            let path = "inputs.\(key)"
            guard var reader = MappingReader(entry.value, keyPath: path, sink: sink, what: "an input") else { continue }
            var dtype = DType.f32
            if let node = reader.required("dtype", what: "f32 or i32") {
                if let text = node.scalar, let value = DType(rawValue: text) { dtype = value } else {
                    sink.error("unknown dtype '\(node.scalar ?? node.kindDescription)'", at: node, keyPath: "\(path).dtype",
                               hint: Suggestion.hint(for: node.scalar ?? "", in: DType.allCases.map(\.rawValue)) ?? "use f32 or i32")
                }
            }
            var shape = [YAMLNode]()
            if let node = reader.required("shape", what: "a list of dimensions such as [B, S]") {
                if let items = node.items { shape = items } else {
                    sink.error("shape must be a list such as [B, T, 768], got \(node.kindDescription)", at: node, keyPath: "\(path).shape")
                }
            }
            _ = reader.optional("doc")
            reader.finish(context: "input '\(key)'")
            inputs.append(InputSpec(name: key, dtype: dtype, shape: shape, node: entry.value, keyPath: path))
        }
        return inputs
    }

    func decodeBlock(_ node: YAMLNode, name blockName: String, keyPath: String, isModel: Bool) -> BlockSpec? {
        let what = isModel ? "the model" : "block '\(blockName)'"
        guard var reader = MappingReader(node, keyPath: keyPath, sink: sink, what: what) else { return nil }
        var inputs = [String]()
        if !isModel, let node = reader.required("inputs", what: "the block's input names, such as [x, lengths]") {
            inputs = names(node, keyPath: "\(keyPath).inputs", what: "input names")
        }
        var nodes = [NodeSpec]()
        if let node = reader.required("nodes", what: "the \(isModel ? "model's" : "block's") nodes") {
            if MappingReader(node, keyPath: "\(keyPath).nodes", sink: sink, what: "nodes") != nil {
                for entry in node.entries ?? [] {
                    guard let key = name(entry.key, keyPath: "\(keyPath).nodes", what: "a node name") else { continue }
                    if let decoded = decodeNode(entry.value, name: key, keyPath: "\(keyPath).nodes.\(key)") { nodes.append(decoded) }
                }
            }
        }
        var outputs = [(name: String, reference: Reference)]()
        if let node = reader.required("outputs", what: isModel ? "the model's outputs, such as {last_hidden_state: layers}" : "the block's output node names") {
            if isModel {
                for (key, value) in namedReferences(node, keyPath: "\(keyPath).outputs") { outputs.append((key, value)) }
            } else if let items = node.items {
                for item in items {
                    if let reference = reference(item, keyPath: "\(keyPath).outputs") { outputs.append((reference.output ?? reference.node, reference)) }
                }
            } else {
                sink.error("a block's outputs must be a list of node names, got \(node.kindDescription)", at: node, keyPath: "\(keyPath).outputs")
            }
        }
        var taps = [(name: String, reference: Reference, node: YAMLNode)]()
        if let node = reader.optional("taps") {
            for entry in node.entries ?? [] {
                guard let key = entry.key.scalar, let value = reference(entry.value, keyPath: "\(keyPath).taps.\(key)") else { continue }
                taps.append((key, value, entry.key))
            }
            if node.entries == nil { sink.error("taps must be a mapping of tap names to values", at: node, keyPath: "\(keyPath).taps") }
        }
        _ = reader.optional("doc")
        reader.finish(context: what)
        return BlockSpec(name: blockName, inputs: inputs, nodes: nodes, outputs: outputs, taps: taps, node: node, keyPath: keyPath)
    }

    static let commonNodeKeys = ["op", "block", "in", "params", "repeat", "taps", "doc"]

    func decodeNode(_ node: YAMLNode, name: String, keyPath: String) -> NodeSpec? {
        let invalid = NodeSpec(name: name, kind: .invalid, inputs: [], params: nil, repeatCount: nil, repeatFrom: nil, taps: [],
                               node: node, keyPath: keyPath)
        guard MappingReader(node, keyPath: keyPath, sink: sink, what: "node '\(name)'") != nil else { return invalid }
        let op = node.value(forKey: "op"), block = node.value(forKey: "block")
        let kind: NodeSpec.Kind
        switch (op, block) {
        case let (op?, nil):
            guard let text = op.scalar else {
                sink.error("op must be a name, got \(op.kindDescription)", at: op, keyPath: "\(keyPath).op")
                return invalid
            }
            kind = .op(text, op)
        case let (nil, block?):
            guard let text = block.scalar else {
                sink.error("block must be a name, got \(block.kindDescription)", at: block, keyPath: "\(keyPath).block")
                return invalid
            }
            kind = .block(text, block)
        case (_?, _?):
            sink.error("node '\(name)' has both 'op' and 'block'; give one", at: node, keyPath: keyPath)
            return invalid
        case (nil, nil):
            sink.error("node '\(name)' needs 'op' (a built-in op) or 'block' (a block of this spec)", at: node, keyPath: keyPath)
            return invalid
        }
        var inputs = [Reference]()
        if let node = node.value(forKey: "in") {
            let items = node.items ?? [node]
            inputs = items.compactMap { reference($0, keyPath: "\(keyPath).in") }
        }
        var repeatCount: YAMLNode?, repeatFrom: YAMLNode?
        var repeatChains = true
        if let node = node.value(forKey: "repeat") {
            if case .block = kind {
                if node.entries != nil, var reader = MappingReader(node, keyPath: "\(keyPath).repeat", sink: sink, what: "repeat") {
                    repeatCount = reader.required("count", what: "how many times to repeat the block")
                    repeatFrom = reader.optional("from")
                    if let chain = reader.optional("chain") {
                        if let flag = chain.bool { repeatChains = flag } else {
                            sink.error("chain must be true or false", at: chain, keyPath: "\(keyPath).repeat.chain")
                        }
                    }
                    reader.finish(context: "repeat")
                } else {
                    repeatCount = node
                }
            } else {
                sink.error("only block nodes can repeat", at: node, keyPath: "\(keyPath).repeat",
                           hint: "put the op in a block and repeat the block")
            }
        }
        var taps = [(template: YAMLNode, reference: Reference)]()
        if let node = node.value(forKey: "taps") {
            if let entries = node.entries {
                for entry in entries {
                    if let value = reference(entry.value, keyPath: "\(keyPath).taps") { taps.append((entry.key, value)) }
                }
            } else {
                sink.error("taps must be a mapping of tap names to values, such as {\"hidden.{i}\": out}", at: node, keyPath: "\(keyPath).taps")
            }
        }
        return NodeSpec(name: name, kind: kind, inputs: inputs, params: node.value(forKey: "params"),
                        repeatCount: repeatCount, repeatFrom: repeatFrom, repeatChains: repeatChains, taps: taps, node: node,
                        keyPath: keyPath)
    }

    // MARK: - Pieces

    /// A name: a plain scalar of letters, digits and `_`, not starting with a digit.
    func name(_ node: YAMLNode, keyPath: String, what: String) -> String? {
        guard let text = node.scalar, Self.isIdentifier(text) else {
            sink.error("\(what) must be a name of letters, digits and '_' (not starting with a digit), got '\(node.scalar ?? node.kindDescription)'",
                       at: node, keyPath: keyPath)
            return nil
        }
        return text
    }

    func names(_ node: YAMLNode, keyPath: String, what: String) -> [String] {
        guard let items = node.items else {
            sink.error("\(what) must be a list, got \(node.kindDescription)", at: node, keyPath: keyPath)
            return []
        }
        return items.compactMap { name($0, keyPath: keyPath, what: "each of the \(what)") }
    }

    /// `node` or `node.output`.
    func reference(_ node: YAMLNode, keyPath: String) -> Reference? {
        guard let text = node.scalar else {
            sink.error("expected the name of a value, got \(node.kindDescription)", at: node, keyPath: keyPath)
            return nil
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard (1...2).contains(parts.count), parts.allSatisfy(Self.isIdentifier) else {
            sink.error("'\(text)' is not a value name (a node, an input, or node.output)", at: node, keyPath: keyPath)
            return nil
        }
        return Reference(node: parts[0], output: parts.count == 2 ? parts[1] : nil, yaml: node)
    }

    func namedReferences(_ node: YAMLNode, keyPath: String) -> [(String, Reference)] {
        guard let entries = node.entries else {
            sink.error("expected a mapping of names to values, got \(node.kindDescription)", at: node, keyPath: keyPath)
            return []
        }
        return entries.compactMap { entry in
            guard let key = entry.key.scalar, let value = reference(entry.value, keyPath: "\(keyPath).\(key)") else { return nil }
            return (key, value)
        }
    }

    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return text.unicodeScalars.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
    }
}

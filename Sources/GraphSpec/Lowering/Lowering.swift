import GraphIR

/// Turns a decoded spec into a typed graph: evaluates expressions against the config, expands blocks and repeats,
/// makes parameters with their full names and inferred shapes, and checks every op's inputs. Problems are
/// collected in the sink; lowering goes on past them, so that independent errors are reported together.
struct Lowering {
    /// The spec being compiled (module 0) and the specs it imports.
    let modules: [Module]
    let config: ConfigTable
    let sink: DiagnosticSink
    var builder: GraphBuilder
    /// Dimension symbols declared by the inputs (`B`, `S`).
    var symbols: Set<String> = []
    var taps: [NamedValue] = []
    /// Nesting of block instantiations, to refuse a block that contains itself.
    var blockStack: [String] = []
    /// Set once the graph has passed `SpecLimits.nodes` (reported at the node where it did); lowering then stops.
    var passedNodeLimit = false

    init(modules: [Module], config: ConfigTable, sink: DiagnosticSink) {
        self.modules = modules
        self.config = config
        self.sink = sink
        builder = GraphBuilder(name: modules[0].spec.name)
    }

    var spec: Spec { modules[0].spec }

    /// The values a body can refer to by name: inputs and nodes, each with its named outputs.
    struct Frame {
        var values: [String: [(name: String, value: ValueID)]] = [:]
        var locals: [String: ConfigValue] = [:]
        var paramPrefix = ""
        var scope: [String] = []
        var namePrefix = ""
        /// The module whose blocks and config the body's names refer to.
        var module = 0
    }

    mutating func run() -> Graph? {
        var frame = Frame()
        for module in modules {
            for input in module.spec.inputs {
                for dim in input.shape where dim.isPlain {
                    if let text = dim.scalar, SpecDecoder.isIdentifier(text) { symbols.insert(text) }
                }
            }
        }
        for input in spec.inputs {
            let shape = input.shape.enumerated().compactMap { index, node in
                dimension(node, keyPath: "\(input.keyPath).shape[\(index)]", frame: frame)
            }
            guard shape.count == input.shape.count else { continue }
            frame.values[input.name] = [("", builder.input(input.name, TensorType(input.dtype, shape), at: input.node.location))]
        }
        let outputs = instantiate(spec.model, frame: frame)
        var named = [NamedValue]()
        for (index, output) in spec.model.outputs.enumerated() where index < outputs.values.count {
            if let value = outputs.values[index] { named.append(NamedValue(output.name, value, at: output.reference.yaml.location)) }
        }
        // Taps in the order their values are made (hidden.0 before hidden.1).
        builder.setOutputs(named, taps: taps.enumerated().sorted { ($0.element.value, $0.offset) < ($1.element.value, $1.offset) }.map(\.element))
        for diagnostic in builder.diagnostics { sink.report(diagnostic) }
        guard sink.isEmpty else { return nil }
        return builder.graph
    }

    // MARK: - Bodies

    /// Instantiates a block body (or the model) in `frame`, whose values hold the block's inputs; returns the
    /// block's outputs in order (nil where an output could not be made) and the frame with every node's values.
    mutating func instantiate(_ block: BlockSpec, frame initial: Frame) -> (values: [ValueID?], frame: Frame) {
        var frame = initial
        var shadowing = Set<String>()
        for node in block.nodes {
            if initial.values[node.name] != nil {
                shadowing.insert(node.name)
                sink.error("node '\(node.name)' has the name of an input of \(block.keyPath == "model" ? "the model" : "block '\(block.name)'")",
                           at: node.node, keyPath: node.keyPath, hint: "rename the node")
            } else {
                // Present but empty until lowered: a reference along a reported cycle resolves to nothing quietly.
                frame.values[node.name] = []
            }
        }
        let order = dependencyOrder(block, known: Set(initial.values.keys))
        let byName = Dictionary(block.nodes.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for name in order where !shadowing.contains(name) {
            guard let node = byName[name] else { continue }
            let inputs = node.inputs.map { resolve($0, in: frame, keyPath: "\(node.keyPath).in") }
            let made = lowerNode(node, inputs: inputs, frame: frame)
            frame.values[node.name] = made
        }
        for tap in block.taps {
            if let value = resolve(tap.reference, in: frame, keyPath: "\(block.keyPath).taps.\(tap.name)") {
                addTap(tap.name, value, at: tap.node, keyPath: "\(block.keyPath).taps")
            }
        }
        let outputs = block.outputs.map { resolve($0.reference, in: frame, keyPath: "\(block.keyPath).outputs") }
        return (outputs, frame)
    }

    /// Node names in an order where every node comes after the nodes it reads; a cycle is reported once, at the
    /// first node on it, with the path.
    func dependencyOrder(_ block: BlockSpec, known: Set<String>) -> [String] {
        let byName = Dictionary(block.nodes.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var state = [String: Int]()  // 1 visiting, 2 done
        var order = [String]()
        var stack = [String]()
        var reported = false
        func visit(_ name: String) {
            guard let node = byName[name] else { return }
            if state[name] == 2 { return }
            if state[name] == 1 {
                guard !reported, let start = stack.firstIndex(of: name) else { return }
                reported = true
                let cycle = stack[start...] + [name]
                sink.error("cycle: \(cycle.joined(separator: " -> "))", at: node.node, keyPath: node.keyPath,
                           hint: "a node cannot depend on its own output; break the loop")
                return
            }
            state[name] = 1
            stack.append(name)
            for input in node.inputs where byName[input.node] != nil && !known.contains(input.node) { visit(input.node) }
            stack.removeLast()
            state[name] = 2
            order.append(name)
        }
        for node in block.nodes { visit(node.name) }
        return order
    }

    /// The value a reference names, or nil after reporting why not.
    mutating func resolve(_ reference: Reference, in frame: Frame, keyPath: String) -> ValueID? {
        guard let outputs = frame.values[reference.node] else {
            // (A node that failed is present with no outputs: its error is already reported.)
            sink.error("unknown value '\(reference.node)'", at: reference.yaml, keyPath: keyPath,
                       hint: Suggestion.hint(for: reference.node, in: frame.values.keys.sorted())
                           ?? "values here: \(frame.values.keys.sorted().joined(separator: ", "))")
            return nil
        }
        if outputs.isEmpty { return nil }
        if let output = reference.output {
            guard let match = outputs.first(where: { $0.name == output }) else {
                let names = outputs.map(\.name).filter { !$0.isEmpty }
                sink.error("'\(reference.node)' has no output '\(output)'", at: reference.yaml, keyPath: keyPath,
                           hint: Suggestion.hint(for: output, in: names) ?? (names.isEmpty ? "'\(reference.node)' has one output; refer to it as '\(reference.node)'" : "its outputs: \(names.joined(separator: ", "))"))
                return nil
            }
            return match.value
        }
        // One output, or an op's several with the first unnamed (`masked` is the masked features, `masked.mask` the mask).
        guard outputs.count == 1 || outputs.first?.name == "", let only = outputs.first else {
            let names = outputs.map(\.name)
            sink.error("'\(reference.node)' has several outputs; name one", at: reference.yaml, keyPath: keyPath,
                       hint: "for example '\(reference.node).\(names.first ?? "")' (outputs: \(names.joined(separator: ", ")))")
            return nil
        }
        return only.value
    }

    // MARK: - Nodes

    /// Lowers one node; returns its named outputs (empty when it failed).
    mutating func lowerNode(_ node: NodeSpec, inputs: [ValueID?], frame: Frame) -> [(name: String, value: ValueID)] {
        guard !passedNodeLimit else { return [] }
        // Blocks in blocks multiply without a repeat, so the total is checked wherever a node is made.
        guard builder.graph.nodes.count < SpecLimits.nodes else {
            passedNodeLimit = true
            sink.error("the graph passes the limit of \(SpecLimits.nodes) nodes here (repeats and nested blocks multiply nodes)",
                       at: node.node, keyPath: node.keyPath)
            return []
        }
        switch node.kind {
        case let .op(name, opNode):
            guard let op = LayerOp.named(name) else {
                sink.error("unknown op '\(name)'", at: opNode, keyPath: "\(node.keyPath).op",
                           hint: Suggestion.hint(for: name, in: LayerOp.names)
                               ?? (findBlock(name, from: frame.module) != nil ? "'\(name)' is a block: write 'block: \(name)'" : nil))
                return []
            }
            return lowerOp(op, node: node, inputs: inputs, frame: frame)
        case .invalid:
            return []
        case let .block(name, blockNode):
            guard let (block, module) = findBlock(name, from: frame.module) else {
                sink.error("unknown block '\(name)'", at: blockNode, keyPath: "\(node.keyPath).block",
                           hint: Suggestion.hint(for: name, in: blockNames(from: frame.module))
                               ?? (LayerOp.named(name) != nil ? "'\(name)' is an op: write 'op: \(name)'" : nil))
                return []
            }
            return lowerBlock(block, module: module, node: node, inputs: inputs, frame: frame)
        }
    }

    mutating func lowerOp(_ op: LayerOp, node: NodeSpec, inputs: [ValueID?], frame: Frame) -> [(name: String, value: ValueID)] {
        var reader = MappingReader(node.node, keyPath: node.keyPath, sink: sink, what: "node")
        // `params` and `repeat` on the wrong kind of node get their own message below, not "unknown key".
        reader?.allow(["op", "in", "doc", "params", "repeat", "taps"] + op.attributes)
        reader?.finish(context: "op '\(op.name)'")
        if !op.needsParams, let params = node.params {
            sink.error("op '\(op.name)' has no parameters; remove 'params'", at: params, keyPath: "\(node.keyPath).params")
        }
        if let taps = node.node.value(forKey: "taps") {
            sink.error("only block nodes have taps; tap an op's value in the model's 'taps'", at: taps, keyPath: "\(node.keyPath).taps")
        }
        let variadic = op.inputs.first?.hasPrefix("*") == true
        let required = op.inputs.filter { !$0.hasSuffix("?") }.count
        if !variadic, !(required...op.inputs.count).contains(node.inputs.count) {
            let list = op.inputs.joined(separator: ", ")
            sink.error("op '\(op.name)' takes \(op.inputs.isEmpty ? "no inputs" : "in: [\(list)]"), got \(node.inputs.count)",
                       at: node.node.value(forKey: "in") ?? node.node, keyPath: "\(node.keyPath).in")
            return []
        }
        let given = inputs.compactMap { $0 }
        guard given.count == inputs.count, !given.contains(where: builder.isFailed) else { return failed(node) }
        let attributes = NodeAttributes(node: node.node, keyPath: node.keyPath, scope: scope(frame), sink: sink)
        guard let lowered = op.lower(given.map { builder.type(of: $0) }, attributes) else { return failed(node) }
        var prefix = frame.paramPrefix
        if op.needsParams {
            guard let params = node.params else {
                sink.error("op '\(op.name)' needs 'params': the scope of its parameters, such as 'encoder.layers.{i}.attention.q_proj'",
                           at: node.node, keyPath: node.keyPath)
                return failed(node)
            }
            guard let expanded = template(params, keyPath: "\(node.keyPath).params", frame: frame) else { return failed(node) }
            prefix = join(prefix, expanded)
        }
        let location = node.node.location
        let nodeName = frame.namePrefix + node.name
        let parameterValues = lowered.parameters.map {
            builder.parameter(join(prefix, $0.suffix), shape: $0.shape, scope: frame.scope, at: location, keyPath: node.keyPath)
        }
        if case let .parameter(_, shape) = lowered.op {
            return [("", builder.parameter(prefix, shape: shape, scope: frame.scope, at: location, keyPath: node.keyPath))]
        }
        var weights = parameterValues
        if let norm = lowered.weightNorm {
            let v = builder.parameter(join(prefix, norm.v.suffix), shape: norm.v.shape, scope: frame.scope, at: location, keyPath: node.keyPath)
            let g = builder.parameter(join(prefix, norm.g.suffix), shape: norm.g.shape, scope: frame.scope, at: location, keyPath: node.keyPath)
            let weight = builder.add(.weightNorm(axis: norm.axis), [v, g], name: nodeName + ".weight", scope: frame.scope,
                                     at: location, keyPath: node.keyPath)[0]
            weights.insert(weight, at: 0)
        }
        let irInputs = op.parametersAfterFirstInput
            ? [given[0]] + weights + given.dropFirst()
            : given + weights
        let outputs = builder.add(lowered.op, irInputs, name: nodeName, scope: frame.scope, at: location, keyPath: node.keyPath)
        let names = lowered.op.outputNames
        return outputs.enumerated().map { (index, value) in (index < names.count ? names[index] : "\(index)", value) }
    }

    mutating func lowerBlock(_ block: BlockSpec, module: Int, node: NodeSpec, inputs: [ValueID?], frame: Frame) -> [(name: String, value: ValueID)] {
        var reader = MappingReader(node.node, keyPath: node.keyPath, sink: sink, what: "node")
        reader?.allow(["block", "in", "params", "repeat", "taps", "doc"])
        reader?.finish(context: "block node '\(node.name)'")
        let blockKey = "\(module):\(block.name)"
        guard !blockStack.contains(blockKey) else {
            sink.error("block '\(block.name)' contains itself (\((blockStack + [blockKey]).map { $0.split(separator: ":").last.map(String.init) ?? $0 }.joined(separator: " -> ")))",
                       at: node.node, keyPath: node.keyPath)
            return []
        }
        guard inputs.count == block.inputs.count else {
            sink.error("block '\(block.name)' takes in: [\(block.inputs.joined(separator: ", "))], got \(inputs.count)",
                       at: node.node.value(forKey: "in") ?? node.node, keyPath: "\(node.keyPath).in",
                       notes: [.init("block '\(block.name)' is defined here", at: block.node.location)])
            return []
        }
        var count = 1, first = 0
        let repeats = node.repeatCount != nil
        if let countNode = node.repeatCount {
            guard let value = integer(countNode, keyPath: "\(node.keyPath).repeat", frame: frame), value >= 0 else {
                if let value = integer(countNode, keyPath: "\(node.keyPath).repeat", frame: frame, report: false), value < 0 {
                    sink.error("repeat count must be at least 0, got \(value)", at: countNode, keyPath: "\(node.keyPath).repeat")
                }
                return []
            }
            guard value <= SpecLimits.repeatCount else {
                sink.error("repeat count \(value) is past the limit of \(SpecLimits.repeatCount)", at: countNode,
                           keyPath: "\(node.keyPath).repeat")
                return []
            }
            count = value
            if let fromNode = node.repeatFrom {
                guard let value = integer(fromNode, keyPath: "\(node.keyPath).repeat.from", frame: frame) else { return [] }
                guard value.magnitude <= UInt(SpecLimits.repeatStart) else {
                    sink.error("repeat start \(value) is out of range (at most \(SpecLimits.repeatStart) either side of 0)",
                               at: fromNode, keyPath: "\(node.keyPath).repeat.from")
                    return []
                }
                first = value
            }
        }
        var current = inputs
        var last: [ValueID?] = []
        // An input that failed upstream is already reported; instantiating the block would only repeat it.
        guard inputs.allSatisfy({ $0 != nil }) else { return [] }
        blockStack.append(blockKey)
        // An imported model is checked against its declared inputs: its shapes mention its own symbols.
        if block.keyPath == "model", module != frame.module {
            for (input, value) in zip(modules[module].spec.inputs, inputs) {
                guard let value, !builder.isFailed(value) else { continue }
                let actual = builder.type(of: value)
                if actual.dtype != input.dtype || actual.rank != input.shape.count {
                    sink.error("'\(node.name)' passes \(actual) as input '\(input.name)' of '\(block.name)', which takes \(input.dtype.rawValue) of rank \(input.shape.count)",
                               at: node.node.value(forKey: "in") ?? node.node, keyPath: "\(node.keyPath).in",
                               notes: [.init("'\(input.name)' is declared here", at: input.node.location)])
                }
            }
        }
        defer { blockStack.removeLast() }
        for index in first..<(first + count) {
            var child = Frame()
            child.module = module
            child.locals = frame.locals
            if repeats { child.locals["i"] = .int(index) }
            var instance = node.name
            if let params = node.params {
                guard let expanded = template(params, keyPath: "\(node.keyPath).params", frame: Frame(values: [:], locals: child.locals, paramPrefix: "", scope: [], namePrefix: "", module: frame.module)) else { return [] }
                child.paramPrefix = join(frame.paramPrefix, expanded)
                instance = expanded
            } else {
                child.paramPrefix = frame.paramPrefix
                if repeats { instance = "\(node.name).\(index)" }
            }
            // DOT draws a cluster per block instance, named by its parameter scope (`encoder.layers.3`).
            child.scope = frame.scope + [child.paramPrefix.isEmpty ? frame.namePrefix + instance : child.paramPrefix]
            child.namePrefix = frame.namePrefix + (repeats ? "\(node.name).\(index)." : "\(node.name).")
            for (position, name) in block.inputs.enumerated() {
                if let value = current[position] { child.values[name] = [("", value)] }
            }
            guard current.allSatisfy({ $0 != nil }) else { return [] }
            let (outputs, inner) = instantiate(block, frame: child)
            for tap in node.taps {
                let tapFrame = Frame(values: [:], locals: child.locals, paramPrefix: "", scope: [], namePrefix: "", module: frame.module)
                guard let name = template(tap.template, keyPath: "\(node.keyPath).taps", frame: tapFrame),
                      let value = resolve(tap.reference, in: inner, keyPath: "\(node.keyPath).taps.\(name)") else { continue }
                addTap(name, value, at: tap.template, keyPath: "\(node.keyPath).taps")
            }
            last = outputs
            // The outputs feed the next repetition's first inputs; the remaining inputs are shared.
            if node.repeatChains {
                for position in 0..<min(outputs.count, current.count) { current[position] = outputs[position] }
            }
        }
        if count == 0 {
            guard block.outputs.count <= inputs.count, node.repeatChains else {
                sink.error("repeat count 0 leaves '\(node.name)' without values: a block repeated 0 times passes its inputs through, and block '\(block.name)' has more outputs than inputs\(node.repeatChains ? "" : " (or does not chain)")",
                           at: node.repeatCount ?? node.node, keyPath: "\(node.keyPath).repeat")
                return []
            }
            last = Array(inputs.prefix(block.outputs.count))
        }
        guard last.count == block.outputs.count, last.allSatisfy({ $0 != nil }) else { return [] }
        return zip(block.outputs, last).compactMap { output, value in value.map { (output.name, $0) } }
    }

    /// The outputs of a node that could not be lowered: none. Later references to it resolve to nothing without
    /// a second message.
    func failed(_ node: NodeSpec) -> [(name: String, value: ValueID)] { [] }

    // MARK: - Values

    func scope(_ frame: Frame) -> LoweringScope {
        LoweringScope(config: config, prefix: modules[frame.module].configPrefix, locals: frame.locals, symbols: symbols)
    }

    /// A block by name as seen from a module: its own blocks, an imported spec's model (`backbone`), or an
    /// imported spec's block (`backbone.conv_layer`).
    func findBlock(_ name: String, from module: Int) -> (BlockSpec, Int)? {
        let current = modules[module]
        if let block = current.spec.blocks[name] { return (block, module) }
        if let imported = current.imports[name] {
            var model = modules[imported].spec.model
            model.inputs = modules[imported].spec.inputs.map(\.name)
            return (model, imported)
        }
        let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
        if parts.count == 2, let imported = current.imports[parts[0]], let block = modules[imported].spec.blocks[parts[1]] {
            return (block, imported)
        }
        return nil
    }

    func blockNames(from module: Int) -> [String] {
        let current = modules[module]
        return current.spec.blockOrder + current.imports.keys.sorted().flatMap { alias in
            [alias] + (current.imports[alias].map { modules[$0].spec.blockOrder.map { "\(alias).\($0)" } } ?? [])
        }
    }

    /// Names a value as a tap; tap names are one namespace for the whole graph.
    mutating func addTap(_ name: String, _ value: ValueID, at node: YAMLNode, keyPath: String) {
        if let existing = taps.first(where: { $0.name == name }) {
            if existing.value != value {
                sink.error("tap '\(name)' is defined twice", at: node, keyPath: keyPath,
                           notes: [.init("first defined here", at: existing.location)])
            }
            return
        }
        taps.append(NamedValue(name, value, at: node.location))
    }

    /// A name template expanded (`encoder.layers.{i}` -> `encoder.layers.3`); the result must be a dotted name of
    /// letters, digits and `_` (parameter scopes and tap names).
    func template(_ node: YAMLNode, keyPath: String, frame: Frame) -> String? {
        guard let text = node.scalar else {
            sink.error("expected a name template such as 'encoder.layers.{i}', got \(node.kindDescription)", at: node, keyPath: keyPath)
            return nil
        }
        let expanded: String
        do {
            expanded = try Interpolation.expandTemplate(text, at: node.textLocation, scope: scope(frame))
        } catch {
            sink.absorb(error, keyPath: keyPath)
            return nil
        }
        let parts = expanded.split(separator: ".", omittingEmptySubsequences: false)
        let valid = parts.allSatisfy { part in
            !part.isEmpty && part.unicodeScalars.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
        }
        guard valid else {
            sink.error("'\(expanded)' is not a name: use letters, digits and '_' between dots", at: node, keyPath: keyPath,
                       hint: text.contains("${") ? "names take {expression}, not ${expression}: write '\(text.replacingDollarBraces())'" : nil)
            return nil
        }
        return expanded
    }

    func integer(_ node: YAMLNode, keyPath: String, frame: Frame, report: Bool = true) -> Int? {
        let reader = NodeAttributes(node: node, keyPath: keyPath, scope: scope(frame), sink: report ? sink : DiagnosticSink())
        return reader.intValue(node, key: keyPath)
    }

    func dimension(_ node: YAMLNode, keyPath: String, frame: Frame) -> Dim? {
        NodeAttributes(node: node, keyPath: keyPath, scope: scope(frame), sink: sink).dimValue(node, key: keyPath)
    }

    func join(_ prefix: String, _ suffix: String) -> String {
        prefix.isEmpty ? suffix : suffix.isEmpty ? prefix : "\(prefix).\(suffix)"
    }
}

extension String {
    /// `a.${i}` -> `a.{i}`.
    fileprivate func replacingDollarBraces() -> String {
        var result = ""
        var previous: Character?
        for character in self {
            if character == "{" && previous == "$" { result.removeLast() }
            result.append(character)
            previous = character
        }
        return result
    }
}

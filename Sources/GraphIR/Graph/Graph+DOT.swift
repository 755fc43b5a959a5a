/// What `Graph.dot(_:)` draws and how.
public struct DOTOptions: Hashable, Sendable {
    /// How much of the block structure to fold away.
    public enum Collapse: String, CaseIterable, Sendable {
        /// Every node, in nested clusters, one per block instance.
        case none
        /// Each repeat (block instances `encoder.layers.0`, `encoder.layers.1`, ...: scopes whose last path
        /// component is a number) drawn once: the nodes of its first instance, in a cluster labelled
        /// `encoder.layers.{0..11} x12`; edges from and to the other instances go to the matching node of the first.
        /// Only consecutive instances with the same ops and parameter shapes fold together (HuBERT's first conv
        /// layer, with its group norm, stays apart from the other six).
        case layers
        /// Each outermost block instance drawn as one box (its name and node counts).
        case blocks
    }

    public var collapse: Collapse
    /// Whether parameter nodes (small and grey) and their edges are drawn.
    public var showParameters: Bool
    /// Whether a legend cluster explains the node styles.
    public var showLegend: Bool
    /// Nodes drawn apart, for example the backward nodes of a training graph: red and dashed, as are the edges
    /// that touch them.
    public var highlight: Set<NodeID>

    public init(
        collapse: Collapse = .none, showParameters: Bool = true, showLegend: Bool = true, highlight: Set<NodeID> = []
    ) {
        self.collapse = collapse
        self.showParameters = showParameters
        self.showLegend = showLegend
        self.highlight = highlight
    }
}

/// Graphviz DOT export, for `gmptl compile --emit dot` and for looking at what a spec compiled to
/// (`dot -Tsvg graph.dot > graph.svg`).
///
/// The text is deterministic: nodes, clusters and edges come out in node order, and node `#12` is `n12`.
///
///     digraph tiny {
///       n0 [label="wave\nf32[B, S]", shape=invhouse, style=filled, fillcolor="#dbeafe", color="#1d4ed8"];
///       subgraph "cluster:features" {
///         label="features";
///         n5 [label="conv0\nconv1d k10 s5\nf32[B, floor((S - 10) / 5) + 1, 8]"];
///       }
///       n3 -> n5;
///     }
///
/// A label is the node's name (less its innermost block's prefix), the op with its key attributes, the output
/// type, and the names of the taps and graph outputs it makes. Styles by role: inputs blue houses, parameters small
/// and grey, ops white, random ops amber, losses purple octagons, graph outputs green with a double border, tap
/// producers a bold border, highlighted nodes red and dashed. docs/architecture.md has the conventions.
extension Graph {
    public func dot(_ options: DOTOptions = .init()) -> String {
        var writer = DOTWriter(graph: self, options: options)
        return writer.render()
    }
}

// MARK: - Writer

private struct DOTWriter {
    /// What a node of the graph is drawn as.
    enum Target: Hashable {
        /// A drawn node (itself, or the node of the first instance of its repeat).
        case node(Int)
        /// The box of an outermost block (`Collapse.blocks`).
        case block(Int)
        /// Not drawn (a parameter with `showParameters` off).
        case hidden
    }

    /// Consecutive instances of one repeat with the same ops, folded onto the first by `Collapse.layers`.
    struct Run {
        var base: String
        var instances: [(scope: String, index: Int)]

        var label: String {
            let indices = instances.map(\.index)
            let contiguous = zip(indices, indices.dropFirst()).allSatisfy { $1 == $0 + 1 }
            let list = contiguous ? "\(indices[0])..\(indices[indices.count - 1])" : indices.map(String.init).joined(separator: ",")
            return "\(base).{\(list)} x\(indices.count)"
        }
    }

    struct Edge {
        var tail: Target
        var head: Target
        var port: Int?
        /// The label of an edge from one instance of a folded repeat to a later one (`next`, `+2`).
        var step: String?
        var highlighted: Bool
    }

    let graph: Graph
    let options: DOTOptions
    var targets: [Target] = []
    /// Blocks (`Collapse.blocks`): scope name and member nodes, in order of first appearance.
    var blocks: [(scope: String, members: [Int])] = []
    /// Folded repeats (`Collapse.layers`).
    var runs: [Run] = []
    /// For each instance scope of a folded run: the run and the instance's position in it.
    var runOfScope: [String: (run: Int, position: Int)] = [:]
    /// The collapsed cluster label of each folded run's first instance.
    var runLabelOfScope: [String: String] = [:]
    /// The items that stand for a highlighted node.
    var highlighted = Set<Target>()
    var lines: [String] = []

    init(graph: Graph, options: DOTOptions) {
        self.graph = graph
        self.options = options
        switch options.collapse {
        case .none: targets = graph.nodes.map { .node($0.id.index) }
        case .layers: foldRepeats()
        case .blocks: collectBlocks()
        }
        if !options.showParameters {
            for node in graph.nodes where node.op.isParameter { targets[node.id.index] = .hidden }
        }
        for node in options.highlight.sorted() where targets.indices.contains(node.index) { highlighted.insert(targets[node.index]) }
    }

    // MARK: Collapsing

    /// `encoder.layers.3` is instance 3 of the repeat `encoder.layers`.
    static func instance(_ scope: String) -> (base: String, index: Int)? {
        guard let dot = scope.lastIndex(of: ".") else { return nil }
        let digits = scope[scope.index(after: dot)...]
        guard !digits.isEmpty, digits.allSatisfy({ ("0"..."9").contains($0) }), let index = Int(digits) else { return nil }
        return (String(scope[..<dot]), index)
    }

    mutating func foldRepeats() {
        // The members of each instance scope (every node with the scope in its path), and the instances of each
        // repeat, in order of first appearance.
        var members = [String: [Int]]()
        var instancesOfBase = [String: [(scope: String, index: Int)]]()
        var bases = [String]()
        for node in graph.nodes {
            for scope in node.scope {
                guard let (base, index) = Self.instance(scope) else { continue }
                if members[scope] == nil {
                    if instancesOfBase[base] == nil { bases.append(base) }
                    instancesOfBase[base, default: []].append((scope, index))
                }
                if members[scope]?.last != node.id.index { members[scope, default: []].append(node.id.index) }
            }
        }
        // What must agree for instances to fold: the ops, and the shapes of the parameters (not their names).
        func signature(_ scope: String) -> [Op] {
            members[scope, default: []].map { index in
                let op = graph.nodes[index].op
                if case let .parameter(_, shape) = op { return .parameter(name: "", shape: shape) }
                return op
            }
        }
        var foldOf = [String: (first: String, positions: [Int: Int])]()
        for base in bases {
            let instances = instancesOfBase[base, default: []].sorted { ($0.index, $0.scope) < ($1.index, $1.scope) }
            var start = 0
            while start < instances.count {
                let first = signature(instances[start].scope)
                var end = start + 1
                while end < instances.count, signature(instances[end].scope) == first { end += 1 }
                if end - start >= 2 {
                    let run = Run(base: base, instances: Array(instances[start..<end]))
                    for (position, instance) in run.instances.enumerated() {
                        runOfScope[instance.scope] = (runs.count, position)
                        guard position > 0 else { continue }
                        var positions = [Int: Int]()
                        for (offset, node) in members[instance.scope, default: []].enumerated() { positions[node] = offset }
                        foldOf[instance.scope] = (run.instances[0].scope, positions)
                    }
                    runLabelOfScope[run.instances[0].scope] = run.label
                    runs.append(run)
                }
                start = end
            }
        }
        // A node of a later instance maps to the node at the same position in the first; nested repeats fold in
        // turn (outermost first), so follow the mapping until it stops.
        targets = graph.nodes.map { node in
            var current = node.id.index
            for _ in 0..<64 {
                let scope = graph.nodes[current].scope.first { foldOf[$0] != nil }
                guard let scope, let fold = foldOf[scope], let position = fold.positions[current],
                      let counterpart = members[fold.first]?[position] else { break }
                current = counterpart
            }
            return .node(current)
        }
    }

    mutating func collectBlocks() {
        var blockOfScope = [String: Int]()
        targets = graph.nodes.map { node in
            guard let scope = node.scope.first else { return .node(node.id.index) }
            let block = blockOfScope[scope] ?? blocks.count
            if block == blocks.count {
                blockOfScope[scope] = block
                blocks.append((scope, []))
            }
            blocks[block].members.append(node.id.index)
            return .block(block)
        }
    }

    /// The later instance an edge goes to, when both ends are in different instances of one folded run.
    func step(from producer: Node, to consumer: Node) -> String? {
        for scope in producer.scope {
            guard let (run, from) = runOfScope[scope] else { continue }
            for other in consumer.scope {
                guard let (otherRun, to) = runOfScope[other], otherRun == run, to != from else { continue }
                return to - from == 1 ? "next" : "\(to - from > 0 ? "+" : "")\(to - from)"
            }
        }
        return nil
    }

    // MARK: Rendering

    static let graphDefaults = [
        ("labelloc", "t"), ("labeljust", "l"), ("fontname", "Helvetica"), ("fontsize", "12"), ("nodesep", "0.3"),
        ("ranksep", "0.35"),
    ]
    /// An op's style: the other roles change some of these.
    static let nodeDefaults = [
        ("shape", "box"), ("style", "rounded,filled"), ("fillcolor", "#ffffff"), ("color", "#374151"),
        ("fontname", "Helvetica"), ("fontsize", "10"), ("margin", "0.12,0.04"),
    ]
    static let edgeDefaults = [
        ("color", "#6b7280"), ("arrowsize", "0.6"), ("fontname", "Helvetica"), ("fontsize", "8"), ("fontcolor", "#6b7280"),
    ]
    static let clusterAttributes = [("style", "rounded"), ("color", "#9ca3af")]
    static let fusedClusterAttributes = [("style", "rounded,dashed"), ("color", "#d97706")]
    static let collapsedClusterAttributes = [
        ("style", "rounded,filled"), ("fillcolor", "#f1f5f9"), ("color", "#475569"), ("penwidth", "2"),
    ]

    mutating func render() -> String {
        lines.append("digraph \(Self.id(graph.name)) {")
        lines.append("  graph [\(Self.attributes([("label", graph.name)] + Self.graphDefaults))];")
        lines.append("  node [\(Self.attributes(Self.nodeDefaults))];")
        lines.append("  edge [\(Self.attributes(Self.edgeDefaults))];")
        lines.append("")

        // Which graph nodes each drawn item stands for.
        var standsFor = [Target: [Int]]()
        for (index, target) in targets.enumerated() where target != .hidden { standsFor[target, default: []].append(index) }

        // Items in order of first appearance, nested in their block clusters.
        var tree = ClusterTree()
        var seen = Set<Target>()
        for target in targets where target != .hidden && seen.insert(target).inserted {
            switch target {
            case let .node(index): tree.add(target, path: graph.nodes[index].scope)
            case .block: tree.add(target, path: [])
            case .hidden: break
            }
        }
        emit(tree, cluster: 0, indent: "  ", standsFor: standsFor)

        let edges = collectEdges()
        if !edges.isEmpty { lines.append("") }
        for edge in edges {
            var attributes = [(String, String)]()
            if let port = edge.port { attributes.append(("taillabel", "\(port)")) }
            if let step = edge.step {
                attributes += [("style", "dashed"), ("constraint", "false"), ("label", step)]
            }
            if edge.highlighted { attributes += [("color", Self.highlightColor), ("style", "dashed")] }
            let list = attributes.isEmpty ? "" : " [\(Self.attributes(Self.merged(attributes)))]"
            lines.append("  \(Self.itemID(edge.tail)) -> \(Self.itemID(edge.head))\(list);")
        }

        if options.showLegend {
            lines.append("")
            emitLegend()
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    mutating func emit(_ tree: ClusterTree, cluster: Int, indent: String, standsFor: [Target: [Int]]) {
        for entry in tree.clusters[cluster].entries {
            switch entry {
            case let .item(target):
                let attributes = itemAttributes(target, standsFor: standsFor[target, default: []])
                if case let .node(index) = target, !graph.nodes[index].members.isEmpty {
                    // A node of the fusion pass: in a cluster labelled by the nodes it computes.
                    let members = graph.nodes[index].members
                    lines.append(indent + "subgraph \(Self.id("cluster:fused:" + graph.nodes[index].name)) {")
                    for (key, value) in [("label", "fused: " + members.joined(separator: " + "))] + Self.fusedClusterAttributes {
                        lines.append(indent + "  \(key)=\(Self.id(value));")
                    }
                    lines.append(indent + "  \(Self.itemID(target)) [\(Self.attributes(attributes))];")
                    lines.append(indent + "}")
                } else {
                    lines.append(indent + "\(Self.itemID(target)) [\(Self.attributes(attributes))];")
                }
            case let .cluster(child):
                let scope = tree.clusters[child].scope
                let name = tree.clusters[child].uniqueName
                let attributes = if let collapsed = runLabelOfScope[scope] {
                    [("label", collapsed)] + Self.collapsedClusterAttributes
                } else {
                    [("label", scope)] + Self.clusterAttributes
                }
                lines.append(indent + "subgraph \(Self.id("cluster:" + name)) {")
                for (key, value) in attributes { lines.append(indent + "  \(key)=\(Self.id(value));") }
                emit(tree, cluster: child, indent: indent + "  ", standsFor: standsFor)
                lines.append(indent + "}")
            }
        }
    }

    func collectEdges() -> [Edge] {
        var edges = [Edge]()
        var indexOfKey = [String: Int]()
        for consumer in graph.nodes {
            let head = targets[consumer.id.index]
            guard head != .hidden else { continue }
            for input in consumer.inputs {
                let value = graph[input]
                let producer = graph[value.producer]
                let tail = targets[producer.id.index]
                guard tail != .hidden else { continue }
                let step = options.collapse == .layers ? step(from: producer, to: consumer) : nil
                // Inside one block box, or a node reading one value twice: no edge (a step to a later instance of
                // the same node is drawn, as a loop).
                if tail == head && step == nil { continue }
                let port: Int? = if case .node = tail, producer.outputs.count > 1 { value.outputIndex } else { nil }
                let key = "\(Self.itemID(tail)) \(Self.itemID(head)) \(port ?? -1)"
                let highlighted = isHighlighted(tail) || isHighlighted(head)
                if let existing = indexOfKey[key] {
                    // A plain edge wins over a step between instances that lands on the same pair.
                    if step == nil { edges[existing].step = nil }
                    continue
                }
                indexOfKey[key] = edges.count
                edges.append(Edge(tail: tail, head: head, port: port, step: step, highlighted: highlighted))
            }
        }
        return edges
    }

    func isHighlighted(_ target: Target) -> Bool { highlighted.contains(target) }

    // MARK: Nodes

    enum Role { case input, parameter, op, random, loss, block, backward }

    static let highlightColor = "#dc2626"

    /// Fill, shape and style of each role (the node defaults are an op's).
    static func roleAttributes(_ role: Role) -> [(String, String)] {
        switch role {
        case .input: [("shape", "invhouse"), ("style", "filled"), ("fillcolor", "#dbeafe"), ("color", "#1d4ed8")]
        case .parameter:
            [("style", "filled"), ("fillcolor", "#f3f4f6"), ("color", "#9ca3af"), ("fontcolor", "#6b7280"), ("fontsize", "8"),
             ("height", "0.2"), ("margin", "0.06,0.02")]
        case .op: []
        case .random: [("fillcolor", "#fef3c7"), ("color", "#b45309")]
        case .loss: [("shape", "octagon"), ("style", "filled"), ("fillcolor", "#ede9fe"), ("color", "#6d28d9")]
        case .block: [("shape", "box3d"), ("style", "filled"), ("fillcolor", "#f1f5f9"), ("color", "#475569")]
        case .backward: [("style", "rounded,filled,dashed"), ("fillcolor", "#ffe4e6"), ("color", "#be123c")]
        }
    }

    /// Graph outputs: green (unless a loss or an input), double border, square corners.
    static let outputAttributes: [(String, String)] = [("fillcolor", "#dcfce7"), ("color", "#15803d"), ("peripheries", "2")]
    static let tapAttributes: [(String, String)] = [("penwidth", "2.5")]
    static let highlightAttributes: [(String, String)] = [("color", highlightColor), ("fontcolor", highlightColor)]

    /// Label and attributes of a drawn item, standing for `members` (itself, or every node folded onto it).
    func itemAttributes(_ target: Target, standsFor members: [Int]) -> [(String, String)] {
        var label = [String]()
        let role: Role
        switch target {
        case let .node(index):
            let node = graph.nodes[index]
            role = switch node.op {
            case .input: .input
            case .parameter: .parameter
            case _ where node.isBackward: .backward
            case _ where node.op.isLoss: .loss
            case _ where node.op.isRandom: .random
            default: .op
            }
            var name = node.name
            if let scope = node.scope.last, name.hasPrefix(scope + "."), name.count > scope.count + 1 {
                name = String(name.dropFirst(scope.count + 1))
            }
            let summary = self.summary(node)
            label.append(name)
            if role != .input && role != .parameter && summary != name { label.append(summary) }
            if role == .parameter {
                label.append(node.outputs.map { graph[$0].type.description }.joined(separator: ", "))
            } else if node.outputs.count == 1 {
                label.append(graph[node.outputs[0]].type.description)
            } else {
                for (position, output) in node.outputs.enumerated() { label.append("\(position): \(graph[output].type)") }
            }
        case let .block(block):
            role = .block
            label.append(blocks[block].scope)
            // Counted over every node of the block, hidden parameters included.
            let all = blocks[block].members
            let parameters = all.filter { graph.nodes[$0].op.isParameter }.count
            let ops = all.count - parameters
            var counts = Self.plural(ops, "op")
            if parameters > 0 { counts += ", " + Self.plural(parameters, "parameter") }
            label.append(counts)
        case .hidden:
            return []
        }

        let made = Set(members.flatMap { graph.nodes[$0].outputs })
        let taps = graph.taps.filter { made.contains($0.value) }.map(\.name)
        let outputs = graph.outputs.filter { made.contains($0.value) }.map(\.name)
        if !taps.isEmpty { label.append((taps.count == 1 ? "tap " : "taps ") + Self.compactList(taps)) }
        if !outputs.isEmpty { label.append((outputs.count == 1 ? "output " : "outputs ") + Self.compactList(outputs)) }

        var attributes = [("label", label.joined(separator: "\n"))] + Self.roleAttributes(role)
        if !outputs.isEmpty {
            attributes += role == .op || role == .random ? Self.outputAttributes + [("style", "filled")] : [("peripheries", "2")]
        }
        if !taps.isEmpty { attributes += Self.tapAttributes }
        if members.contains(where: { options.highlight.contains(NodeID($0)) }) {
            let style = attributes.last { $0.0 == "style" }?.1 ?? "rounded,filled"
            attributes += Self.highlightAttributes + [("style", style + ",dashed")]
        }
        return Self.merged(attributes)
    }

    /// The op and its key attributes, compactly (`conv1d k10 s5`, `attention 12 heads`).
    func summary(_ node: Node) -> String {
        let op = node.op
        switch op {
        case .input, .parameter, .linear, .linearGroup, .activated, .unary, .binary, .softmax, .logSoftmax, .reshape,
             .maskedMeanPool, .maskPadding, .cosineSimilarity, .layerNorm, .addLayerNorm:
            return op.name
        case .kmeansAssign:
            let k = node.inputs.count > 1 ? graph[node.inputs[1]].type.shape.first?.description ?? "?" : "?"
            return "kmeans_assign K=\(k)"
        case let .matmul(transposeA, transposeB):
            return "matmul \(transposeA ? "a^T" : "a") \(transposeB ? "b^T" : "b")"
        case let .conv1d(stride, padding, groups):
            var text = "conv1d"
            if node.inputs.count > 1, let kernel = graph[node.inputs[1]].type.shape.last?.constantValue { text += " k\(kernel)" }
            text += " s\(stride)"
            if padding != 0 { text += " p\(padding)" }
            if groups != 1 { text += " g\(groups)" }
            return text
        case let .windowLengths(kernel, stride, padding):
            return "window_lengths k\(kernel) s\(stride)" + (padding != 0 ? " p\(padding)" : "")
        case let .groupNorm(groups, _): return "group_norm \(Self.plural(groups, "group"))"
        case .normalizedConv1d: return op.name
        case let .weightNorm(axis): return "weight_norm axis \(axis)"
        case let .scale(factor): return "scale \(Self.number(factor))"
        case let .constant(value): return "constant \(Self.number(value))"
        case let .reduce(_, axes, keepDims): return "\(op.name) \(axes)" + (keepDims ? " keep" : "")
        case let .transpose(permutation): return "transpose \(permutation)"
        case let .slice(axis, start, end): return "slice axis \(axis) [\(start):\(end)]"
        case let .concat(axis): return "concat axis \(axis)"
        case let .attention(heads): return "attention \(Self.plural(heads, "head"))"
        case let .lstm(hidden): return "lstm hidden \(hidden)"
        case let .dropout(probability): return "dropout p=\(Self.number(probability))"
        case .chain, .gradientChain: return op.name
        case let .layerDrop(probability): return "layer_drop p=\(Self.number(probability))"
        case let .timeMask(probability, spanLength, minimumSpans):
            return "time_mask p=\(Self.number(probability)) span=\(spanLength) min=\(minimumSpans)"
        case let .crossEntropy(ignoreIndex): return "cross_entropy" + (ignoreIndex != -100 ? " ignore=\(ignoreIndex)" : "")
        case let .amSoftmax(scale, margin): return "am_softmax s=\(Self.number(scale)) m=\(Self.number(margin))"
        case let .gradient(forward, wrt):
            let names = zip(forward.inputNames, wrt).filter(\.1).map { "d" + $0.0.replacingSuffix("?") }
            return "\(op.name) -> \(names.joined(separator: ", "))"
        }
    }

    // MARK: Legend

    mutating func emitLegend() {
        var entries: [(String, String, [(String, String)])] = [
            ("input", "graph input", Self.roleAttributes(.input)),
            ("parameter", "parameter", Self.roleAttributes(.parameter)),
            ("op", "op", []),
            ("random", "random op\n(dropout, time_mask)", Self.roleAttributes(.random)),
            ("loss", "loss", Self.roleAttributes(.loss)),
            ("output", "graph output", Self.outputAttributes + [("style", "filled")]),
            ("tap", "makes a tap", Self.tapAttributes),
        ]
        if options.collapse == .blocks { entries.append(("block", "block\n(collapsed)", Self.roleAttributes(.block))) }
        if graph.nodes.contains(where: \.isBackward) {
            entries.append(("backward", "backward\n(gradients)", Self.roleAttributes(.backward)))
        }
        if !options.highlight.isEmpty {
            entries.append(("highlight", "highlighted", Self.highlightAttributes + [("style", "rounded,filled,dashed")]))
        }
        lines.append("  subgraph cluster_legend {")
        for (key, value) in [("label", "legend"), ("style", "rounded,dashed"), ("color", "#9ca3af"), ("fontsize", "10")] {
            lines.append("    \(key)=\(Self.id(value));")
        }
        for (name, label, attributes) in entries {
            lines.append("    legend_\(name) [\(Self.attributes(Self.merged([("label", label)] + attributes)))];")
        }
        lines.append("    " + entries.map { "legend_\($0.0)" }.joined(separator: " -> ") + " [style=invis];")
        lines.append("  }")
    }

    // MARK: Text

    static func itemID(_ target: Target) -> String {
        switch target {
        case let .node(index): "n\(index)"
        case let .block(index): "b\(index)"
        case .hidden: "hidden"
        }
    }

    /// Later values replace earlier ones of the same key, in the earlier one's place.
    static func merged(_ attributes: [(String, String)]) -> [(String, String)] {
        var result = [(String, String)]()
        for (key, value) in attributes {
            if let index = result.firstIndex(where: { $0.0 == key }) { result[index].1 = value } else { result.append((key, value)) }
        }
        return result
    }

    static func attributes(_ attributes: [(String, String)]) -> String {
        attributes.map { "\($0.0)=\(id($0.1))" }.joined(separator: ", ")
    }

    /// A DOT id: bare when it is a plain identifier or number, otherwise a quoted string with `"` and `\`
    /// escaped and line breaks as `\n` (a centred line break in labels). Other control characters become spaces.
    static func id(_ text: String) -> String {
        if isPlain(text) { return text }
        var result = "\""
        var afterReturn = false
        for scalar in text.unicodeScalars {
            defer { afterReturn = scalar == "\r" }
            switch scalar {
            case "\\": result += "\\\\"
            case "\"": result += "\\\""
            case "\r": result += "\\n"
            case "\n": if !afterReturn { result += "\\n" }
            case _ where scalar.value < 0x20 || scalar.value == 0x7f: result += " "
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    static let keywords: Set<String> = ["node", "edge", "graph", "digraph", "subgraph", "strict"]

    static func isPlain(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first else { return false }
        func isLetter(_ scalar: Unicode.Scalar) -> Bool { ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || scalar == "_" }
        func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }
        if isLetter(first) {
            return text.unicodeScalars.allSatisfy { isLetter($0) || isDigit($0) } && !keywords.contains(text.lowercased())
        }
        let dots = text.unicodeScalars.filter { $0 == "." }.count
        return dots <= 1 && text != "." && text.unicodeScalars.allSatisfy { isDigit($0) || $0 == "." }
    }

    /// `hidden.0, hidden.1, hidden.2`; more than three as `hidden.0 ... hidden.11 (12)`.
    static func compactList(_ names: [String]) -> String {
        names.count <= 3 ? names.joined(separator: ", ") : "\(names[0]) ... \(names[names.count - 1]) (\(names.count))"
    }

    static func plural(_ count: Int, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }

    /// Shortest text that reads back as the same Float, without a trailing `.0` (as in the text form).
    static func number(_ value: Float) -> String {
        let text = "\(value)"
        return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
    }
}

/// Clusters by scope path, each with its items and child clusters in order of first appearance.
private struct ClusterTree {
    enum Entry { case item(DOTWriter.Target), cluster(Int) }

    struct Cluster {
        var scope: String
        /// The cluster's DOT name: the scope, made unique should one scope name appear under two parents.
        var uniqueName: String
        var entries: [Entry] = []
    }

    var clusters = [Cluster(scope: "", uniqueName: "")]
    private var clusterOfPath = [[String]: Int]()
    private var usedNames = Set<String>()

    mutating func add(_ target: DOTWriter.Target, path: [String]) {
        var cluster = 0
        for depth in path.indices {
            let prefix = Array(path[...depth])
            if let existing = clusterOfPath[prefix] {
                cluster = existing
                continue
            }
            var name = path[depth]
            var suffix = 2
            while usedNames.contains(name) {
                name = "\(path[depth]) (\(suffix))"
                suffix += 1
            }
            usedNames.insert(name)
            clusters.append(Cluster(scope: path[depth], uniqueName: name))
            clusterOfPath[prefix] = clusters.count - 1
            clusters[cluster].entries.append(.cluster(clusters.count - 1))
            cluster = clusters.count - 1
        }
        clusters[cluster].entries.append(.item(target))
    }
}

private extension Op {
    var isParameter: Bool { if case .parameter = self { true } else { false } }
}

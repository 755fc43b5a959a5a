import GraphIR

/// Simplification: ops that compute nothing are bypassed, duplicates merged, and what nobody reads removed.
///
/// - `dropout` with p = 0 is its input, and its gradient node is its incoming gradient (training graphs);
/// - `layer_drop` with p = 0 is its layer's output; its gradient node's gradient for the layer's output is the
///   incoming gradient, and the one for the skipped input is zeros, which the `add` that sums it into that input's
///   gradient adds to nothing: that `add` is bypassed too (when every reader of the zeros is such an `add`, else the
///   node stays);
/// - a `reshape` to the shape it already has is its input (its gradient, a reshape back, is bypassed the same way);
/// - in a graph without backward nodes, two nodes with the same op on the same inputs compute the same values
///   (common subexpressions), unless the op draws random numbers (each node has its own stream, keyed by its name)
///   or is an input or parameter. Training graphs keep their duplicates: a forward node and its gradient node are
///   paired through the forward output, and a merged forward node would serve two gradient nodes.
public enum Simplify {
    /// What one run of the pass did, for `--explain` and the tests.
    public struct Report: Equatable, Sendable {
        /// A node whose outputs are its input's (or incoming gradient's), and why.
        public struct Bypass: Equatable, Sendable {
            public var node: String
            public var reason: String
        }

        /// A duplicate node and the node its readers now read from.
        public struct Merge: Equatable, Sendable {
            public var node: String
            public var into: String
        }

        public var bypassed: [Bypass] = []
        public var merged: [Merge] = []
        /// How many nodes dead-code removal took out.
        public var removed = 0
    }

    /// The simplified graph and what was done.
    public static func run(_ graph: Graph) -> (graph: Graph, report: Report) {
        var report = Report()
        var replacements = [ValueID: ValueID]()
        let hasBackward = graph.nodes.contains(where: \.isBackward)
        var seen = [Signature: Node]()
        let alwaysKeeps = layerDropsThatAlwaysKeep(graph)
        var zeros = Set<ValueID>()
        for node in graph.nodes {
            switch node.op {
            case .layerDrop where alwaysKeeps.forward.contains(node.id):
                replacements[node.outputs[0]] = node.inputs[1]
                report.bypassed.append(.init(node: node.name, reason: "layer_drop with p = 0 (the layer is always kept)"))
            case let .gradient(of: .layerDrop, wrt) where alwaysKeeps.gradient.contains(node.id):
                // Inputs: skipped, layer output, y, dy; outputs: the flagged inputs' gradients.
                for (output, index) in zip(node.outputs, wrt.indices.filter { wrt[$0] }) {
                    if index == 1 { replacements[output] = node.inputs[3] } else { zeros.insert(output) }
                }
                report.bypassed.append(.init(node: node.name, reason: "gradient of layer_drop with p = 0"))
            case .binary(.add) where node.isBackward && node.inputs.contains(where: zeros.contains):
                replacements[node.outputs[0]] = zeros.contains(node.inputs[0]) ? node.inputs[1] : node.inputs[0]
                report.bypassed.append(.init(node: node.name, reason: "a sum with the zero gradient of a layer_drop with p = 0"))
            case let .dropout(probability) where probability == 0:
                replacements[node.outputs[0]] = node.inputs[0]
                report.bypassed.append(.init(node: node.name, reason: "dropout with p = 0"))
            case let .gradient(of: .dropout(probability), wrt) where probability == 0 && wrt == [true]:
                // Inputs: x, y, dy; output: dx = dy.
                replacements[node.outputs[0]] = node.inputs[2]
                report.bypassed.append(.init(node: node.name, reason: "gradient of dropout with p = 0"))
            case .reshape where graph[node.inputs[0]].type == graph[node.outputs[0]].type:
                replacements[node.outputs[0]] = node.inputs[0]
                report.bypassed.append(.init(node: node.name, reason: "reshape to the same shape"))
            default:
                guard !hasBackward, Self.isPure(node.op) else { continue }
                let signature = Signature(op: node.op, inputs: node.inputs.map { resolve($0, replacements) })
                if let first = seen[signature] {
                    for (duplicate, original) in zip(node.outputs, first.outputs) { replacements[duplicate] = original }
                    report.merged.append(.init(node: node.name, into: first.name))
                } else {
                    seen[signature] = node
                }
            }
        }
        let rewired = graph.replacingUses(replacements)
        let result = rewired.withoutDeadCode()
        report.removed = rewired.nodes.count - result.nodes.count
        return (result, report)
    }

    /// The `layer_drop` nodes with p = 0 that can be bypassed, and their gradient nodes: those whose zero gradient
    /// (for the skipped input) is read only by backward `add`s whose other operand is no such zero, and is no
    /// output or tap.
    private static func layerDropsThatAlwaysKeep(_ graph: Graph) -> (forward: Set<NodeID>, gradient: Set<NodeID>) {
        let readers = graph.users()
        let named = Set((graph.outputs + graph.taps).map(\.value))
        var zeroOf = [ValueID: NodeID]()
        var gradientOf = [NodeID: NodeID]()
        for node in graph.nodes {
            guard case let .gradient(of: .layerDrop(probability), wrt) = node.op, probability == 0, wrt.count == 2,
                  node.inputs.count == 4 else { continue }
            let forward = graph[node.inputs[2]].producer
            gradientOf[forward] = node.id
            if wrt[0] { zeroOf[node.outputs[0]] = forward }
        }
        var blocked = Set<NodeID>()
        for (zero, forward) in zeroOf {
            let sums = readers[zero] ?? []
            let removable = !named.contains(zero) && sums.allSatisfy { id in
                let sum = graph[id]
                guard sum.isBackward, case .binary(.add) = sum.op, sum.inputs.count == 2, sum.inputs[0] != sum.inputs[1],
                      graph[sum.inputs[0]].type == graph[sum.inputs[1]].type else { return false }
                return sum.inputs.filter { zeroOf[$0] != nil }.count == 1
            }
            if !removable { blocked.insert(forward) }
        }
        var forward = Set<NodeID>(), gradient = Set<NodeID>()
        for node in graph.nodes {
            guard case let .layerDrop(probability) = node.op, probability == 0, !blocked.contains(node.id) else { continue }
            forward.insert(node.id)
            if let id = gradientOf[node.id] { gradient.insert(id) }
        }
        return (forward, gradient)
    }

    /// A node's op and (rewired) inputs: equal signatures compute equal values for pure ops.
    private struct Signature: Hashable {
        var op: Op
        var inputs: [ValueID]
    }

    private static func resolve(_ value: ValueID, _ replacements: [ValueID: ValueID]) -> ValueID {
        var current = value
        while let next = replacements[current], next != current { current = next }
        return current
    }

    /// Ops whose outputs are a function of their inputs alone (no random stream, not a graph input or parameter).
    static func isPure(_ op: Op) -> Bool {
        switch op {
        case .input, .parameter, .dropout, .layerDrop, .timeMask: false
        case let .gradient(of: forward, _): isPure(forward)
        default: true
        }
    }
}

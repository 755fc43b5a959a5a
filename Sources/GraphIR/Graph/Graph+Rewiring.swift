/// Rewiring: readers of some values read others instead. The public rewriting primitive the compiler's passes
/// build on (a bypassed op, a merged duplicate); `subgraph(computing:)` then removes what nobody reads.
extension Graph {
    /// The graph in which every reader of a key of `replacements` (node inputs, outputs, taps) reads its value
    /// instead, chains followed (with a -> b and b -> c, readers of a read c). A replacement must have the same type
    /// as the value it replaces (`verify()` checks it). Nodes whose outputs nobody reads any more stay in the graph.
    public func replacingUses(_ replacements: [ValueID: ValueID]) -> Graph {
        guard !replacements.isEmpty else { return self }
        func resolved(_ value: ValueID) -> ValueID {
            var current = value
            var steps = 0
            while let next = replacements[current], next != current, steps <= replacements.count {
                current = next
                steps += 1
            }
            return current
        }
        var rewired = self
        for index in rewired.nodes.indices {
            rewired.nodes[index].inputs = rewired.nodes[index].inputs.map(resolved)
        }
        rewired.outputs = outputs.map { NamedValue($0.name, resolved($0.value), at: $0.location) }
        rewired.taps = taps.map { NamedValue($0.name, resolved($0.value), at: $0.location) }
        return rewired
    }

    /// The graph in which node `id` applies `op` to `inputs` and is named `name`, computing the same outputs (same
    /// types: `verify()` checks): the primitive of fusion, where the last node of a group takes over the group's
    /// work and the others become dead code. `inputs` must be made by earlier nodes; `members` names the nodes the
    /// new one computes; `randomStream`, when given, the stream the new node draws (a random member's).
    public func replacingNode(
        _ id: NodeID, op: Op, inputs: [ValueID], name: String, members: [String], randomStream: String? = nil
    ) -> Graph {
        var rewired = self
        rewired.nodes[id.index].op = op
        rewired.nodes[id.index].inputs = inputs
        rewired.nodes[id.index].name = name
        rewired.nodes[id.index].members = members
        if let randomStream { rewired.nodes[id.index].randomStream = randomStream }
        return rewired
    }

    /// The graph with a new node that applies `op` to `inputs`, placed right before node `position` (nodes from
    /// there on are renumbered; value ids stay), and the new node's outputs. The output types come from the op's
    /// shape rule; `inputs` must be made by nodes before `position`. The primitive of rematerialisation, where a
    /// value is computed again right before the backward pass reads it, and of fusions that merge sibling nodes into
    /// one with several outputs (`members` names them). Nil when the shape rule rejects the inputs.
    public func insertingNode(
        _ op: Op, inputs: [ValueID], name: String, before position: NodeID, scope: [String] = [],
        location: SourceLocation? = nil, isBackward: Bool, randomStream: String? = nil, members: [String] = []
    ) -> (graph: Graph, outputs: [ValueID])? {
        guard case let .success(types) = op.outputTypes(inputs.map { self[$0].type }) else { return nil }
        var result = self
        let at = position.index
        let outputs = types.indices.map { ValueID(values.count + $0) }
        for (index, type) in types.enumerated() {
            result.values.append(Value(id: outputs[index], type: type, producer: position, outputIndex: index))
        }
        let node = Node(id: position, op: op, inputs: inputs, outputs: outputs, name: name, scope: scope,
                        location: location, isBackward: isBackward, members: members, randomStream: randomStream)
        result.nodes.insert(node, at: at)
        for index in (at + 1)..<result.nodes.count {
            let moved = result.nodes[index]
            result.nodes[index] = moved.renumbered(NodeID(index), inputs: moved.inputs, outputs: moved.outputs)
            for output in moved.outputs { result.values[output.index].producer = NodeID(index) }
        }
        return (result, outputs)
    }

    /// The graph without the nodes that no output or tap needs (dead code), renumbered in order.
    public func withoutDeadCode() -> Graph { subgraph(computing: (outputs + taps).map(\.value)) }
}

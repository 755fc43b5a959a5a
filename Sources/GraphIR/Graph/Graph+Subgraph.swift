/// Dead-code removal: the part of a graph that some values need.
extension Graph {
    /// The nodes that `values` depend on (and nothing else), renumbered in their original order, with the outputs
    /// and taps whose values are kept. `gmptl dot --stage` draws what one stage runs with it.
    public func subgraph(computing values: [ValueID]) -> Graph {
        var needed = Set<NodeID>()
        var pending = values.filter { $0.index >= 0 && $0.index < self.values.count }.map { self[$0].producer }
        while let node = pending.popLast() {
            guard needed.insert(node).inserted else { continue }
            pending += self[node].inputs.map { self[$0].producer }
        }
        var result = Graph(name: name)
        var mapping = [ValueID: ValueID]()
        for node in nodes where needed.contains(node.id) {
            let id = NodeID(result.nodes.count)
            var outputs = [ValueID]()
            for old in node.outputs {
                let new = ValueID(result.values.count)
                result.values.append(Value(id: new, type: self[old].type, producer: id, outputIndex: outputs.count))
                mapping[old] = new
                outputs.append(new)
            }
            result.nodes.append(node.renumbered(id, inputs: node.inputs.compactMap { mapping[$0] }, outputs: outputs))
        }
        result.outputs = outputs.compactMap { named in mapping[named.value].map { NamedValue(named.name, $0, at: named.location) } }
        result.taps = taps.compactMap { named in mapping[named.value].map { NamedValue(named.name, $0, at: named.location) } }
        return result
    }
}

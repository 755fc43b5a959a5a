/// The inference form of a graph: training-time randomness removed.
extension Graph {
    /// The graph with dropout, LayerDrop and time masking bypassed (their users read their input instead) and what only they
    /// needed removed: the learned mask embedding, for one, is not a parameter of the inference form, so a
    /// checkpoint saved without it (HF omits it when masking is off) still runs.
    public func inferenceForm() -> Graph {
        var replacement = [ValueID: ValueID]()
        func resolved(_ value: ValueID) -> ValueID {
            var current = value
            while let next = replacement[current] { current = next }
            return current
        }
        for node in nodes {
            switch node.op {
            case .dropout, .timeMask:
                if let output = node.outputs.first, let input = node.inputs.first { replacement[output] = resolved(input) }
            case .layerDrop:
                if let output = node.outputs.first, node.inputs.count == 2 { replacement[output] = resolved(node.inputs[1]) }
            default: break
            }
        }
        var rewired = self
        for index in rewired.nodes.indices {
            rewired.nodes[index].inputs = rewired.nodes[index].inputs.map(resolved)
        }
        rewired.outputs = outputs.map { NamedValue($0.name, resolved($0.value), at: $0.location) }
        rewired.taps = taps.map { NamedValue($0.name, resolved($0.value), at: $0.location) }
        return rewired.subgraph(computing: (rewired.outputs + rewired.taps).map(\.value))
    }
}

import GraphIR

/// The inference form of a graph: training-time randomness removed.
extension Graph {
    /// The graph with dropout, LayerDrop and time masking bypassed (their users read their input instead) and what
    /// only they needed removed: the learned mask embedding, for one, is not a parameter of the inference form, so a
    /// checkpoint saved without it (HF omits it when masking is off) still runs.
    public func inferenceForm() -> Graph {
        var replacements = [ValueID: ValueID]()
        for node in nodes {
            switch node.op {
            case .dropout, .timeMask:
                if let output = node.outputs.first, let input = node.inputs.first { replacements[output] = input }
            case .layerDrop:
                if let output = node.outputs.first, node.inputs.count == 2 { replacements[output] = node.inputs[1] }
            default: break
            }
        }
        return replacingUses(replacements).withoutDeadCode()
    }
}

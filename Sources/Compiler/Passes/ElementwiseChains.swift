import GraphIR

/// Elementwise chains: single-input pointwise ops (activations, `scale`, `dropout`) that feed one another become one
/// `chain` node, one pass over memory block by block instead of one pass per op (`PointwiseChain` in Kernels),
/// each element getting the ops' own operations: the same bits.
///
/// A link joins a producer to a reader when the producer's output is read by that reader alone and is not a graph
/// output or tap, both are on the same side of the step (forward or backward), and the chain draws at most one
/// random stream (the chain node draws its dropout member's, so the mask is the same). Runs after
/// rematerialisation, so the GELU -> dropout pairs recomputed for the backward pass chain; in the forward pass of a
/// training step the same pair stays apart: GELU's gradient node is paired with the GELU through its output. Every
/// link considered gets a decision and its reason, reported with fusion's (`--explain-fusion`).
public enum ElementwiseChains {
    /// Whether `op` can be a member: single input, one output, the elementwise category.
    public static func isChainable(_ op: Op) -> Bool {
        switch op {
        case .unary, .scale, .dropout: true
        default: false
        }
    }

    /// The graph with chains fused, and a decision per link considered.
    public static func run(_ graph: Graph) -> (graph: Graph, decisions: [Fusion.Decision]) {
        let readers = graph.users()
        let named = Set((graph.outputs + graph.taps).map(\.value))
        var decisions = [Fusion.Decision]()
        var chains = [[Node]]()
        var member = Set<NodeID>()
        for start in graph.nodes where isChainable(start.op) && !member.contains(start.id) {
            var chain = [start]
            while let last = chain.last {
                let value = last.outputs[0]
                let next = (readers[value] ?? []).map { graph[$0] }.filter { isChainable($0.op) && $0.inputs.first == value }
                guard let reader = next.first else { break }
                var decision = Fusion.Decision(
                    producer: last.name, consumer: reader.name, pattern: "\(last.op.name) -> \(reader.op.name)", fused: true,
                    reason: "one pass over memory: each block of \(last.op.name)'s output goes through the \(reader.op.name) "
                        + "while it is in L1, one write and one read of the intermediate fewer")
                let others = (readers[value] ?? []).filter { $0 != reader.id }.map { graph[$0] }
                if named.contains(value) {
                    (decision.fused, decision.reason) = (false, "the intermediate is a graph output or tap")
                } else if let paired = others.first(where: { pairs($0, with: value) }) {
                    (decision.fused, decision.reason) = (false, "the \(last.op.name)'s gradient node is paired with it through "
                        + "its output, which a chain does not make")
                    decision.otherReaders = [paired.name]
                } else if !others.isEmpty {
                    (decision.fused, decision.reason) = (false, "the intermediate is also read by other nodes")
                    decision.otherReaders = others.map(\.name)
                } else if reader.isBackward != last.isBackward {
                    (decision.fused, decision.reason) = (false, "one is in the forward pass and the other in the backward pass")
                } else if reader.op.isRandom, chain.contains(where: { $0.op.isRandom }) {
                    (decision.fused, decision.reason) = (false, "a chain draws one random stream, and both ops draw their own")
                }
                decisions.append(decision)
                guard decision.fused else { break }
                chain.append(reader)
            }
            for node in chain { member.insert(node.id) }
            if chain.count > 1 { chains.append(chain) }
        }
        guard !chains.isEmpty else { return (graph, decisions) }
        var fused = graph
        for chain in chains {
            guard let first = chain.first, let last = chain.last else { continue }
            let name = ([first.name] + chain.dropFirst().map(\.op.name)).joined(separator: "+")
            fused = fused.replacingNode(last.id, op: .chain(chain.map(\.op)), inputs: [first.inputs[0]], name: name,
                                        members: chain.map(\.name), randomStream: chain.first(where: { $0.op.isRandom })?.streamName)
        }
        return (fused.withoutDeadCode(), decisions)
    }

    /// Whether `node` is a gradient node that receives `value` as its forward output `y` (the pairing of a gradient
    /// node with its forward node).
    static func pairs(_ node: Node, with value: ValueID) -> Bool {
        guard case let .gradient(_, wrt) = node.op, wrt.count < node.inputs.count else { return false }
        return node.inputs[wrt.count] == value
    }
}

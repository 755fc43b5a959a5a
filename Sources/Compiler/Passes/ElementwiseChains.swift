import GraphIR

/// Elementwise chains: single-input pointwise ops (activations, `scale`, `dropout`) that feed one another become one
/// `chain` node, one pass over memory block by block instead of one pass per op (`PointwiseChain` in Kernels),
/// each element getting the ops' own operations: the same bits.
///
/// A link joins a producer to a reader when the producer's output is read by that reader alone and is not a graph
/// output or tap, both are on the same side of the step (forward or backward), and the chain draws at most one
/// random stream (the chain node draws its dropout member's, so the mask is the same). Runs after
/// rematerialisation, so the GELU -> dropout pairs recomputed for the backward pass chain; in the forward pass of a
/// training step the same pair stays apart: GELU's gradient node is paired with the GELU through its output. In
/// the backward pass, the gradient nodes of such ops chain the same way (`gradient_chain`: `dropout_grad` then
/// `gelu_grad`, reading each member's forward input and output as its gradient rule needs). Every link considered
/// gets a decision and its reason, reported with fusion's (`--explain-fusion`).
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
        let chains = grow(.forward, graph, readers: readers, named: named, decisions: &decisions)
        let gradientChains = grow(.gradient, graph, readers: readers, named: named, decisions: &decisions)
        guard !chains.isEmpty || !gradientChains.isEmpty else { return (graph, decisions) }
        var fused = graph
        for chain in chains {
            guard let first = chain.first, let last = chain.last else { continue }
            let name = ([first.name] + chain.dropFirst().map(\.op.name)).joined(separator: "+")
            fused = fused.replacingNode(last.id, op: .chain(chain.map(\.op)), inputs: [first.inputs[0]], name: name,
                                        members: chain.map(\.name), randomStream: chain.first(where: { $0.op.isRandom })?.streamName)
        }
        for chain in gradientChains {
            guard let first = chain.first, let last = chain.last else { continue }
            let forward = chain.compactMap(forwardOp)
            // A dropout member's mask is its forward node's stream (the forward node: the producer of its y).
            let stream = chain.first { forwardOp($0)?.isRandom == true }.map { graph.producer(of: $0.inputs[1]).streamName }
            fused = fused.replacingNode(
                last.id, op: .gradientChain(forward), inputs: chain.flatMap { [$0.inputs[0], $0.inputs[1]] } + [first.inputs[2]],
                name: ([first.name] + chain.dropFirst().map(\.op.name)).joined(separator: "+"), members: chain.map(\.name),
                randomStream: stream)
        }
        return (fused.withoutDeadCode(), decisions)
    }

    /// Which chains `grow` makes: of forward pointwise ops (the link: the reader's input), or of their gradient
    /// nodes (the link: the reader's incoming gradient).
    enum Kind {
        case forward, gradient

        func isMember(_ node: Node) -> Bool { self == .forward ? isChainable(node.op) : forwardOp(node) != nil }
        func link(_ node: Node) -> ValueID? { self == .forward ? node.inputs.first : node.inputs.last }
        func isRandom(_ node: Node) -> Bool { self == .forward ? node.op.isRandom : forwardOp(node)?.isRandom == true }
        var intermediate: String { self == .forward ? "the intermediate" : "the intermediate gradient" }
    }

    /// The chains of `kind` in `graph`, longest first from each start, with a decision per link considered.
    static func grow(
        _ kind: Kind, _ graph: Graph, readers: [ValueID: [NodeID]], named: Set<ValueID>, decisions: inout [Fusion.Decision]
    ) -> [[Node]] {
        var chains = [[Node]]()
        var member = Set<NodeID>()
        for start in graph.nodes where kind.isMember(start) && !member.contains(start.id) {
            var chain = [start]
            while let last = chain.last {
                let value = last.outputs[0]
                let next = (readers[value] ?? []).map { graph[$0] }.filter { kind.isMember($0) && kind.link($0) == value }
                guard let reader = next.first else { break }
                var decision = Fusion.Decision(
                    producer: last.name, consumer: reader.name, pattern: "\(last.op.name) -> \(reader.op.name)", fused: true,
                    reason: kind == .forward
                        ? "one pass over memory: each block of \(last.op.name)'s output goes through the \(reader.op.name) "
                            + "while it is in L1, one write and one read of the intermediate fewer"
                        : "one pass over memory: each block of the incoming gradient goes through both gradients while "
                            + "it is in L1, one write and one read of the intermediate gradient fewer")
                let others = (readers[value] ?? []).filter { $0 != reader.id }.map { graph[$0] }
                if named.contains(value) {
                    (decision.fused, decision.reason) = (false, "\(kind.intermediate) is a graph output or tap")
                } else if let paired = others.first(where: { pairs($0, with: value) }) {
                    (decision.fused, decision.reason) = (false, "the \(last.op.name)'s gradient node is paired with it through "
                        + "its output, which a chain does not make")
                    decision.otherReaders = [paired.name]
                } else if !others.isEmpty {
                    (decision.fused, decision.reason) = (false, "\(kind.intermediate) is also read by other nodes")
                    decision.otherReaders = others.map(\.name)
                } else if reader.isBackward != last.isBackward {
                    (decision.fused, decision.reason) = (false, "one is in the forward pass and the other in the backward pass")
                } else if kind.isRandom(reader), chain.contains(where: kind.isRandom) {
                    (decision.fused, decision.reason) = (false, "a chain draws one random stream, and both draw their own")
                }
                decisions.append(decision)
                guard decision.fused else { break }
                chain.append(reader)
            }
            for node in chain { member.insert(node.id) }
            if chain.count > 1 { chains.append(chain) }
        }
        return chains
    }

    /// The forward op of a gradient node of a chainable op with one input (inputs x, y, dy), else nil.
    static func forwardOp(_ node: Node) -> Op? {
        guard case let .gradient(forward, wrt) = node.op, isChainable(forward), wrt == [true], node.inputs.count == 3 else { return nil }
        return forward
    }

    /// Whether `node` is a gradient node that receives `value` as its forward output `y` (the pairing of a gradient
    /// node with its forward node).
    static func pairs(_ node: Node, with value: ValueID) -> Bool {
        guard case let .gradient(_, wrt) = node.op, wrt.count < node.inputs.count else { return false }
        return node.inputs[wrt.count] == value
    }
}

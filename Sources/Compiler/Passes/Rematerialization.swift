import GraphIR

/// Rematerialisation: in a training graph, a cheap forward value that the backward pass reads is computed again
/// right before its first backward reader, instead of being kept from the forward pass to the backward pass.
///
/// Candidates are the outputs of pointwise activations (GELU, ReLU, tanh, sigmoid), layer norms and dropouts: one
/// pass over memory each. A candidate is recomputed when
/// - its elements are read by a backward node (a linear layer's weight gradient reads its input), and it is not
///   fetched (an output or tap the caller keeps);
/// - every input it is made from stays alive until that reader anyway (a parameter, a graph input, or a value a
///   later backward node reads: the layer norm's gradient reads the norm's input, GELU's gradient the
///   pre-activation). Then the recomputed value lives inside the original's old lifetime, so no point of the
///   schedule holds more than before, and every point between the forward use and the backward use holds less:
///   for HuBERT base at batch 8, 12 layers x (18.7 MiB of GELU output + 2 x 4.7 MiB of layer-norm output);
/// - its inputs are not recomputed values themselves (no chains: one recomputation per backward read), with one
///   exception: a dropout whose input is a cheap op's output that nothing in the backward pass reads (the
///   recipe's GELU -> dropout in each feed-forward block, layer norm -> dropout at the encoder's input) is made
///   again from that op's inputs, the op first, when those stay alive.
///
/// A recomputed dropout draws its original's random stream (`Node.randomStream`): the same mask, bit for bit.
/// The recomputed node runs the forward kernel (bitwise the same values) and saves nothing for a gradient node.
/// The original's gradient node still receives the original as its `y` (for pairing and shapes; GELU's and the
/// norm's gradients read their input, not `y`). Runs after simplification, whose merging of equal nodes would undo
/// it. Every candidate gets a decision and its reason, like fusion's.
public enum Rematerialization {
    /// One candidate value and what was decided.
    public struct Decision: Equatable, Sendable {
        /// The node whose output is the candidate.
        public var node: String
        /// The backward nodes that read it.
        public var readers: [String]
        public var recomputed: Bool
        public var reason: String
    }

    /// What one run of the pass decided, in graph order.
    public struct Report: Equatable, Sendable {
        public var decisions: [Decision] = []
        public var recomputedCount: Int { decisions.filter(\.recomputed).count }
    }

    /// The suffix of a recomputing node's name (`layers.3.ff_act.recomputed`).
    public static let suffix = ".recomputed"

    /// The graph with recomputations, when `fetched` (output and tap names) is what the caller keeps.
    public static func run(_ graph: Graph, fetched: Set<String>) -> (graph: Graph, report: Report) {
        var report = Report()
        guard graph.nodes.contains(where: \.isBackward) else { return (graph, report) }
        let named = Set((graph.outputs + graph.taps).filter { fetched.contains($0.name) }.map(\.value))
        // The last node that reads each value's elements.
        var lastRead = [Int](repeating: -1, count: graph.values.count)
        // The backward nodes that read each value's elements, in order.
        var backwardReaders = [ValueID: [NodeID]]()
        for node in graph.nodes {
            let reads = node.op.readsElements(inputCount: node.inputs.count)
            for (input, read) in zip(node.inputs, reads) where read {
                lastRead[input.index] = node.id.index
                if node.isBackward, backwardReaders[input]?.last != node.id { backwardReaders[input, default: []].append(node.id) }
            }
        }
        // Each rewrite: the nodes to copy, in order (a dropout's cheap producer first), and the backward readers.
        var rewrites = [(chain: [Node], readers: [NodeID])]()
        var recomputed = Set<ValueID>()
        for node in graph.nodes where !node.isBackward && isCandidate(node.op) {
            let value = node.outputs[0]
            guard let readers = backwardReaders[value], let first = readers.first else { continue }
            func alive(_ input: ValueID) -> Bool { isAlwaysAlive(input, graph) || lastRead[input.index] >= first.index }
            let decision: (Bool, String)
            if named.contains(value) {
                decision = (false, "the value is fetched: it is kept anyway")
            } else if readers.contains(where: { readsAsForwardOutput(graph[$0], value) }) {
                decision = (false, "its gradient reads the output itself (as tanh's and sigmoid's do): it is kept anyway")
            } else if let input = node.inputs.first(where: { recomputed.contains($0) }) {
                decision = (false, "its input '\(graph.producer(of: input).name)' is recomputed itself (no chains)")
            } else if let input = node.inputs.first(where: { !alive($0) }) {
                let producer = graph.producer(of: input)
                if case .dropout = node.op, !named.contains(input), backwardReaders[input] == nil, isCandidate(producer.op),
                   !isRandom(producer.op), producer.inputs.allSatisfy({ alive($0) && !recomputed.contains($0) }) {
                    decision = (true, "its input '\(producer.name)' is made again first from inputs that stay alive, then "
                        + "the dropout draws its own stream again: two passes instead of keeping the output")
                    recomputed.insert(value)
                    rewrites.append(([producer, node], readers))
                } else {
                    decision = (false, "its input '\(producer.name)' is not kept for the backward pass: "
                        + "recomputing would keep that instead")
                }
            } else {
                decision = (true, "its inputs stay alive for the backward pass: one \(node.op.name) pass again instead of "
                    + "keeping the output from the forward to the backward pass")
                recomputed.insert(value)
                rewrites.append(([node], readers))
            }
            report.decisions.append(Decision(node: node.name, readers: readers.map { graph[$0].name },
                                             recomputed: decision.0, reason: decision.1))
        }
        // Insert from the last position back, so that the positions still to come stay valid; then rewire the
        // readers (found by name: insertions moved them).
        var result = graph
        var replacements = [(original: ValueID, recomputed: ValueID, readers: [String])]()
        for (chain, readers) in rewrites.sorted(by: { $0.readers[0] > $1.readers[0] }) {
            var position = readers[0]
            var copies = [ValueID: ValueID]()
            for node in chain {
                guard let (inserted, outputs) = result.insertingNode(
                    node.op, inputs: node.inputs.map { copies[$0] ?? $0 }, name: node.name + suffix, before: position,
                    scope: node.scope, location: node.location, isBackward: true,
                    randomStream: isRandom(node.op) ? node.streamName : nil)
                else { break }
                result = inserted
                copies[node.outputs[0]] = outputs[0]
                position = NodeID(position.index + 1)
            }
            guard let last = chain.last, let copy = copies[last.outputs[0]] else { continue }
            replacements.append((last.outputs[0], copy, readers.map { graph[$0].name }))
        }
        let position = Dictionary(uniqueKeysWithValues: result.nodes.map { ($0.name, $0.id) })
        for (original, recomputedValue, readers) in replacements {
            for name in readers {
                guard let id = position[name] else { continue }
                let reader = result[id]
                let reads = reader.op.readsElements(inputCount: reader.inputs.count)
                let inputs = zip(reader.inputs, reads).map { input, read in read && input == original ? recomputedValue : input }
                result = result.replacingNode(id, op: reader.op, inputs: inputs, name: reader.name, members: reader.members)
            }
        }
        // Renumbered in node order (the inserted values were numbered last).
        return (result.withoutDeadCode(), report)
    }

    /// Ops cheap enough to run twice: one pass over memory (a dropout draws its stream again, under its own name).
    static func isCandidate(_ op: Op) -> Bool {
        switch op {
        case .unary, .layerNorm, .dropout: true
        default: false
        }
    }

    /// Ops that draw random numbers: their copies draw the original's stream (`Node.randomStream`).
    static func isRandom(_ op: Op) -> Bool {
        if case .dropout = op { true } else { false }
    }

    /// Whether `node` is a gradient node that reads `value` as its forward output `y`.
    private static func readsAsForwardOutput(_ node: Node, _ value: ValueID) -> Bool {
        guard case let .gradient(_, wrt) = node.op, wrt.count < node.inputs.count, node.inputs[wrt.count] == value else { return false }
        return node.op.readsElements(inputCount: node.inputs.count)[wrt.count]
    }

    /// Parameters and graph inputs: the caller's tensors, alive for the whole step.
    private static func isAlwaysAlive(_ value: ValueID, _ graph: Graph) -> Bool {
        switch graph.producer(of: value).op {
        case .parameter, .input: true
        default: false
        }
    }
}

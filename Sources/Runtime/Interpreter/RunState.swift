import GraphIR
import Kernels

/// What one run of a program keeps between nodes besides values: the tensors forward nodes save for their gradient
/// nodes (layer-norm statistics, attention probabilities, the LSTM's gates, time masks), and the random streams.
final class RunState {
    let mode: RunMode
    /// Forward nodes whose gradient node is in the program.
    let savers: Set<NodeID>
    /// The forward node of each gradient node of the program (the producer of its `y` input), from the program
    /// itself: the interpreter's full graph numbers nodes differently.
    private let forwardNodes: [NodeID: Node]
    private var saved: [NodeID: [HostTensor]] = [:]

    init(mode: RunMode, program: Graph) {
        self.mode = mode
        var forwardNodes = [NodeID: Node]()
        for node in program.nodes {
            if case let .gradient(_, wrt) = node.op { forwardNodes[node.id] = program.producer(of: node.inputs[wrt.count]) }
        }
        self.forwardNodes = forwardNodes
        savers = Set(forwardNodes.values.map(\.id))
    }

    /// The forward node a gradient node differentiates.
    func forwardNode(of gradient: Node) throws(RunError) -> Node {
        guard let node = forwardNodes[gradient.id] else { throw RunError("internal: '\(gradient.name)' is not a gradient node of this run") }
        return node
    }

    /// Keeps `tensors` for `node`'s gradient node, when it has one in this run.
    func save(_ tensors: [HostTensor], for node: Node) {
        if savers.contains(node.id) { saved[node.id] = tensors }
    }

    /// What `node` saved, handed over (and released from here) to its gradient node.
    func takeSaved(of node: Node) throws(RunError) -> [HostTensor] {
        guard let tensors = saved.removeValue(forKey: node.id) else {
            throw RunError("internal: the gradient of '\(node.name)' runs without what its forward node saved")
        }
        return tensors
    }

    /// The random stream of `node` in this run: a function of (seed, step, node name), so the same node draws the
    /// same numbers in its forward and gradient nodes, whatever the thread count or the graph's other nodes.
    func stream(for node: Node) -> Philox {
        guard case let .training(seed, step) = mode else { return Philox(seed: 0) }
        return Philox(seed: seed, step: step, node: Philox.key(node.name))
    }

    /// Whether a LayerDrop node skips its layer in this run: one draw per (seed, step, node).
    func skipsLayer(_ node: Node, probability: Float) -> Bool {
        stream(for: node).uniform(at: 0) < probability
    }
}

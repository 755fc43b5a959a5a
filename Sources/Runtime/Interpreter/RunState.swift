import Compiler
import GraphIR
import Kernels

/// What one run of a program keeps between nodes besides values: the tensors forward nodes save for their gradient
/// nodes (layer-norm statistics, attention probabilities, the LSTM's gates, time masks), and the random streams.
final class RunState {
    let mode: RunMode
    /// The program and its pairing of gradient nodes with forward nodes, from the compiled plan.
    private let plan: ExecutionPlan
    private var saved: [NodeID: [HostTensor]] = [:]

    init(mode: RunMode, plan: ExecutionPlan) {
        self.mode = mode
        self.plan = plan
    }

    /// The forward node a gradient node differentiates.
    func forwardNode(of gradient: Node) throws(RunError) -> Node {
        guard gradient.id.index < plan.forwardNode.count, let forward = plan.forwardNode[gradient.id.index] else {
            throw RunError("internal: '\(gradient.name)' is not a gradient node of this run")
        }
        return plan.program[forward]
    }

    /// Whether input `position` of `node` is a parameter or the result of a node that reads parameters only (a
    /// cached constant in inference).
    func readsConstant(_ node: Node, input position: Int) -> Bool {
        guard position < node.inputs.count else { return false }
        let producer = plan.program.producer(of: node.inputs[position])
        if case .parameter = producer.op { return true }
        return plan.readsParametersOnly[producer.id.index]
    }

    /// Keeps `tensors` for `node`'s gradient node, when it has one in this run.
    func save(_ tensors: [HostTensor], for node: Node) {
        if plan.savesForGradient[node.id.index] { saved[node.id] = tensors }
    }

    /// What `node` saved, handed over (and released from here) to its gradient node.
    func takeSaved(of node: Node) throws(RunError) -> [HostTensor] {
        guard let tensors = saved.removeValue(forKey: node.id) else {
            throw RunError("internal: the gradient of '\(node.name)' runs without what its forward node saved")
        }
        return tensors
    }

    /// The random stream of `node` in this run: a function of (seed, step, node name; a recomputed copy uses its
    /// original's name: `Node.streamName`), so the same node draws the
    /// same numbers in its forward and gradient nodes, whatever the thread count or the graph's other nodes.
    func stream(for node: Node) -> Philox {
        guard case let .training(seed, step, _) = mode else { return Philox(seed: 0) }
        return Philox(seed: seed, step: step, node: Philox.key(node.streamName))
    }

    /// The batch's first row in the whole batch (data-parallel training; 0 otherwise).
    var firstRow: Int {
        guard case let .training(_, _, firstRow) = mode else { return 0 }
        return firstRow
    }

    /// The stream element of a tensor's first element: its rows follow the whole batch's earlier rows, whose size
    /// is this tensor's (`count / rows`).
    func elementOffset(rows: Int, count: Int) -> Int {
        rows > 0 ? firstRow * (count / rows) : 0
    }

    /// Whether a LayerDrop node skips its layer in this run: one draw per (seed, step, node).
    func skipsLayer(_ node: Node, probability: Float) -> Bool {
        stream(for: node).uniform(at: 0) < probability
    }
}

import GraphIR

/// Which nodes of a program run, when a training step drops layers (`layer_drop`): a dropped layer's output is its
/// input, so the layer's own nodes are not needed, and the gradients that would flow back through it are zeros, so
/// their backward nodes are not needed either. Without dropped layers every node runs and every value is itself.
///
/// Each value is itself, another value (`alias`: the same tensor) or zeros of its type. Zeros start at the layer's
/// share of the gradient of a `layer_drop` node and spread through the backward pass, whose nodes are linear in the
/// gradient they receive: a fused gradient node whose incoming gradient is zero, and a matmul, transpose, reshape,
/// scale or mask of a zero gradient, make zeros; a sum with zeros is its other term. A node runs when a fetched value
/// needs one of its outputs that is itself. Made per training step (the draws decide), from the step's `ExecutionPlan`.
public struct LayerDropPlan: Sendable {
    public enum Source: Equatable, Sendable {
        case value(ValueID)
        case zeros
    }

    /// Whether node `i` of the program runs.
    public private(set) var runs: [Bool]
    private var sources: [ValueID: Source] = [:]
    /// The indices of the `layer_drop` nodes that drop their layer in this step (what makes its plan differ).
    public private(set) var dropped: [Int] = []

    /// The plan for fetching `wanted` from `program`; `skips` says whether a `layer_drop` node drops its layer.
    public init(program: Graph, wanted: [ValueID], skips: (Node, Float) -> Bool) {
        runs = [Bool](repeating: true, count: program.nodes.count)
        dropped = program.nodes.indices.filter { index in
            if case let .layerDrop(probability) = program.nodes[index].op { skips(program.nodes[index], probability) } else { false }
        }
        // No layer dropped (inference, or a step whose draws keep every layer): every node runs.
        guard !dropped.isEmpty else { return }
        for node in program.nodes {
            let inputs = node.inputs.map { source(of: $0) }
            if case let .layerDrop(probability) = node.op, skips(node, probability) {
                sources[node.outputs[0]] = inputs[0]
            } else if case let .gradient(of: forwardOp, wrt) = node.op, case let .layerDrop(probability) = forwardOp {
                // Inputs: the forward inputs, the forward output, its gradient; outputs: the flagged inputs' gradients.
                let dropped = skips(program.producer(of: node.inputs[wrt.count]), probability)
                let flagged = wrt.indices.filter { wrt[$0] }
                for (output, index) in zip(node.outputs, flagged) {
                    sources[output] = (index == 0) == dropped ? inputs[wrt.count + 1] : .zeros
                }
            } else if node.isBackward, Self.isGradient(node.op), inputs.last == .zeros {
                for output in node.outputs { sources[output] = .zeros }
            } else if node.isBackward, Self.isLinear(node.op), inputs.contains(.zeros) {
                for output in node.outputs { sources[output] = .zeros }
            } else if node.isBackward, case .binary(.add) = node.op, inputs.contains(.zeros) {
                sources[node.outputs[0]] = inputs[0] == .zeros ? inputs[1] : inputs[0]
            }
        }
        // Backward from the fetched values: a node runs when one of its outputs that is itself is needed.
        var needed = Set(wanted.compactMap { if case let .value(value) = source(of: $0) { value } else { nil } })
        for (index, node) in program.nodes.enumerated().reversed() {
            let isNeeded = node.outputs.contains { output in needed.contains(output) && source(of: output) == .value(output) }
            runs[index] = isNeeded
            guard isNeeded else { continue }
            for input in node.inputs { if case let .value(value) = source(of: input) { needed.insert(value) } }
        }
    }

    /// Gradient nodes, single or chained: linear in their incoming gradient (the last input), so zero for zeros.
    static func isGradient(_ op: Op) -> Bool {
        switch op {
        case .gradient, .gradientChain: true
        default: false
        }
    }

    /// Backward ops that are zero when one of their inputs is (the gradient's products and reshapes).
    static func isLinear(_ op: Op) -> Bool {
        switch op {
        case .matmul, .transpose, .reshape, .scale, .maskPadding: true
        default: false
        }
    }

    /// What `value` is: a value that a running node makes (or an input), or zeros.
    public func source(of value: ValueID) -> Source { sources[value] ?? .value(value) }

    /// Whether some layer is dropped (otherwise every node runs and every value is itself).
    public var dropsLayers: Bool { !dropped.isEmpty }
}

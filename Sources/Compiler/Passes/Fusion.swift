import GraphIR

/// Fusion: ops that can run inside another's pass over memory are merged into one node, and every candidate pair
/// gets a decision with its reason (`gmptl compile SPEC --explain-fusion`).
///
/// Candidates are the edges from a producer to a reader, judged by the ops' fusion categories
/// (`Op.fusionCategory`) and the kernels that exist. What fuses today: a `linear`, `conv1d` or `group_norm` whose
/// only reader is a pointwise activation becomes one `linear+<activation>` (`conv1d+...`, `group_norm+...`) node,
/// the activation applied in the op's last pass over its output (the GEMM's epilogue, the norm's output loop); a
/// `conv1d` with small patches whose only reader is a `group_norm` becomes one `conv1d+group_norm` node in inference
/// graphs (the norm's statistics from the input patches' moments, folded into the weight and bias), itself then
/// fused with its activation; a
/// residual `add` whose only reader is a `layer_norm` becomes one `add+layer_norm` node, normalising each row's sum
/// while it is in L1. Sibling `linear` nodes that read the same input (the attention's q, k and v) become one
/// `linear_group` node with their outputs, one product over the weights side by side. What does not fuse, and why,
/// is part of the report, so that the gaps are visible rather than silent: elementwise chains have no fused kernel
/// yet; the attention core is one kernel already. In a graph with a backward pass, a pair fuses when no backward node reads the value between them (a
/// frozen part, such as the feature encoder while the transformer trains); otherwise the activation's or the
/// norm's gradient reads it, and the fused node does not keep it.
public enum Fusion {
    /// One candidate pair and what was decided.
    public struct Decision: Equatable, Sendable {
        /// The producer and the reader (node names).
        public var producer: String
        public var consumer: String
        /// The op pair (`linear -> gelu`).
        public var pattern: String
        public var fused: Bool
        public var reason: String
        /// The other readers of the producer's output, when they decided it.
        public var otherReaders: [String] = []
    }

    /// What one run of the pass decided, in graph order.
    public struct Report: Equatable, Sendable {
        public var decisions: [Decision] = []
        public var fusedCount: Int { decisions.filter(\.fused).count }
    }

    /// The fused graph and the decisions.
    public static func run(_ input: Graph) -> (graph: Graph, report: Report) {
        var report = Report()
        let graph = normalizedConvolutions(input, report: &report)
        let readers = graph.users()
        let named = Set((graph.outputs + graph.taps).map(\.value))
        var rewrites = [(consumer: NodeID, op: Op, inputs: [ValueID], name: String, members: [String])]()
        // Nodes already part of a fused pair: one fusion each (a chain would need the fused op of a fused op).
        var taken = [NodeID: String]()

        for consumer in graph.nodes where !consumer.isBackward {
            for value in consumer.inputs.prefix(1) {
                let producer = graph.producer(of: value)
                guard var (fuses, reason, citesReaders) = judge(
                    producer: producer, consumer: consumer, graph: graph, readers: readers[value] ?? [],
                    isNamed: named.contains(value))
                else { continue }
                if fuses, let other = taken[producer.id] ?? taken[consumer.id] {
                    (fuses, reason, citesReaders) = (false, "one side is already fused into '\(other)'", false)
                }
                let others = (readers[value] ?? []).filter { $0 != consumer.id }.map { graph[$0].name }
                report.decisions.append(Decision(
                    producer: producer.name, consumer: consumer.name, pattern: "\(producer.op.name) -> \(consumer.op.name)",
                    fused: fuses, reason: reason, otherReaders: citesReaders ? others : []))
                if fuses {
                    taken[producer.id] = consumer.name
                    taken[consumer.id] = consumer.name
                }
                if fuses, case let .unary(function) = consumer.op {
                    let members = producer.members.isEmpty ? [producer.name] : producer.members
                    rewrites.append((consumer.id, .activated(producer.op, function), producer.inputs,
                                     "\(producer.name)+\(function.rawValue)", members + [consumer.name]))
                }
                if fuses, case let .layerNorm(eps) = consumer.op {
                    rewrites.append((consumer.id, .addLayerNorm(eps: eps), producer.inputs + consumer.inputs.dropFirst(),
                                     "\(producer.name)+\(consumer.name)", [producer.name, consumer.name]))
                }
            }
        }
        let groups = siblingLinears(graph, readers: readers, taken: taken, report: &report)
        guard !rewrites.isEmpty || !groups.isEmpty else { return (graph, report) }
        var fused = graph
        for rewrite in rewrites {
            fused = fused.replacingNode(rewrite.consumer, op: rewrite.op, inputs: rewrite.inputs, name: rewrite.name,
                                        members: rewrite.members)
        }
        // Latest first: inserting a node renumbers the nodes after it (value ids stay).
        for group in groups.sorted(by: { $0.last > $1.last }) {
            let members = group.members.map { fused[$0] }
            let bias = members[0].inputs.count > 2
            let inputs = [members[0].inputs[0]] + members.flatMap { $0.inputs.dropFirst() }
            let last = fused[group.last]
            let tails = members.dropFirst().map { $0.name.split(separator: ".").last.map(String.init) ?? $0.name }
            guard let (inserted, outputs) = fused.insertingNode(
                .linearGroup(count: members.count, bias: bias), inputs: inputs, name: ([members[0].name] + tails).joined(separator: "+"),
                before: last.id, scope: members[0].scope, location: members[0].location, isBackward: false,
                members: members.map(\.name))
            else { continue }
            fused = inserted.replacingUses(Dictionary(uniqueKeysWithValues: zip(members.map { $0.outputs[0] }, outputs)))
        }
        return (fused.withoutDeadCode(), report)
    }

    /// A `conv1d` whose only reader is a `group_norm` (HuBERT's first layer and its norm over time): one
    /// `conv1d+group_norm` node (`Op.normalizedConv1d`), decided and explained like the pairs. Runs before the other
    /// fusions, so that the norm's activation then fuses into the merged node. Inference graphs only: the fused
    /// statistics differ from the norm's by rounding, and a training step's fusions keep it bitwise the unfused
    /// plan's (gradients that are zero in exact arithmetic, such as a key projection's bias, are rounding noise whose
    /// every bit moves with the forward's).
    static func normalizedConvolutions(_ graph: Graph, report: inout Report) -> Graph {
        let training = graph.nodes.contains(where: \.isBackward)
        let readers = graph.users()
        let named = Set((graph.outputs + graph.taps).map(\.value))
        var rewrites = [(norm: NodeID, op: Op, inputs: [ValueID], name: String, members: [String])]()
        for norm in graph.nodes where !norm.isBackward {
            guard case let .groupNorm(normGroups, eps) = norm.op, let value = norm.inputs.first else { continue }
            let convolution = graph.producer(of: value)
            guard case let .conv1d(stride, padding, groups) = convolution.op, convolution.inputs.count >= 2 else { continue }
            let others = (readers[value] ?? []).filter { $0 != norm.id }.map { graph[$0] }
            let weight = graph[convolution.inputs[1]].type.shape.map(\.constantValue)
            let patch = weight.count == 3 ? (weight[1] ?? .max) * (weight[2] ?? 1) : .max
            var decision = Decision(
                producer: convolution.name, consumer: norm.name, pattern: "conv1d -> group_norm", fused: false, reason: "")
            if named.contains(value) {
                decision.reason = "the convolution's output is a graph output or tap"
            } else if training {
                decision.reason = "a training step keeps the norm apart: the fused statistics (Float64 moments of the "
                    + "input patches) differ from the norm's by rounding, and the step stays bitwise the unfused plan's"
            } else if !others.isEmpty {
                decision.reason = "the convolution's output is also read by other nodes"
                decision.otherReaders = others.map(\.name)
            } else if groups != 1 || patch > Op.normalizedConv1dMaximumPatch {
                decision.reason = "the norm's statistics would come from the input patches' covariance, which the fused "
                    + "kernel takes for one group and patches of at most \(Op.normalizedConv1dMaximumPatch) values (here "
                    + "\(groups) group\(groups == 1 ? "" : "s"), \(patch == .max ? "unknown" : "\(patch)") values)"
            } else {
                decision.fused = true
                decision.reason = "the norm's statistics come from the input patches' mean and covariance (\(patch) values a "
                    + "patch), so the norm folds into the convolution's weight and bias: the output is written once, "
                    + "normalised, not written, read twice for the statistics, then read and written again"
            }
            report.decisions.append(decision)
            guard decision.fused else { continue }
            let inputs = Array(convolution.inputs.prefix(2)) + norm.inputs.dropFirst() + convolution.inputs.dropFirst(2)
            rewrites.append((norm.id, .normalizedConv1d(stride: stride, padding: padding, groups: groups,
                                                        normGroups: normGroups, eps: eps),
                             inputs, "\(convolution.name)+\(norm.name)", [convolution.name, norm.name]))
        }
        guard !rewrites.isEmpty else { return graph }
        var fused = graph
        for rewrite in rewrites {
            fused = fused.replacingNode(rewrite.norm, op: rewrite.op, inputs: rewrite.inputs, name: rewrite.name,
                                        members: rewrite.members)
        }
        return fused.withoutDeadCode()
    }

    /// `linear` nodes that read the same input with the same bias use (the attention's q, k and v): one
    /// `linear_group` each, decided and explained like the pairs. A member must not be fused already, no backward
    /// node may read a member's output (each member's gradient node pairs with its own forward node through it), and
    /// every reader of a member must come after the last member (the group runs where the last member ran).
    static func siblingLinears(
        _ graph: Graph, readers: [ValueID: [NodeID]], taken: [NodeID: String], report: inout Report
    ) -> [(members: [NodeID], last: NodeID)] {
        var groups = [(members: [NodeID], last: NodeID)]()
        for value in graph.values.map(\.id) {
            let linears = (readers[value] ?? []).map { graph[$0] }.filter { node in
                if case .linear = node.op { !node.isBackward && node.inputs[0] == value && taken[node.id] == nil } else { false }
            }
            for bias in [true, false] {
                let members = linears.filter { ($0.inputs.count > 2) == bias }.sorted { $0.id < $1.id }
                guard members.count >= 2, let last = members.last else { continue }
                var decision = Decision(
                    producer: graph.producer(of: value).name, consumer: members.map(\.name).joined(separator: ", "),
                    pattern: "\(members.count) x linear on one input", fused: true,
                    reason: "one product over the members' weights side by side: the kernel threads split their columns "
                        + "taken together in one parallel region (one fork instead of one per member), each output bitwise "
                        + "the member's own")
                let outputs = Set(members.map { $0.outputs[0] })
                let backward = members.flatMap { readers[$0.outputs[0]] ?? [] }.map { graph[$0] }.first(where: \.isBackward)
                let early = members.flatMap { readers[$0.outputs[0]] ?? [] }.filter { $0 < last.id }.map { graph[$0] }
                    .first { !outputs.contains($0.outputs.first ?? value) }
                if let backward {
                    decision.fused = false
                    decision.reason = "a member's output is read by the backward pass: each member's gradient node is "
                        + "paired with its own forward node, and a merged product has no gradient rule"
                    decision.otherReaders = [backward.name]
                } else if let early {
                    decision.fused = false
                    decision.reason = "a member is read before the last member runs, where the merged product would run"
                    decision.otherReaders = [early.name]
                }
                report.decisions.append(decision)
                if decision.fused { groups.append((members.map(\.id), last.id)) }
            }
        }
        return groups
    }

    /// The decision for one edge (fused, why, whether the reason is the producer's other readers), or nil when the
    /// pair is no candidate (the producer ends a pass: a source, a reduction, an opaque or injective op, or a reader
    /// outside the table).
    static func judge(
        producer: Node, consumer: Node, graph: Graph, readers: [NodeID], isNamed: Bool
    ) -> (Bool, String, Bool)? {
        let others = readers.filter { $0 != consumer.id }
        let alsoRead = others.contains { graph[$0].isBackward } ? "also read by the backward pass" : "also read by other nodes"
        switch (producer.op, consumer.op) {
        case let (.linear, .unary(function)), let (.conv1d, .unary(function)), let (.groupNorm, .unary(function)),
             let (.normalizedConv1d, .unary(function)):
            if isNamed { return (false, "the pre-activation is a graph output or tap", false) }
            if others.contains(where: { graph[$0].isBackward }) {
                return (false, "the pre-activation is read by the backward pass (the \(function.rawValue) gradient reads it), "
                    + "and a fused node does not keep it", true)
            }
            if !others.isEmpty { return (false, "the pre-activation is \(alsoRead)", true) }
            if case .groupNorm = producer.op {
                return (true, "the \(function.rawValue) runs in the normalisation's output pass: one write and one read "
                    + "of the normalised values fewer", false)
            }
            if case .normalizedConv1d = producer.op {
                return (true, "the \(function.rawValue) runs on each frame as the normalised convolution writes it, while "
                    + "the frame is in L1", false)
            }
            if case .conv1d = producer.op {
                return (true, "the \(function.rawValue) runs in the GEMM's epilogue on the packed engine (one product a "
                    + "group over all taps), else in one pass right after the convolution", false)
            }
            return (true, "the \(function.rawValue) runs in the GEMM's epilogue on each output tile in registers: "
                + "one write and one read of the pre-activation fewer", false)
        case (.linear, .binary), (.conv1d, .binary):
            return (false, "no fused kernel yet: a residual add as a GEMM epilogue (the bias is fused already)", false)
        case (.binary(.add), .layerNorm):
            if isNamed { return (false, "the sum is a graph output or tap", false) }
            if others.contains(where: { graph[$0].isBackward }) {
                return (false, "the sum is read by the backward pass (the layer norm's gradient reads it), and a fused "
                    + "node does not keep it", true)
            }
            if !others.isEmpty { return (false, "the sum is \(alsoRead)", true) }
            if producer.inputs.count != 2 || graph[producer.inputs[0]].type != graph[producer.inputs[1]].type {
                return (false, "the add broadcasts an operand; the fused kernel adds operands of one shape", false)
            }
            return (true, "each row's sum is made and normalised while it is in L1: one write and one read of the sum "
                + "fewer", false)
        case (.matmul, _) where consumer.op.fusionCategory == .elementwise:
            return (false, "no fused kernel yet: batched matmul takes no epilogue", false)
        case (_, .attention):
            return (false, "the attention core (scale, key mask, softmax and both products) is one kernel already; "
                + "its q, k and v products are merged as siblings (linear_group)", false)
        default:
            // Chains of single-input pointwise ops are the elementwise-chain pass's (after rematerialisation).
            if ElementwiseChains.isChainable(producer.op), ElementwiseChains.isChainable(consumer.op) { return nil }
            let from = producer.op.fusionCategory, to = consumer.op.fusionCategory
            if [.elementwise, .broadcast].contains(from), [.elementwise, .broadcast].contains(to) {
                return (false, "no fused kernel: chains fuse single-input pointwise ops (\(from.rawValue) then "
                    + "\(to.rawValue) here: the second reads another tensor too)", false)
            }
            return nil
        }
    }
}

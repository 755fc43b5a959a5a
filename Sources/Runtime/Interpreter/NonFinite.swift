import GraphIR

/// NaN and infinity in a run: found in the fetched values, then traced to the node that made the first one.
///
/// Finite audio and finite weights can still overflow inside a graph (a weight scaled past what Float32 holds, a
/// softmax over infinities); without this, `embed`, `predict` and the evaluation write all-NaN states or take the
/// argmax of NaN scores with exit status 0.
enum NonFinite {
    /// How many elements of a Float32 tensor are NaN or infinite, and the first one's index.
    static func nonFiniteCount(in tensor: HostTensor) -> (count: Int, first: Int)? {
        guard tensor.dtype == .f32 else { return nil }
        var count = 0, first = -1
        let values = tensor.floats
        for index in 0..<tensor.count where !values[index].isFinite {
            if count == 0 { first = index }
            count += 1
        }
        return count > 0 ? (count, first) : nil
    }

    /// Throws when one of a node's Float32 outputs is not finite. The interpreter checks node by node, so the first
    /// node to throw made the first non-finite value from finite arguments, unless an argument was already not finite
    /// (a graph input or a parameter, which are not checked as they are made): then that argument is named.
    static func check(_ results: [HostTensor], of node: Node, arguments: [HostTensor], program: Graph) throws(RunError) {
        for (position, result) in results.enumerated() {
            guard let (count, first) = nonFiniteCount(in: result) else { continue }
            switch node.op {
            case .input, .parameter:
                throw RunError([Diagnostic("\(Self.describe(node)) holds values that are not finite (NaN or infinity)", at: node.location)])
            default: break
            }
            let value = result.floats[first]
            for (input, argument) in zip(node.inputs, arguments) where nonFiniteCount(in: argument) != nil {
                let producer = program[program[input].producer]
                throw RunError([Diagnostic("\(Self.describe(producer)) holds values that are not finite (NaN or infinity)",
                                           at: producer.location)])
            }
            let output = results.count > 1 ? " (output \(position))" : ""
            throw RunError([Diagnostic(
                "node '\(node.name)' (\(node.op.name))\(output) made \(count) of \(result.count) values not finite from finite inputs "
                    + "(the first, \(value), at element \(first) of shape \(result.shape))",
                at: node.location,
                hint: "a weight or an activation overflows Float32 here: check the weights this node reads and the scale of its input")])
        }
    }

    static func describe(_ node: Node) -> String {
        switch node.op {
        case let .input(name): "the input '\(name)'"
        case let .parameter(name, _): "the parameter '\(name)'"
        default: "node '\(node.name)' (\(node.op.name))"
        }
    }
}

extension Interpreter {
    /// `run(...)`, and an error when a fetched Float32 value holds NaN or infinity: the run is repeated unoptimised,
    /// checking each node, and the error names `source` (what was run, "the recordings a.wav, b.wav") and the node that made the
    /// first non-finite value, at its place in the spec.
    public func runFinite(
        inputs: [String: HostTensor], parameters: [String: HostTensor], fetch names: [String], source: String,
        mode: RunMode = .inference
    ) throws(RunError) -> [String: HostTensor] {
        let outputs = try run(inputs: inputs, parameters: parameters, fetch: names, mode: mode)
        guard let bad = outputs.keys.sorted().first(where: { outputs[$0].flatMap(NonFinite.nonFiniteCount(in:)) != nil }) else { return outputs }
        do {
            // Unoptimised, so that the node named is one the spec wrote (not a fused group) at its own line.
            _ = try Interpreter(graph: graph, optimize: false)
                .run(inputs: inputs, parameters: parameters, fetch: names, mode: mode, stopAtNonFinite: true)
        } catch {
            throw RunError(error.diagnostics.map { diagnostic in
                var diagnostic = diagnostic
                diagnostic.message = "\(bad) of \(source) is not finite: " + diagnostic.message
                return diagnostic
            })
        }
        throw RunError("\(bad) of \(source) holds values that are not finite (NaN or infinity), and a run checked node by node made none",
                       hint: "the kernels are not deterministic for this input; please report it with the input and the spec")
    }
}

import GraphIR

/// Reverse-mode automatic differentiation over the IR: appends to a graph the nodes that compute the gradient of a
/// scalar loss with respect to the trainable parameters.
///
/// Only what the gradients need is differentiated: a value needs a gradient when it depends on a trainable
/// parameter, so frozen scopes (the CNN feature extractor) and everything upstream of them add no backward node.
/// Nodes are visited in reverse order; a value read by several nodes gets the sum of their contributions (fan-out
/// accumulation, one `add` per extra reader). Each forward node's rule is in `Op+Gradient.swift`.
public enum Autodiff {
    /// Appends the backward pass of `loss` (an `f32[]` value of `builder`'s graph) and returns the gradient of each
    /// trainable parameter the loss depends on, by parameter name, in the order the parameters appear. Trainable
    /// parameters the loss does not reach get no entry.
    public static func appendGradients(
        of loss: ValueID, to builder: inout GraphBuilder, isTrainable: (String) -> Bool
    ) throws(CompileError) -> [(name: String, gradient: ValueID)] {
        let graph = builder.graph
        guard graph[loss].type == .f32([]) else {
            throw CompileError("the loss must be a scalar f32[], got \(graph[loss].type)")
        }

        // Which values depend on a trainable parameter (and are floats).
        var requiresGradient = [Bool](repeating: false, count: graph.values.count)
        for node in graph.nodes {
            let depends: Bool = switch node.op {
            case let .parameter(name, _): isTrainable(name)
            case .input, .constant: false
            default: node.inputs.contains { requiresGradient[$0.index] }
            }
            // Only the first output carries gradients (later ones are masks; `Op.outputNames`).
            if depends, let output = node.outputs.first, graph[output].type.dtype == .f32 { requiresGradient[output.index] = true }
        }

        // Which nodes the loss depends on.
        var contributes = [Bool](repeating: false, count: graph.nodes.count)
        var pending = [graph[loss].producer]
        while let id = pending.popLast() {
            guard !contributes[id.index] else { continue }
            contributes[id.index] = true
            pending += graph[id].inputs.map { graph[$0].producer }
        }

        builder.addsBackwardNodes = true
        defer { builder.addsBackwardNodes = false }
        let lossNode = graph.producer(of: loss)
        var gradients = [ValueID: ValueID]()
        gradients[loss] = builder.add(.constant(1), [], name: "grad.\(lossNode.name).seed", scope: lossNode.scope)[0]

        for node in graph.nodes.reversed() where contributes[node.id.index] {
            guard let output = node.outputs.first, let dy = gradients[output] else { continue }
            let wrt = node.inputs.map { requiresGradient[$0.index] }
            guard wrt.contains(true) else { continue }
            let contributions = try Self.gradients(of: node, outputGradient: dy, wrt: wrt, in: &builder)
            for (inputIndex, gradient) in contributions {
                let value = node.inputs[inputIndex]
                if let earlier = gradients[value] {
                    let name = "grad.\(graph.producer(of: value).name).sum"
                    gradients[value] = builder.add(.binary(.add), [earlier, gradient], name: name, scope: node.scope)[0]
                } else {
                    gradients[value] = gradient
                }
            }
        }
        if !builder.diagnostics.isEmpty { throw CompileError(builder.diagnostics) }

        var result = [(name: String, gradient: ValueID)]()
        for node in graph.parameterNodes {
            guard case let .parameter(name, _) = node.op, requiresGradient[node.outputs[0].index],
                  let gradient = gradients[node.outputs[0]] else { continue }
            result.append((name, gradient))
        }
        return result
    }
}

import GraphIR

/// Named parameter tensors (a checkpoint's, or those being trained), and their check against a graph.
///
/// A reference type: the interpreter and an optimiser share one store and see each other's updates.
public final class ParameterStore {
    private var tensors: [String: HostTensor]

    public init() { tensors = [:] }

    public init(_ tensors: [String: HostTensor]) { self.tensors = tensors }

    public subscript(name: String) -> HostTensor? { tensors[name] }

    public func set(_ name: String, _ tensor: HostTensor) { tensors[name] = tensor }

    /// The names held, sorted.
    public var names: [String] { tensors.keys.sorted() }

    public var count: Int { tensors.count }

    /// The store's tensors for a graph's parameters, in the order of `graph.parameterNodes`.
    ///
    /// Every parameter must have a tensor of its dtype and shape, and every tensor must be a parameter: missing,
    /// unexpected and wrongly shaped tensors are all listed, each by name, in one error (after a first line that
    /// counts them), with "did you mean" on a missing name that is close to an unexpected one. `source` (a file or
    /// checkpoint directory) starts every message.
    public func bind(to graph: Graph, source: String = "parameters") throws(CheckpointError) -> [HostTensor] {
        var bound: [HostTensor] = []
        var missing: [(name: String, type: TensorType)] = []
        var mismatched: [Diagnostic] = []
        var nonFinite: [Diagnostic] = []
        var expected: Set<String> = []
        for node in graph.parameterNodes {
            guard case let .parameter(name, shape) = node.op, let output = node.outputs.first else { continue }
            expected.insert(name)
            let type = TensorType(graph[output].type.dtype, shape)
            guard let tensor = tensors[name] else {
                missing.append((name, type))
                continue
            }
            let dims = shape.compactMap(\.constantValue)
            guard dims.count == shape.count else {
                mismatched.append(Diagnostic("\(source): graph parameter '\(name)' has a symbolic shape \(type)"))
                continue
            }
            guard tensor.dtype == type.dtype, tensor.shape == dims else {
                mismatched.append(Diagnostic(
                    "\(source): tensor '\(name)' is \(tensor.typeDescription), but the graph's parameter is \(type)"))
                continue
            }
            // One NaN or infinite weight makes every output NaN: refused here, by name.
            if tensor.dtype == .f32,
               let bad = UnsafeBufferPointer(start: tensor.floats, count: tensor.count).firstIndex(where: { !$0.isFinite }) {
                nonFinite.append(Diagnostic(
                    "\(source): tensor '\(name)' holds a value that is not finite (\(tensor.floats[bad]) at flat index \(bad)): the checkpoint is damaged or its training diverged"))
                continue
            }
            bound.append(tensor)
        }
        let unexpected = tensors.keys.filter { !expected.contains($0) }.sorted()
        guard !missing.isEmpty || !unexpected.isEmpty || !mismatched.isEmpty || !nonFinite.isEmpty else { return bound }

        var counts: [String] = []
        if !missing.isEmpty { counts.append("\(missing.count) missing") }
        if !unexpected.isEmpty { counts.append("\(unexpected.count) unexpected") }
        if !mismatched.isEmpty { counts.append("\(mismatched.count) of the wrong type or shape") }
        if !nonFinite.isEmpty { counts.append("\(nonFinite.count) not finite") }
        var diagnostics = [Diagnostic(
            "\(source): the tensors do not match graph '\(graph.name)'s parameters: \(counts.joined(separator: ", "))")]
        for (name, type) in missing {
            diagnostics.append(Diagnostic(
                "\(source): missing tensor '\(name)' (\(type))", hint: Suggestion.hint(for: name, in: unexpected)))
        }
        for name in unexpected {
            let type = tensors[name]?.typeDescription ?? ""
            diagnostics.append(Diagnostic(
                "\(source): unexpected tensor '\(name)' (\(type)): the graph has no such parameter"))
        }
        throw CheckpointError(diagnostics + mismatched + nonFinite)
    }
}

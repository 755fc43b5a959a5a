/// Builds a graph node by node, checking each op's inputs as it is added.
///
/// A node whose inputs do not fit records a diagnostic (at the node's location, with notes pointing at where its
/// inputs were made and their types) and still produces placeholder outputs, marked as failed, so that building
/// goes on and independent errors are reported together; nodes fed by failed values are not checked again.
public struct GraphBuilder {
    public private(set) var graph: Graph
    public private(set) var diagnostics: [Diagnostic] = []
    private var failed = Set<ValueID>()
    private var parametersByName = [String: ValueID]()
    private var names = Set<String>()
    private var parameterTotal = 0
    private var reportedParameterTotal = false

    /// Nodes added while this is set are marked as part of the backward pass (`Node.isBackward`).
    public var addsBackwardNodes = false

    public init(name: String) { graph = Graph(name: name) }

    /// Goes on building `graph`: new nodes get names not taken yet, and its parameters are reused by name.
    public init(extending graph: Graph) {
        self.graph = graph
        for node in graph.nodes {
            names.insert(node.name)
            if case let .parameter(name, _) = node.op { parametersByName[name] = node.outputs[0] }
        }
        parameterTotal = graph.parameterCount ?? 0
    }

    /// Whether a value is a placeholder left by an earlier error.
    public func isFailed(_ value: ValueID) -> Bool { failed.contains(value) }

    /// The type of a value (a placeholder type for failed values).
    public func type(of value: ValueID) -> TensorType { graph[value].type }

    /// Adds a graph input.
    public mutating func input(_ name: String, _ type: TensorType, at location: SourceLocation? = nil) -> ValueID {
        let node = append(.input(name: name), inputs: [], types: [type], name: name, scope: [], location: location)
        if let problem = type.sizeProblem {
            diagnostics.append(Diagnostic("input '\(name)' would have type \(type), which has \(problem)", at: location))
            failed.insert(graph[node].outputs[0])
        }
        return graph[node].outputs[0]
    }

    /// The parameter of this name, added on first use. A second use with another shape is an error (shared
    /// parameters must agree).
    public mutating func parameter(
        _ name: String, shape: [Dim], scope: [String] = [], at location: SourceLocation? = nil, keyPath: String? = nil
    ) -> ValueID {
        if let existing = parametersByName[name] {
            let node = graph.producer(of: existing)
            if case let .parameter(_, known) = node.op, known != shape {
                diagnostics.append(Diagnostic(
                    "parameter '\(name)' is used with shape \(shape.bracketed) but was first made with \(known.bracketed)",
                    at: location, keyPath: keyPath, notes: [.init("first made here", at: node.location)]))
            }
            return existing
        }
        let node = append(.parameter(name: name, shape: shape), inputs: [], types: [.f32(shape)], name: name, scope: scope,
                          location: location)
        let value = graph[node].outputs[0]
        parametersByName[name] = value
        if let problem = TensorType.f32(shape).sizeProblem {
            diagnostics.append(Diagnostic("parameter '\(name)' would have shape \(shape.bracketed), which has \(problem)",
                                          at: location, keyPath: keyPath))
            failed.insert(value)
        } else if let count = shape.reduce(Dim(1), *).constantValue {
            parameterTotal += count
            if parameterTotal > Graph.parameterLimit, !reportedParameterTotal {
                reportedParameterTotal = true
                diagnostics.append(Diagnostic(
                    "the parameters reach \(parameterTotal) elements with '\(name)', past the limit of \(Graph.parameterLimit) (2^34, 64 GiB of f32)",
                    at: location, keyPath: keyPath))
            }
        }
        return value
    }

    /// Adds a node applying `op` to `inputs`; returns its outputs (placeholders when the inputs do not fit).
    @discardableResult
    public mutating func add(
        _ op: Op, _ inputs: [ValueID], name: String, scope: [String] = [], at location: SourceLocation? = nil,
        keyPath: String? = nil
    ) -> [ValueID] {
        let anyFailed = inputs.contains { failed.contains($0) }
        var types: [TensorType]? = nil
        if !op.arity.contains(inputs.count) {
            let expected = op.inputNames.map { $0.hasSuffix("?") ? "[\($0.dropLast())]" : $0 }.joined(separator: ", ")
            diagnostics.append(Diagnostic(
                "\(op.name) takes \(describe(op.arity)) (\(expected)), got \(inputs.count)", at: location, keyPath: keyPath))
        } else if !anyFailed {
            switch op.outputTypes(inputs.map { graph[$0].type }) {
            case let .success(result):
                if let (type, problem) = result.lazy.compactMap({ type in type.sizeProblem.map { (type, $0) } }).first {
                    diagnostics.append(Diagnostic("'\(name)' would make \(type), which has \(problem)", at: location, keyPath: keyPath))
                } else {
                    types = result
                }
            case let .failure(issue):
                let notes = issue.inputs.filter { $0 < inputs.count }.map { index -> Diagnostic.Note in
                    let value = inputs[index]
                    let producer = graph.producer(of: value)
                    let label = index < op.inputNames.count ? op.inputNames[index].replacingSuffix("?") : "input \(index)"
                    return .init("\(label) is \(graph[value].type), made by '\(producer.name)'", at: producer.location)
                }
                diagnostics.append(Diagnostic("\(issue.message) in '\(name)'", at: location, keyPath: keyPath, notes: notes))
            }
        }
        let outputCount = types?.count ?? 1
        let node = append(op, inputs: inputs, types: types ?? Array(repeating: .f32([]), count: outputCount),
                          name: name, scope: scope, location: location)
        if types == nil { for output in graph[node].outputs { failed.insert(output) } }
        return graph[node].outputs
    }

    /// Names graph outputs and taps (values the losses, k-means nodes and `gmptl embed` can refer to).
    public mutating func setOutputs(_ outputs: [NamedValue], taps: [NamedValue]) {
        graph.outputs = outputs
        graph.taps = taps
    }

    /// Records a diagnostic found while building (an unknown name, say).
    public mutating func report(_ diagnostic: Diagnostic) { diagnostics.append(diagnostic) }

    /// The graph, or every problem found while building it.
    public func finish() throws(ShapeError) -> Graph {
        guard diagnostics.isEmpty else { throw ShapeError(diagnostics) }
        return graph
    }

    private mutating func append(
        _ op: Op, inputs: [ValueID], types: [TensorType], name: String, scope: [String], location: SourceLocation?
    ) -> NodeID {
        let id = NodeID(graph.nodes.count)
        var unique = name
        var suffix = 2
        while names.contains(unique) {
            unique = "\(name)_\(suffix)"
            suffix += 1
        }
        names.insert(unique)
        var outputs = [ValueID]()
        for (index, type) in types.enumerated() {
            let value = ValueID(graph.values.count)
            graph.values.append(Value(id: value, type: type, producer: id, outputIndex: index))
            outputs.append(value)
        }
        graph.nodes.append(Node(id: id, op: op, inputs: inputs, outputs: outputs, name: unique, scope: scope, location: location,
                                isBackward: addsBackwardNodes))
        return id
    }

    private func describe(_ arity: ClosedRange<Int>) -> String {
        if arity.upperBound == Int.max { return "\(arity.lowerBound) or more inputs" }
        if arity.lowerBound == arity.upperBound { return "\(arity.lowerBound) input\(arity.lowerBound == 1 ? "" : "s")" }
        return "\(arity.lowerBound) to \(arity.upperBound) inputs"
    }
}

extension String {
    func replacingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}

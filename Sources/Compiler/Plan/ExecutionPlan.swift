import GraphIR

/// What the Runtime executes for one graph, set of fetched values and mode, compiled once and cached by the
/// interpreter: the program (only the nodes the fetched values need; in the inference form when nothing trains;
/// simplified), and what the interpreter used to work out on every call: the forward node of each gradient node,
/// which nodes save tensors for a gradient node, which nodes read parameters only, and each value's last reader.
///
/// Shapes are bound per call (the symbolic dimensions from the inputs); a plan holds no tensor.
public struct ExecutionPlan: Sendable {
    /// Whether the program trains: inference bypasses dropout, LayerDrop and time masking.
    public enum Mode: Hashable, Sendable {
        case inference
        case training
    }

    /// The nodes that run, in order.
    public let program: Graph
    public let mode: Mode
    /// The fetched values, in the order asked, numbered as in `program`.
    public let fetched: [NamedValue]
    /// What simplification did (nil when the plan was compiled without optimisation).
    public let simplification: Simplify.Report?
    /// What fusion decided (nil when the plan was compiled without optimisation).
    public let fusion: Fusion.Report?
    /// What rematerialisation decided (nil when the plan was compiled without optimisation).
    public let rematerialization: Rematerialization.Report?
    /// For each node of `program`: the forward node a gradient node differentiates (the producer of its `y`).
    public let forwardNode: [NodeID?]
    /// For each node: whether a gradient node of the program reads what it saves.
    public let savesForGradient: [Bool]
    /// For each node: whether it has inputs and all of them are parameters (its results can be cached while the
    /// same parameter tensors are passed in).
    public let readsParametersOnly: [Bool]
    /// Whether some node is a `layer_drop` (then each training step makes a `LayerDropPlan`).
    public let hasLayerDrop: Bool
    /// For each value: the index of the last node that reads it, or nil when nothing does or it is fetched
    /// (a fetched value is kept to the end).
    public let lastReader: [Int?]

    /// Compiles the plan that fetches `names` (outputs or taps of `graph`). `optimize: false` skips simplification,
    /// for comparing optimised and unoptimised runs.
    public static func compile(
        _ graph: Graph, fetch names: [String], mode: Mode, optimize: Bool = true
    ) throws(CompileError) -> ExecutionPlan {
        let named = graph.outputs + graph.taps
        var problems = [Diagnostic]()
        var wanted = [ValueID]()
        for name in names {
            if let value = named.first(where: { $0.name == name })?.value { wanted.append(value) } else {
                problems.append(Diagnostic("'\(name)' is not an output or tap of graph '\(graph.name)'",
                                           hint: Suggestion.hint(for: name, in: named.map(\.name))))
            }
        }
        guard problems.isEmpty else { throw CompileError(problems) }

        var passes: [(name: String, pass: (Graph) -> Graph)] = [("dead code", { $0.subgraph(computing: wanted) })]
        if mode == .inference { passes.append(("inference form", { $0.inferenceForm() })) }
        var report: Simplify.Report?
        var fusion: Fusion.Report?
        var rematerialization: Rematerialization.Report?
        if optimize {
            passes.append(("simplify", { graph in
                let (simplified, done) = Simplify.run(graph)
                report = done
                return simplified
            }))
            passes.append(("fusion", { graph in
                let (fused, decided) = Fusion.run(graph)
                fusion = decided
                return fused
            }))
            passes.append(("rematerialization", { graph in
                let (recomputing, decided) = Rematerialization.run(graph, fetched: Set(names))
                rematerialization = decided
                return recomputing
            }))
            // After rematerialisation: the recomputed GELU -> dropout pairs of the backward pass chain too.
            passes.append(("elementwise chains", { graph in
                let (chained, decided) = ElementwiseChains.run(graph)
                fusion?.decisions += decided
                return chained
            }))
        }
        let program: Graph
        do { program = try PassManager.run(graph, passes) } catch { throw CompileError(error.description) }
        return ExecutionPlan(program: program, mode: mode, fetch: names, simplification: report, fusion: fusion,
                             rematerialization: rematerialization)
    }

    private init(program: Graph, mode: Mode, fetch names: [String], simplification: Simplify.Report?,
                 fusion: Fusion.Report?, rematerialization: Rematerialization.Report?) {
        self.program = program
        self.mode = mode
        self.simplification = simplification
        self.fusion = fusion
        self.rematerialization = rematerialization
        let named = program.outputs + program.taps
        fetched = names.compactMap { name in named.first { $0.name == name } }

        var forwardNode = [NodeID?](repeating: nil, count: program.nodes.count)
        var savesForGradient = [Bool](repeating: false, count: program.nodes.count)
        var readsParametersOnly = [Bool](repeating: false, count: program.nodes.count)
        var lastReader = [Int?](repeating: nil, count: program.values.count)
        for (index, node) in program.nodes.enumerated() {
            if case let .gradient(_, wrt) = node.op, node.inputs.count > wrt.count {
                let forward = program[node.inputs[wrt.count]].producer
                forwardNode[index] = forward
                savesForGradient[forward.index] = true
            }
            readsParametersOnly[index] = !node.inputs.isEmpty && node.inputs.allSatisfy {
                if case .parameter = program.producer(of: $0).op { true } else { false }
            }
            for input in node.inputs { lastReader[input.index] = index }
        }
        for value in fetched { lastReader[value.value.index] = nil }
        self.forwardNode = forwardNode
        self.savesForGradient = savesForGradient
        self.readsParametersOnly = readsParametersOnly
        self.lastReader = lastReader
        hasLayerDrop = program.nodes.contains { if case .layerDrop = $0.op { true } else { false } }
    }
}

import GraphIR

/// Runs a graph on concrete inputs: binds the symbolic dimensions from the inputs' shapes, checks every input's
/// dtype and shape, and calls a kernel per node. Only the nodes the fetched values need run; a buffer is released
/// after its last use. In inference dropout and time masking are identities; in training they draw from the run's
/// (seed, step), and forward nodes keep what their gradient nodes read (`RunState`).
///
/// Buffers are allocated per call; the memory planner of the compiler replaces that with one arena later.
public struct Interpreter {
    public let graph: Graph
    /// Storage of outputs and scratch, reused from one run to the next.
    let pool = BufferPool()
    /// Results of nodes that read parameters only (the weight-normalised positional conv weight), kept while the
    /// same parameter tensors are passed in: inference does not recompute them each run.
    let constants = ConstantCache()

    public init(graph: Graph) { self.graph = graph }

    /// The values named `fetch` (graph outputs or taps) for these inputs and parameters.
    public func run(
        inputs: [String: HostTensor], parameters: [String: HostTensor], fetch names: [String], mode: RunMode = .inference,
        profile: OpProfile? = nil
    ) throws(RunError) -> [String: HostTensor] {
        let named = graph.outputs + graph.taps
        var problems = [Diagnostic]()
        var wanted = [ValueID]()
        for name in names {
            if let value = named.first(where: { $0.name == name })?.value { wanted.append(value) } else {
                problems.append(Diagnostic("'\(name)' is not an output or tap of graph '\(graph.name)'",
                                           hint: Suggestion.hint(for: name, in: named.map(\.name))))
            }
        }
        guard problems.isEmpty else { throw RunError(problems) }
        // Dropout and time masking are identities in inference: bypassed, with what only they read.
        let program = mode.isTraining ? graph.subgraph(computing: wanted) : graph.subgraph(computing: wanted).inferenceForm()
        let state = RunState(mode: mode, program: program)
        pool.trim()

        // Inputs: present, typed, and consistent in their sizes.
        var binding = ShapeBinding()
        let inputNodes = program.inputNodes
        for node in inputNodes {
            guard case let .input(name) = node.op else { continue }
            guard let tensor = inputs[name] else {
                problems.append(Diagnostic("missing input '\(name)' (\(program[node.outputs[0]].type))"))
                continue
            }
            problems += binding.bind(program[node.outputs[0]].type, to: tensor, input: name)
        }
        for node in inputNodes {
            guard case let .input(name) = node.op, let tensor = inputs[name] else { continue }
            problems += binding.check(program[node.outputs[0]].type, against: tensor, input: name)
        }
        let known = Set(graph.inputNodes.compactMap { if case let .input(name) = $0.op { name } else { nil } })
        for name in inputs.keys.sorted() where !known.contains(name) {
            problems.append(Diagnostic("unexpected input '\(name)'", hint: Suggestion.hint(for: name, in: known)))
        }
        guard problems.isEmpty else { throw RunError(problems) }

        // Dropped layers (training): their nodes, and the backward nodes of their zero gradients, do not run.
        let fetchedValues = names.compactMap { name in (program.outputs + program.taps).first { $0.name == name }?.value }
        let plan = RunPlan(program: program, wanted: fetchedValues) { node, probability in
            mode.isTraining && state.skipsLayer(node, probability: probability)
        }
        /// The tensor of a value: the one its source holds, or zeros of its shape.
        func tensor(_ value: ValueID, in values: [ValueID: HostTensor]) -> HostTensor? {
            switch plan.source(of: value) {
            case let .value(source): return values[source]
            case .zeros:
                guard let shape = binding.shape(of: program[value].type) else { return nil }
                let zeros = HostTensor(program[value].type.dtype, shape: shape, pool: pool)
                zeros.storage.initializeMemory(as: UInt8.self, repeating: 0, count: zeros.count * 4)
                return zeros
            }
        }

        // The last running node that reads each value, to release buffers early.
        var lastUse = [ValueID: Int]()
        for (index, node) in program.nodes.enumerated() where plan.runs[index] {
            for input in node.inputs { if case let .value(source) = plan.source(of: input) { lastUse[source] = index } }
        }
        let kept = Set((program.outputs + program.taps).compactMap { named in
            if case let .value(source) = plan.source(of: named.value) { source } else { nil }
        })

        var values = [ValueID: HostTensor]()
        for (index, node) in program.nodes.enumerated() where plan.runs[index] {
            var shapes = [[Int]]()
            for output in node.outputs {
                guard let shape = binding.shape(of: program[output].type) else {
                    throw RunError("node '\(node.name)' would make \(program[output].type) with \(binding.symbols), which has a negative size",
                                   hint: "the input is too short for the graph (a convolution needs at least its kernel's frames)")
                }
                shapes.append(shape)
            }
            let arguments = node.inputs.compactMap { tensor($0, in: values) }
            guard arguments.count == node.inputs.count else { throw RunError("internal: node '\(node.name)' runs before its inputs") }
            let clock = ContinuousClock()
            let start = clock.now
            let results: [HostTensor]
            let constantInputs = mode == .inference && !node.inputs.isEmpty && node.inputs.allSatisfy {
                if case .parameter = program.producer(of: $0).op { true } else { false }
            }
            if constantInputs, let cached = constants.results(of: node.name, for: arguments) {
                results = cached
            } else {
                results = try execute(node, arguments, shapes: shapes, inputs: inputs, parameters: parameters, state: state)
                if constantInputs { constants.store(results, of: node.name, for: arguments) }
            }
            profile?.record(node.op.name, clock.now - start)
            for (output, result) in zip(node.outputs, results) { values[output] = result }
            for input in node.inputs {
                guard case let .value(source) = plan.source(of: input), lastUse[source] == index, !kept.contains(source) else { continue }
                values[source] = nil
            }
        }
        var fetched = [String: HostTensor]()
        for name in names {
            if let value = (program.outputs + program.taps).first(where: { $0.name == name })?.value { fetched[name] = tensor(value, in: values) }
        }
        return fetched
    }
}

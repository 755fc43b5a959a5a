import Compiler
import GraphIR

/// Runs a graph on concrete inputs through compiled plans: the first run for a set of fetched values and a mode
/// compiles an `ExecutionPlan` (dead code removed, the inference form, simplified, gradient nodes paired with their
/// forward nodes, last readers found), later runs reuse it. Each run binds the symbolic dimensions from the
/// inputs' shapes, checks every input's dtype and shape, and calls a kernel per node of the plan's program; a
/// buffer is released after its last reader. In training dropout and time masking draw from the run's (seed,
/// step), and forward nodes keep what their gradient nodes read (`RunState`).
///
/// Values live in one arena at the offsets of the plan's `MemoryPlan` for the call's sizes (views and in-place
/// outputs included), and so do kernel workspaces and what forward nodes save for their gradient nodes
/// (`auxiliaryBuffers(of:shape:)`); fetched values and outputs kept for a gradient node come from a pool. A training
/// step that drops layers has a memory plan of its own, for the nodes that run.
public struct Interpreter {
    public let graph: Graph
    /// Whether plans are simplified and run in a planned arena (`false`: the unoptimised program with every buffer
    /// from the pool, for comparisons).
    public let optimize: Bool
    /// Storage of outputs and scratch, reused from one run to the next.
    let pool = BufferPool()
    /// Results of nodes that read parameters only (the weight-normalised positional conv weight), kept while the
    /// same parameter tensors are passed in: inference does not recompute them each run.
    let constants = ConstantCache()
    let packedWeights = PackedWeightCache()
    /// The compiled plans, by fetched names and mode, and their memory plans by sizes.
    let plans = PlanCache()
    /// The arena runs place their values in.
    let arenas = ArenaStore()
    /// Scratch that optimised runs took from the pool because their memory plan had no place for it (the tests
    /// require none).
    public var unplannedScratch: Int { scratchMisses.count }
    let scratchMisses = ScratchMisses()

    public init(graph: Graph, optimize: Bool = true) {
        self.graph = graph
        self.optimize = optimize
    }

    /// The plan a run with `names` and `mode` executes (compiled on first use, then cached).
    public func plan(fetch names: [String], mode: RunMode = .inference) throws(RunError) -> ExecutionPlan {
        do {
            return try plans.plan(for: graph, fetch: names, mode: mode.planMode, optimize: optimize)
        } catch {
            throw RunError(error.diagnostics)
        }
    }

    /// The values named `fetch` (graph outputs or taps) for these inputs and parameters. With `stopAtNonFinite`,
    /// every Float32 output is checked as it is made, and the first node whose output holds NaN or infinity is an
    /// error at that node's place in the spec (`runFinite` uses it to explain a non-finite result).
    ///
    /// `onFetched` is called with each fetched value as soon as the node making it has run (a data-parallel step
    /// starts summing the first gradients while the backward pass goes on); values that are aliases or zeros of a
    /// dropped layer are only in the result.
    public func run(
        inputs: [String: HostTensor], parameters: [String: HostTensor], fetch names: [String], mode: RunMode = .inference,
        profile: OpProfile? = nil, stopAtNonFinite: Bool = false, onFetched: ((String, HostTensor) -> Void)? = nil
    ) throws(RunError) -> [String: HostTensor] {
        let plan = try plan(fetch: names, mode: mode)
        let program = plan.program
        let state = RunState(mode: mode, plan: plan)
        var problems = [Diagnostic]()
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
        let layerDrop = plan.hasLayerDrop && mode.isTraining
            ? LayerDropPlan(program: program, wanted: plan.fetched.map(\.value)) { node, probability in state.skipsLayer(node, probability: probability) }
            : nil
        let dropping = layerDrop?.dropsLayers == true
        /// What a value is: its own slot, another value's, or zeros.
        func source(of value: ValueID) -> LayerDropPlan.Source { layerDrop?.source(of: value) ?? .value(value) }
        /// The tensor of a value: the one its source holds, or zeros of its shape.
        func tensor(_ value: ValueID, in values: [HostTensor?]) -> HostTensor? {
            switch source(of: value) {
            case let .value(source): return values[source.index]
            case .zeros:
                guard let shape = binding.shape(of: program[value].type) else { return nil }
                let zeros = HostTensor(program[value].type.dtype, shape: shape, pool: pool)
                zeros.storage.initializeMemory(as: UInt8.self, repeating: 0, count: zeros.count * 4)
                return zeros
            }
        }

        // The last running node that reads each value, to release buffers early: the plan's, unless layers are dropped.
        var lastReader = plan.lastReader
        if dropping, let layerDrop {
            lastReader = [Int?](repeating: nil, count: program.values.count)
            for (index, node) in program.nodes.enumerated() where layerDrop.runs[index] {
                for input in node.inputs { if case let .value(source) = source(of: input) { lastReader[source.index] = index } }
            }
            for named in plan.fetched { if case let .value(source) = source(of: named.value) { lastReader[source.index] = nil } }
        }

        // The arena, at the memory plan's offsets for these sizes (pool buffers where the plan has no place).
        // A step that drops layers has a memory plan of its own (which nodes run, which values are others), cached
        // by the dropped `layer_drop` nodes.
        let memory = optimize ? plans.memoryPlan(of: plan, fetch: names, mode: mode.planMode, symbols: binding.symbols,
                                                 layerDrop: layerDrop) : nil
        let arena = memory.map { arenas.take($0.arenaBytes) }
        defer { if let arena { arenas.give(arena) } }
        var current: Node?
        var currentIndex = 0, scratchOrdinal = 0
        let allocate: OutputAllocator = { [pool] position, dtype, shape in
            if let memory, let arena, let node = current, position < node.outputs.count,
               let placement = memory.placements[node.outputs[position].index], !placement.isPersistent {
                return HostTensor(dtype, shape: shape, arena: arena, offset: placement.offset)
            }
            return HostTensor(dtype, shape: shape, pool: pool)
        }
        let scratch: ScratchAllocator = { [pool, scratchMisses] count in
            defer { scratchOrdinal += 1 }
            if let memory, let arena {
                let planned = memory.auxiliary[currentIndex]
                if scratchOrdinal < planned.count, planned[scratchOrdinal].bytes >= count * 4 {
                    return HostTensor(.f32, shape: [count], arena: arena, offset: planned[scratchOrdinal].offset)
                }
                scratchMisses.record()
            }
            return HostTensor(.f32, shape: [count], pool: pool)
        }

        var values = [HostTensor?](repeating: nil, count: program.values.count)
        var fetchedNames = [Int: [String]]()
        if onFetched != nil { for named in plan.fetched { fetchedNames[named.value.index, default: []].append(named.name) } }
        for (index, node) in program.nodes.enumerated() where layerDrop?.runs[index] ?? true {
            current = node
            currentIndex = index
            scratchOrdinal = 0
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
            let constantInputs = mode == .inference && plan.readsParametersOnly[index]
            if constantInputs, let cached = constants.results(of: node.name, for: arguments) {
                results = cached
            } else {
                results = try execute(node, arguments, shapes: shapes, inputs: inputs, parameters: parameters, state: state,
                                      allocate: allocate, scratch: scratch)
                if constantInputs { constants.store(results, of: node.name, for: arguments) }
            }
            profile?.record(node.op.name, node: node.name, clock.now - start)
            if stopAtNonFinite { try NonFinite.check(results, of: node, arguments: arguments, program: program) }
            for (output, result) in zip(node.outputs, results) { values[output.index] = result }
            if let onFetched {
                for (output, result) in zip(node.outputs, results) {
                    for name in fetchedNames[output.index] ?? [] { onFetched(name, result) }
                }
            }
            for input in node.inputs {
                guard case let .value(source) = source(of: input), lastReader[source.index] == index else { continue }
                values[source.index] = nil
            }
        }
        var fetched = [String: HostTensor]()
        for named in plan.fetched { fetched[named.name] = tensor(named.value, in: values) }
        return fetched
    }
}

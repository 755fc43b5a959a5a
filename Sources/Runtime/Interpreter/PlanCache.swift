import Compiler
import GraphIR
import Kernels
import Synchronization

/// The compiled plans of one interpreter, by fetched names and mode: a plan is compiled on the first run that asks
/// for it and reused by every later one.
final class PlanCache: Sendable {
    private struct Key: Hashable {
        var fetch: [String]
        var mode: ExecutionPlan.Mode
    }

    private let plans = Mutex<[Key: ExecutionPlan]>([:])

    /// The plan for `fetch` and `mode`, compiled when it is not cached yet.
    func plan(
        for graph: Graph, fetch: [String], mode: ExecutionPlan.Mode, optimize: Bool
    ) throws(CompileError) -> ExecutionPlan {
        let key = Key(fetch: fetch, mode: mode)
        if let plan = plans.withLock({ $0[key] }) { return plan }
        let plan = try ExecutionPlan.compile(graph, fetch: fetch, mode: mode, optimize: optimize)
        plans.withLock { $0[key] = plan }
        return plan
    }

    /// How many plans are cached (for the tests).
    var count: Int { plans.withLock { $0.count } }

    private struct MemoryKey: Hashable {
        var plan: Key
        var symbols: [String: Int]
        /// The `layer_drop` nodes a training step drops (their indices in the program).
        var dropped: [Int]
        /// Some kernels' workspaces grow with the kernel thread count.
        var threads: Int
    }

    private let memoryPlans = Mutex<[MemoryKey: MemoryPlan]>([:])

    /// The memory plan of `plan` (cached under `fetch` and `mode`) for concrete sizes, made when it is not cached yet;
    /// nil when a size does not evaluate. Training batches come in many lengths: past 64 entries the cache starts over.
    func memoryPlan(
        of plan: ExecutionPlan, fetch: [String], mode: ExecutionPlan.Mode, symbols: [String: Int],
        layerDrop: LayerDropPlan?
    ) -> MemoryPlan? {
        let key = MemoryKey(plan: Key(fetch: fetch, mode: mode), symbols: symbols, dropped: layerDrop?.dropped ?? [],
                            threads: KernelThreads.count)
        if let memory = memoryPlans.withLock({ $0[key] }) { return memory }
        guard let memory = MemoryPlan.make(plan, symbols: symbols, layerDrop: layerDrop, auxiliary: Interpreter.auxiliaryBuffers)
        else { return nil }
        memoryPlans.withLock { plans in
            if plans.count >= 64 { plans.removeAll() }
            plans[key] = memory
        }
        return memory
    }
}

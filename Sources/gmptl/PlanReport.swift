import ArgumentParser
import Compiler
import Foundation
import GraphIR
import Kernels
import Runtime

/// `gmptl compile --emit plan`: the execution plan of a graph (its outputs, inference; or a stage's training step)
/// and its memory plan for concrete sizes.
struct PlanReport {
    var text: String

    init(_ graph: Graph, bindings: [String]) throws {
        var symbols = ["B": 1, "S": 64_000]
        for binding in bindings {
            let parts = binding.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, let value = Int(parts[1]), value >= 0 else {
                throw ValidationError("--bind takes SYMBOL=VALUE with a non-negative integer, got '\(binding)'")
            }
            symbols[parts[0]] = value
        }
        let plan = try ExecutionPlan.shown(for: graph)
        let training = plan.mode == .training
        let fetch = plan.fetched.map(\.name)
        let unbound = Set(plan.program.values.flatMap { $0.type.shape.flatMap(\.symbols) }).subtracting(symbols.keys).sorted()
        guard unbound.isEmpty, let memory = MemoryPlan.make(plan, symbols: symbols, auxiliary: Interpreter.auxiliaryBuffers) else {
            throw ValidationError("give every symbolic dimension a size with --bind: \(unbound.isEmpty ? "a size came out negative" : unbound.joined(separator: ", "))")
        }
        func mib(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
        let shared = memory.placements.compactMap { $0 }.filter { $0.sharesWith != nil }.count
        let simplified = plan.simplification.map { "\($0.bypassed.count) bypassed, \($0.merged.count) merged, \($0.removed) removed" } ?? "not simplified"
        let sizes = symbols.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value)" }.joined(separator: ", ")
        let workspaces = memory.auxiliary.joined().filter { $0.role == .workspace }
        var lines = [
            "plan            \(graph.name), \(training ? "training step" : "inference"), \(sizes)",
            "fetch           \(fetch.count <= 4 ? fetch.joined(separator: ", ") : "\(fetch.count) values (loss and gradients)")",
            "nodes           \(plan.program.nodes.count) (\(simplified))",
            "naive           \(mib(memory.naiveBytes)) (every value its own buffer)",
            "live-set bound  \(mib(memory.lowerBound)) (at node \(memory.peakPosition) of \(plan.program.nodes.count))",
            "planned arena   \(mib(memory.arenaBytes)) (\(String(format: "%.3f", memory.lowerBound == 0 ? 1 : Double(memory.arenaBytes) / Double(memory.lowerBound)))x the bound, fragmentation \(String(format: "%.1f", 100 * memory.fragmentation)) %)",
            "persistent      \(mib(memory.persistentBytes)) (cached constants)",
            "outside         \(mib(memory.outsideBytes)) (fetched values and outputs kept for a gradient node: buffers of their own)",
            "shared storage  \(shared) values are views or in-place outputs of an input",
            "workspaces      \(workspaces.count) kernel calls, the largest \(mib(workspaces.map(\.bytes).max() ?? 0)) (in the arena, each alive during its call; sizes for \(KernelThreads.count) kernel threads)",
            "saved           \(mib(memory.auxiliaryBytes(.saved))) of statistics forward nodes keep for their gradient nodes (in the arena)",
        ]
        // The storage alive at the peak, the largest first, by the node that makes it.
        let atPeak = memory.placements.compactMap { $0 }.filter {
            $0.sharesWith == nil && !$0.isPersistent && $0.first <= memory.peakPosition && memory.peakPosition <= $0.last
        }.sorted { ($0.bytes, $1.value) > ($1.bytes, $0.value) }
        let auxiliaryAtPeak = memory.auxiliary.joined().filter { $0.first <= memory.peakPosition && memory.peakPosition <= $0.last }
        let named = atPeak.map { (name: plan.program.producer(of: $0.value).name, bytes: $0.bytes) }
            + auxiliaryAtPeak.map { (name: "\(plan.program.nodes[$0.node].name) (\($0.role == .saved ? "saved" : "workspace"))", bytes: $0.bytes) }
        let largest = named.sorted { $0.bytes > $1.bytes }.prefix(12).map { "\($0.name) \(mib($0.bytes))" }
        lines.append("live at peak    \(memory.nodesAtPeak.count) values and \(auxiliaryAtPeak.count) kernel buffers, the largest: "
            + largest.joined(separator: ", ") + (named.count > largest.count ? ", ..." : ""))
        if !training {
            // Parameter-only nodes: computed once per parameter version and kept (the interpreter's constant cache).
            let folded = plan.program.nodes.indices.filter { plan.readsParametersOnly[$0] }.map { plan.program.nodes[$0].name }
            lines.append("constants       \(folded.count) node\(folded.count == 1 ? "" : "s") of parameters only, computed once per "
                + "parameter version" + (folded.isEmpty ? "" : ": " + folded.prefix(8).joined(separator: ", ")))
        }
        let fusedCount = plan.fusion?.fusedCount ?? 0
        lines.append("fused           \(fusedCount) of \(plan.fusion?.decisions.count ?? 0) candidate pairs (--explain-fusion)")
        if training, let recomputing = plan.rematerialization {
            let names = recomputing.decisions.filter(\.recomputed).map(\.node)
            lines.append("recomputed      \(names.count) of \(recomputing.decisions.count) candidate values, "
                + "made again right before their first backward reader" + (names.isEmpty ? "" : ": " + names.prefix(6).joined(separator: ", ")
                + (names.count > 6 ? ", ..." : "")))
            for decision in recomputing.decisions where !decision.recomputed {
                lines.append("kept            \(decision.node): \(decision.reason)")
            }
        }
        for bypass in plan.simplification?.bypassed ?? [] { lines.append("bypassed        \(bypass.node): \(bypass.reason)") }
        for merge in plan.simplification?.merged ?? [] { lines.append("merged          \(merge.node) into \(merge.into) (the same op on the same inputs)") }
        text = lines.joined(separator: "\n")
    }
}

extension ExecutionPlan {
    /// The plan `gmptl` shows for a graph: a training step (the loss and the gradients) when the graph has backward
    /// nodes, else inference of its outputs. Spec errors cannot happen here; a compile error exits with 1.
    static func shown(for graph: Graph) throws -> ExecutionPlan {
        let training = graph.nodes.contains(where: \.isBackward)
        let fetch = training ? graph.outputs.map(\.name).filter { $0 == "loss" || $0.hasPrefix("grad.") } : graph.outputs.map(\.name)
        do { return try ExecutionPlan.compile(graph, fetch: fetch, mode: training ? .training : .inference) } catch {
            printError(Diagnostic.render(error))
            throw ExitCode(1)
        }
    }
}

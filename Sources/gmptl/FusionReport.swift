import Compiler

/// `gmptl compile SPEC --explain-fusion`: the fusion pass's decisions, a summary by pattern and reason, then every
/// candidate pair.
struct FusionReport {
    let text: String

    init(_ plan: ExecutionPlan) {
        let decisions = plan.fusion?.decisions ?? []
        var lines = ["fusion          \(plan.program.name), \(plan.mode == .training ? "training step" : "inference"): "
            + "\(decisions.filter(\.fused).count) fused of \(decisions.count) candidate pairs"]
        // Summary: one line per (pattern, decision, reason), in order of first appearance.
        var groups = [(key: String, count: Int)]()
        for decision in decisions {
            let key = "\(decision.fused ? "fused  " : "refused") \(decision.pattern): \(decision.reason)"
            if let index = groups.firstIndex(where: { $0.key == key }) { groups[index].count += 1 } else { groups.append((key, 1)) }
        }
        for group in groups { lines.append(String(format: "%5d x ", group.count) + group.key) }
        if !decisions.isEmpty { lines.append("") }
        for decision in decisions {
            let others = decision.otherReaders.isEmpty ? "" : "; also read by " + decision.otherReaders.joined(separator: ", ")
            lines.append("\(decision.fused ? "fused  " : "refused") \(decision.producer) -> \(decision.consumer) (\(decision.pattern)\(others))")
        }
        text = lines.joined(separator: "\n")
    }
}

import GraphIR
import GraphSpec

/// Groups digits in threes: 94371712 -> "94,371,712".
func grouped(_ value: Int) -> String {
    let digits = String(abs(value))
    var result = ""
    for (index, character) in digits.enumerated() {
        if index > 0 && (digits.count - index) % 3 == 0 { result += "," }
        result.append(character)
    }
    return (value < 0 ? "-" : "") + result
}

/// `gmptl compile --emit summary`: inputs, outputs, taps, op counts and parameters of a graph.
struct GraphSummary {
    let graph: Graph
    let stages: [Stage]

    init(_ graph: Graph, stages: [Stage] = []) {
        self.graph = graph
        self.stages = stages
    }

    var text: String {
        var lines = ["graph \(graph.name)"]
        lines.append("inputs")
        for node in graph.inputNodes { lines.append("  \(node.name): \(graph[node.outputs[0]].type)") }
        lines.append("outputs")
        for output in graph.outputs { lines.append("  \(output.name): \(graph[output.value].type)") }
        if !graph.taps.isEmpty {
            lines.append("taps")
            for tap in graph.taps { lines.append("  \(tap.name): \(graph[tap.value].type)") }
        }
        var counts = [String: Int]()
        for node in graph.nodes {
            switch node.op {
            case .input, .parameter: continue
            default: counts[node.op.name, default: 0] += 1
            }
        }
        lines.append("ops (\(counts.values.reduce(0, +)))")
        for (name, count) in counts.sorted(by: { $0.key < $1.key }) { lines.append("  \(name): \(count)") }
        let parameters = graph.parameterNodes.count
        lines.append("parameters: \(parameters) tensors, \(graph.parameterCount.map(grouped) ?? "symbolic sizes") values")
        if !stages.isEmpty {
            lines.append("stages")
            for stage in stages {
                switch stage.kind {
                case let .train(train):
                    let losses = train.losses.filter(\.enabled).map { loss in loss.weight == 1 ? loss.name : "\(formatFixed(loss.weight, digits: 2)) * \(loss.name)" }
                    let frozen = train.freeze.isEmpty ? "" : " (frozen: \(train.freeze.joined(separator: ", ")))"
                    lines.append("  \(stage.name)\(stage.enabled ? "" : " (off)"): train \(train.train.joined(separator: ", "))\(frozen) on \(losses.joined(separator: " + ")), \(train.epochs) epochs, \(train.optimizer.name.rawValue)")
                case let .kmeans(kmeans):
                    lines.append("  \(stage.name)\(stage.enabled ? "" : " (off)"): k-means of \(kmeans.from) at \(kmeans.taps.joined(separator: ", ")), K = \(kmeans.k.map(String.init).joined(separator: ", ")), fitted on \(kmeans.fitOn)")
                }
            }
        }
        return lines.joined(separator: "\n")
    }
}

/// `gmptl compile --params`: parameters per scope (the block instance, or the module a parameter belongs to)
/// and the total.
struct ParameterTable {
    let graph: Graph

    init(_ graph: Graph) { self.graph = graph }

    var text: String {
        var order = [String]()
        var rows = [String: (tensors: Int, values: Int?)]()
        for node in graph.parameterNodes {
            guard case let .parameter(name, shape) = node.op else { continue }
            let scope = node.scope.last ?? module(of: name)
            if rows[scope] == nil { order.append(scope); rows[scope] = (0, 0) }
            let count = shape.reduce(Dim(1), *).constantValue
            rows[scope]?.tensors += 1
            if let known = rows[scope]?.values, let count { rows[scope]?.values = known + count } else { rows[scope]?.values = nil }
        }
        let width = max(5, order.map(\.count).max() ?? 0)
        func line(_ scope: String, _ tensors: String, _ values: String) -> String {
            scope.padding(width) + "  " + tensors.leftPadding(7) + "  " + values.leftPadding(13)
        }
        var lines = [line("scope", "tensors", "parameters"), String(repeating: "-", count: width + 24)]
        for scope in order {
            guard let row = rows[scope] else { continue }
            lines.append(line(scope, String(row.tensors), row.values.map(grouped) ?? "symbolic"))
        }
        lines.append(String(repeating: "-", count: width + 24))
        lines.append(line("total", String(graph.parameterNodes.count), graph.parameterCount.map(grouped) ?? "symbolic"))
        return lines.joined(separator: "\n")
    }

    /// The module a parameter belongs to: its name without the last component.
    private func module(of name: String) -> String {
        guard let dot = name.lastIndex(of: ".") else { return name }
        return String(name[..<dot])
    }
}

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
    func leftPadding(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}

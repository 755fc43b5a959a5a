/// A deterministic text form of a graph, one node a line, for `gmptl compile --emit ir` and snapshot tests.
///
///     graph tiny
///       %0 = input {name: "wave"} : f32[B, S]
///       %3 = conv1d(%0, %1) {stride: 5, padding: 0, groups: 1} : f32[B, floor((S - 10) / 5) + 1, 8]  # conv0
///     taps
///       hidden.0 = %3
///     outputs
///       out = %9
extension Graph {
    public var text: String {
        var lines = ["graph \(name)"]
        for node in nodes {
            var line = "  " + node.outputs.map(\.description).joined(separator: ", ") + " = " + node.op.name
            if !node.inputs.isEmpty { line += "(" + node.inputs.map(\.description).joined(separator: ", ") + ")" }
            let attributes = node.op.attributes
            if !attributes.isEmpty { line += " {" + attributes.map { "\($0.name): \($0.value)" }.joined(separator: ", ") + "}" }
            line += " : " + node.outputs.map { self[$0].type.description }.joined(separator: ", ")
            switch node.op {
            case .input, .parameter: break
            default:
                line += "  # \(node.name)"
                if let stream = node.randomStream { line += " (draws the stream of \(stream))" }
            }
            lines.append(line)
        }
        if !taps.isEmpty {
            lines.append("taps")
            for tap in taps { lines.append("  \(tap.name) = \(tap.value)") }
        }
        if !outputs.isEmpty {
            lines.append("outputs")
            for output in outputs { lines.append("  \(output.name) = \(output.value)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

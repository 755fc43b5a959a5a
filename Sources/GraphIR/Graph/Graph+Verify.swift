/// The invariants every pass must keep. Run after each pass in debug and test builds.
extension Graph {
    /// Problems with the graph's structure: empty when it is well formed. These are bugs of the compiler, not of
    /// the user's spec (the builder reports those), so the messages speak of ids.
    public func verify() -> [Diagnostic] {
        var problems = [String]()
        var defined = Set<ValueID>()
        var names = Set<String>()
        for (index, node) in nodes.enumerated() {
            if node.id.index != index { problems.append("node \(index) has id \(node.id)") }
            if !names.insert(node.name).inserted { problems.append("node name '\(node.name)' is used twice") }
            if !node.op.arity.contains(node.inputs.count) {
                problems.append("\(node.id) '\(node.name)': \(node.op.name) with \(node.inputs.count) inputs")
            }
            for input in node.inputs where !defined.contains(input) {
                problems.append("\(node.id) '\(node.name)' reads \(input) before it is made (not in topological order, or a cycle)")
            }
            for (position, output) in node.outputs.enumerated() {
                guard output.index >= 0, output.index < values.count else {
                    problems.append("\(node.id) '\(node.name)' makes unknown value \(output)")
                    continue
                }
                let value = values[output.index]
                if value.producer != node.id || value.outputIndex != position {
                    problems.append("\(output) says it is made by \(value.producer) output \(value.outputIndex), not \(node.id) output \(position)")
                }
                if !defined.insert(output).inserted { problems.append("\(output) is made twice") }
            }
            let inputTypes = node.inputs.filter { $0.index < values.count }.map { values[$0.index].type }
            switch node.op {
            case let .input(name):
                if node.outputs.count != 1 { problems.append("input '\(name)' must make one value") }
            case let .parameter(name, shape):
                if node.outputs.count != 1 || node.outputs.first.map({ values[$0.index].type }) != .f32(shape) {
                    problems.append("parameter '\(name)' must make one f32\(shape.bracketed) value")
                }
            default:
                guard inputTypes.count == node.inputs.count, node.op.arity.contains(inputTypes.count) else { break }
                switch node.op.outputTypes(inputTypes) {
                case let .success(types):
                    let actual = node.outputs.map { values[$0.index].type }
                    if types != actual {
                        problems.append("\(node.id) '\(node.name)': stored types \(actual) but the shape rule gives \(types)")
                    }
                case let .failure(issue):
                    problems.append("\(node.id) '\(node.name)': \(issue.message)")
                }
            }
        }
        if defined.count != values.count { problems.append("\(values.count - defined.count) values are made by no node") }
        for named in outputs + taps where !defined.contains(named.value) {
            problems.append("'\(named.name)' refers to unknown value \(named.value)")
        }
        return problems.map { Diagnostic("graph '\(name)' is malformed: \($0)") }
    }
}

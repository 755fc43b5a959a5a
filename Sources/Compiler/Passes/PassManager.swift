import GraphIR

/// Runs passes in order; in debug and test builds, `Graph.verify()` checks the graph after each one and names the
/// pass that broke it.
public enum PassManager {
    /// A broken invariant after a pass: a bug of the compiler, never of the user's spec.
    public struct InvariantError: Error, CustomStringConvertible {
        public var pass: String
        public var problems: [Diagnostic]
        public var description: String { "internal: the \(pass) pass broke the graph: " + problems.map(\.message).joined(separator: "; ") }
    }

    /// Applies each `(name, pass)` in turn.
    public static func run(_ graph: Graph, _ passes: [(name: String, pass: (Graph) -> Graph)]) throws(InvariantError) -> Graph {
        var current = graph
        for (name, pass) in passes {
            current = pass(current)
            #if DEBUG
            let problems = current.verify()
            if !problems.isEmpty { throw InvariantError(pass: name, problems: problems) }
            #endif
        }
        return current
    }
}

/// The id of a value in a graph (its index).
public struct ValueID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let raw: Int32
    public init(_ raw: Int) { self.raw = Int32(raw) }
    public var index: Int { Int(raw) }
    public var description: String { "%\(raw)" }
    public static func < (lhs: ValueID, rhs: ValueID) -> Bool { lhs.raw < rhs.raw }
}

/// The id of a node in a graph (its index).
public struct NodeID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let raw: Int32
    public init(_ raw: Int) { self.raw = Int32(raw) }
    public var index: Int { Int(raw) }
    public var description: String { "#\(raw)" }
    public static func < (lhs: NodeID, rhs: NodeID) -> Bool { lhs.raw < rhs.raw }
}

/// An SSA value: made by exactly one node, typed.
public struct Value: Hashable, Sendable {
    public let id: ValueID
    public var type: TensorType
    public var producer: NodeID
    /// Which of the producer's outputs this is.
    public var outputIndex: Int
}

/// One operation applied to values, producing new values.
public struct Node: Hashable, Sendable {
    public let id: NodeID
    public var op: Op
    public var inputs: [ValueID]
    public var outputs: [ValueID]
    /// A unique name, scoped by the block instances it came from (`encoder.layers.3.attn`).
    public var name: String
    /// The block instances the node came from, outermost first (`["encoder", "encoder.layers.3"]`): DOT draws
    /// a cluster per entry.
    public var scope: [String]
    /// Where in the spec the node was written.
    public var location: SourceLocation?
    /// Whether the compiler's autodiff made the node (part of the backward pass).
    public var isBackward = false
    /// For a node the fusion pass made: the names of the nodes it computes, in order (DOT draws them as a cluster).
    public var members: [String] = []
    /// The name whose random stream the node draws, when not its own: a copy a pass makes of a random node (a
    /// dropout recomputed for the backward pass) draws its original's numbers.
    public var randomStream: String?

    /// The name that keys the node's random stream.
    public var streamName: String { randomStream ?? name }

    /// The same node under another id, reading `inputs` and making `outputs` (a pass that renumbers).
    func renumbered(_ id: NodeID, inputs: [ValueID], outputs: [ValueID]) -> Node {
        Node(id: id, op: op, inputs: inputs, outputs: outputs, name: name, scope: scope, location: location,
             isBackward: isBackward, members: members, randomStream: randomStream)
    }
}

/// A value with a user-facing name: a graph output or a tap (`hidden.6`).
public struct NamedValue: Hashable, Sendable {
    public var name: String
    public var value: ValueID
    public var location: SourceLocation?

    public init(_ name: String, _ value: ValueID, at location: SourceLocation? = nil) {
        self.name = name
        self.value = value
        self.location = location
    }
}

/// A typed dataflow graph in SSA form: nodes in a topological order (every input is made by an earlier node).
///
/// Built with `GraphBuilder`, which checks shapes as it goes; `verify()` re-checks every invariant after a pass.
public struct Graph: Hashable, Sendable {
    public var name: String
    public internal(set) var nodes: [Node] = []
    public internal(set) var values: [Value] = []
    public var outputs: [NamedValue] = []
    public var taps: [NamedValue] = []

    public init(name: String) { self.name = name }

    public subscript(_ id: ValueID) -> Value { values[id.index] }
    public subscript(_ id: NodeID) -> Node { nodes[id.index] }

    /// The input nodes, in order.
    public var inputNodes: [Node] { nodes.filter { if case .input = $0.op { true } else { false } } }

    /// The parameter nodes, in order of first use.
    public var parameterNodes: [Node] { nodes.filter { if case .parameter = $0.op { true } else { false } } }

    /// The most parameter elements a graph may have: 2^34 (64 GiB of f32; HuBERT base has 94 million). The
    /// builder reports a graph past it.
    public static let parameterLimit = 1 << 34

    /// The total number of parameter elements, when every parameter shape is constant (nil otherwise, or when the
    /// total leaves Int's range).
    public var parameterCount: Int? {
        var total = 0
        for node in parameterNodes {
            guard case let .parameter(_, shape) = node.op, let count = shape.reduce(Dim(1), *).constantValue else { return nil }
            let (sum, overflow) = total.addingReportingOverflow(count)
            guard !overflow else { return nil }
            total = sum
        }
        return total
    }

    /// The node that makes a value.
    public func producer(of value: ValueID) -> Node { nodes[values[value.index].producer.index] }

    /// Nodes that read each value, in node order.
    public func users() -> [ValueID: [NodeID]] {
        var users = [ValueID: [NodeID]]()
        for node in nodes {
            for input in node.inputs { users[input, default: []].append(node.id) }
        }
        return users
    }
}

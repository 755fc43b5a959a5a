/// Time spent per op kind and per node over interpreter runs, for `gmptl bench forward|train --profile`.
public final class OpProfile {
    public private(set) var seconds: [String: Double] = [:]
    public private(set) var calls: [String: Int] = [:]
    /// Per node (by name, fused nodes under their fused name): time and its op kind.
    public private(set) var nodeSeconds: [String: Double] = [:]
    public private(set) var nodeOps: [String: String] = [:]

    public init() {}

    func record(_ op: String, node: String, _ elapsed: Duration) {
        let parts = elapsed.components
        let value = Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
        seconds[op, default: 0] += value
        calls[op, default: 0] += 1
        nodeSeconds[node, default: 0] += value
        nodeOps[node] = op
    }

    public func reset() {
        seconds = [:]
        calls = [:]
        nodeSeconds = [:]
        nodeOps = [:]
    }
}

/// Time spent per op kind over interpreter runs, for `gmptl bench forward --profile`.
public final class OpProfile {
    public private(set) var seconds: [String: Double] = [:]
    public private(set) var calls: [String: Int] = [:]

    public init() {}

    func record(_ op: String, _ elapsed: Duration) {
        let parts = elapsed.components
        seconds[op, default: 0] += Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
        calls[op, default: 0] += 1
    }

    public func reset() {
        seconds = [:]
        calls = [:]
    }
}

import Synchronization

/// Results of nodes whose inputs are all parameters, keyed by the node, the identity of its input tensors and their
/// versions: a different parameter tensor (a new checkpoint) or one updated in place (an optimizer step, which marks
/// it modified) is a miss, so a stale result is never used. Entries hold their input tensors, so that a released
/// tensor's address can never be mistaken for a live one.
final class ConstantCache: Sendable {
    private struct Entry {
        var inputs: [HostTensor]
        var versions: [Int]
        var results: [HostTensor]
    }

    private let entries = Mutex<[String: Entry]>([:])

    func results(of node: String, for inputs: [HostTensor]) -> [HostTensor]? {
        entries.withLock { entries in
            guard let entry = entries[node], entry.inputs.count == inputs.count,
                  zip(entry.inputs, inputs).allSatisfy({ $0 === $1 }),
                  entry.versions == inputs.map(\.version) else { return nil }
            return entry.results
        }
    }

    func store(_ results: [HostTensor], of node: String, for inputs: [HostTensor]) {
        let entry = Entry(inputs: inputs, versions: inputs.map(\.version), results: results)
        entries.withLock { entries in entries[node] = entry }
    }
}

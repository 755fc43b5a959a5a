import Synchronization

/// Convolution weights repacked for the kernel (tap-major, `Conv1d.packWeight`), keyed by the node, the identity
/// of the weight tensor and its version, for inference runs whose weight is a parameter or a cached constant: the
/// repacking is a pass over the whole weight (4-5 ms a forward for HuBERT's positional conv, 4.7 M values), done
/// once per weight instead of once per call. Holds the weight tensor, as `ConstantCache` does.
final class PackedWeightCache: Sendable {
    private struct Entry {
        var weight: HostTensor
        var version: Int
        var packed: HostTensor
    }

    private let entries = Mutex<[String: Entry]>([:])

    /// The packed form of `weight` for `node`, made with `pack` on a miss.
    func packed(of node: String, weight: HostTensor, count: Int, pack: (HostTensor) -> Void) -> HostTensor {
        if let hit = entries.withLock({ entries -> HostTensor? in
            guard let entry = entries[node], entry.weight === weight, entry.version == weight.version,
                  entry.packed.count == count else { return nil }
            return entry.packed
        }) {
            return hit
        }
        let packed = HostTensor(.f32, shape: [count])
        pack(packed)
        entries.withLock { entries in entries[node] = Entry(weight: weight, version: weight.version, packed: packed) }
        return packed
    }
}

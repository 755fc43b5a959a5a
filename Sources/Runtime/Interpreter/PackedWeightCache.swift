import Kernels
import Synchronization

/// Linear layers' weights packed for the packed GEMM, kept across inference runs: a weight is packed once, not at
/// every call. Keyed by the node, the weight tensor's identity and its version (`HostTensor.markModified()`), so a
/// new checkpoint or an optimizer step repacks. Entries hold their tensor, so a freed tensor's address can never be
/// mistaken for a live one.
final class PackedWeightCache: Sendable {
    private struct Entry {
        var weight: HostTensor
        var version: Int
        var packed: Gemm.PackedMatrix
    }

    private let entries = Mutex<[String: Entry]>([:])

    /// The packing of `weight` (`[out, in]`) for `node`, made when missing or stale; nil when the CPU does not run
    /// the packed kernel.
    func packed(for node: String, weight: HostTensor) -> Gemm.PackedMatrix? {
        let version = weight.version
        if let hit = entries.withLock({ entries -> Gemm.PackedMatrix? in
            guard let entry = entries[node], entry.weight === weight, entry.version == version else { return nil }
            return entry.packed
        }) { return hit }
        let (outFeatures, inFeatures) = (weight.shape[0], weight.shape[1])
        guard let packed = Gemm.PackedMatrix(transB: true, b: weight.floats, ldb: inFeatures, k: inFeatures, n: outFeatures)
        else { return nil }
        entries.withLock { $0[node] = Entry(weight: weight, version: version, packed: packed) }
        return packed
    }
}

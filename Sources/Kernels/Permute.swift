/// Axis permutation (transpose) and slicing of dense row-major tensors: copies, parallel over output rows.
public enum Permute {
    /// `out` = `x` (shape `shape`) with its axes permuted: output axis `i` is input axis `permutation[i]`.
    /// Returns false (writing nothing) when the permutation or rank (at most 8) is invalid.
    @discardableResult
    public static func transpose(
        _ x: UnsafePointer<Float>, shape: [Int], permutation: [Int], into out: UnsafeMutablePointer<Float>
    ) -> Bool {
        let rank = shape.count
        guard rank <= 8, permutation.count == rank, permutation.sorted() == Array(0..<rank) else { return false }
        var inputStrides = InlineArray<8, Int>(repeating: 0)
        var running = 1
        for axis in stride(from: rank - 1, through: 0, by: -1) {
            inputStrides[axis] = running
            running *= shape[axis]
        }
        var outShape = InlineArray<8, Int>(repeating: 1)
        var strides = InlineArray<8, Int>(repeating: 0)
        for axis in 0..<rank {
            outShape[axis] = shape[permutation[axis]]
            strides[axis] = inputStrides[permutation[axis]]
        }
        guard rank > 0 else {
            out[0] = x[0]
            return true
        }
        let inner = outShape[rank - 1], innerStride = strides[rank - 1]
        let rows = inner == 0 ? 0 : running / inner
        Parallel.forChunks(rows, grain: max(1, 16_384 / max(1, inner))) { range in
            for row in range {
                var rest = row, offset = 0
                var axis = rank - 2
                while axis >= 0 {
                    offset += (rest % outShape[axis]) * strides[axis]
                    rest /= outShape[axis]
                    axis -= 1
                }
                let target = out + row * inner
                for i in 0..<inner { target[i] = x[offset + i * innerStride] }
            }
        }
        return true
    }

    /// Elements `start ..< end` along one axis of a tensor viewed as `[outer, length, inner]`.
    public static func slice(
        _ x: UnsafePointer<Float>, outer: Int, length: Int, inner: Int, start: Int, end: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        let kept = max(0, min(end, length) - max(0, start))
        guard kept > 0 else { return }
        Parallel.forChunks(outer, grain: max(1, 16_384 / max(1, kept * inner))) { range in
            for o in range {
                (out + o * kept * inner).update(from: x + (o * length + max(0, start)) * inner, count: kept * inner)
            }
        }
    }
}

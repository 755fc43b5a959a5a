/// Multi-head scaled dot-product attention over padded sequences, with a key padding mask.
///
/// Layouts (Float32, row-major; `T` is `sequenceLength`, `H` is `heads`, `d` is `headDim`):
/// - `q`, `k`, `v`, `out` and their gradients: `[batch, T, H * d]`, heads interleaved as PyTorch's
///   `view(batch, T, H, d)`: head `h` of a row is columns `h * d ..< (h + 1) * d`. Heads are read and written in
///   place through strided GEMMs (leading dimension `H * d`), never copied.
/// - `lengths`: Int32 `[batch]`; key `j` of sequence `b` is valid iff `j < lengths[b]`. Lengths are clamped into
///   `0...T`, so any value is safe.
/// - `probabilities`: `[batch, H, T, T]`; row `(b, h, i)` holds query `i`'s attention over the keys, 0 at masked
///   keys. Written by `forward`; `backward` reads them, or recomputes each head's when given none (training).
///
/// Semantics: per `(b, h)`, `S = scale * Q K^T` over the valid keys, `P = softmax(S)` per query row,
/// `out = P V`. Only keys are masked: queries at padded positions attend to the valid keys like the others (as
/// PyTorch's `key_padding_mask`). A sequence of length 0 has no valid key: its probabilities, outputs and
/// gradients are all zero (never NaN).
///
/// The `(b, h)` pairs run side by side on the kernel threads, each with one-thread GEMMs and its softmax rows in a
/// fixed order, so results do not depend on the thread count (nor, with the packed GEMM, on the split).
public enum Attention {
    /// Floats of the `probabilities` buffer: `batch * heads * sequenceLength^2`.
    public static func probabilitiesCount(batch: Int, heads: Int, sequenceLength: Int) -> Int {
        batch * heads * sequenceLength * sequenceLength
    }

    /// Floats of `backward`'s scratch `workspace`: one `[T, T]` matrix per kernel thread, reused for every
    /// `(b, h)` that thread runs, two when the probabilities are recomputed. Sized by the thread count at the call,
    /// so size it just before.
    public static func backwardWorkspaceCount(sequenceLength: Int, recomputing: Bool = false) -> Int {
        workspaceSlots * sequenceLength * sequenceLength * (recomputing ? 2 : 1)
    }

    /// Heads run side by side in `backward` (one scratch matrix each).
    static var workspaceSlots: Int { KernelThreads.count }

    /// `out = softmax(scale * Q K^T, masked) V` per head; saves the probabilities (`[batch, heads, T, T]`).
    public static func forward(
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, lengths: UnsafePointer<Int32>,
        probabilities: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>,
        batch: Int, sequenceLength: Int, heads: Int, headDim: Int, scale: Float
    ) {
        let plane = sequenceLength * sequenceLength
        forEachHead(q: q, k: k, v: v, lengths: lengths, out: out, batch: batch, sequenceLength: sequenceLength,
                    heads: heads, headDim: headDim, scale: scale) { index, _ in probabilities + index * plane }
    }

    /// Floats of the workspace of `forward(...workspace:...)`: one `[T, T]` plane per kernel thread. Sized by the
    /// thread count at the call, so size it just before.
    public static func forwardWorkspaceCount(sequenceLength: Int) -> Int {
        workspaceSlots * sequenceLength * sequenceLength
    }

    /// `forward` without keeping the probabilities (training recomputes them in the backward pass, inference needs
    /// none): each thread reuses one `[T, T]` plane of `workspace` (`forwardWorkspaceCount(sequenceLength:)`
    /// floats) for the heads it runs, so the scratch does not grow with the batch: 0.3 MB at T = 199 on 2 threads
    /// against 15 MB for 8 sequences' probabilities, 50 MB at T = 2,500 (50 s) against 300 MB a sequence. The same
    /// bits as the saving form.
    public static func forward(
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, lengths: UnsafePointer<Int32>,
        workspace: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>,
        batch: Int, sequenceLength: Int, heads: Int, headDim: Int, scale: Float
    ) {
        let plane = sequenceLength * sequenceLength
        forEachHead(q: q, k: k, v: v, lengths: lengths, out: out, batch: batch, sequenceLength: sequenceLength,
                    heads: heads, headDim: headDim, scale: scale) { _, slot in workspace + slot * plane }
    }

    /// Runs every (b, h) pair: scores, softmax and P V while the head's P is in cache, into `plane(index, slot)`.
    /// Slot s (one per kernel thread) runs pairs s, s + slots, ...; each pair's numbers do not depend on its slot.
    private static func forEachHead(
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, lengths: UnsafePointer<Int32>,
        out: UnsafeMutablePointer<Float>, batch: Int, sequenceLength: Int, heads: Int, headDim: Int, scale: Float,
        plane: (Int, Int) -> UnsafeMutablePointer<Float>
    ) {
        let length = sequenceLength
        guard batch > 0, length > 0, heads > 0 else { return }
        let width = heads * headDim
        let pairs = batch * heads, slots = min(workspaceSlots, pairs)
        Gemm.serialProducts {
            Parallel.forChunks(slots) { slotRange in
                for slot in slotRange {
                    for index in stride(from: slot, to: pairs, by: slots) {
                        let b = index / heads, h = index % heads
                        let valid = Lengths.valid(lengths, b, frames: length)
                        let offset = b * length * width + h * headDim
                        let p = plane(index, slot)
                        headProbabilities(q: q + offset, k: k + offset, width: width, length: length, valid: valid,
                                          headDim: headDim, scale: scale, into: p)
                        // out = P V (an empty sum, hence zeros, for a sequence of length 0).
                        Gemm.multiply(
                            m: length, n: headDim, k: valid, a: p, lda: length, b: v + offset, ldb: width,
                            c: out + offset, ldc: width, threads: 1)
                    }
                }
            }
        }
    }

    /// Gradients of `forward` from `dOut`: `dV = P^T dO`, `dP = dO V^T`, `dS = P * (dP - rowsum(dP * P))`,
    /// `dQ = scale dS K`, `dK = scale dS^T Q`. `dQ`, `dK` and `dV` are overwritten (zeros at masked keys and for
    /// sequences of length 0). `workspace` holds `backwardWorkspaceCount(sequenceLength:recomputing:)` floats.
    ///
    /// With `probabilities` nil, each head's probabilities are recomputed from `q` and `k` by the forward pass's
    /// own operations (the same bits), so training need not keep `[batch, H, T, T]` per layer from the forward to
    /// the backward pass (182 MB for HuBERT base at batch 8, 4 s): a rematerialisation costing a quarter of the
    /// attention's products.
    public static func backward(
        dOut: UnsafePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
        probabilities: UnsafePointer<Float>?, lengths: UnsafePointer<Int32>,
        dQ: UnsafeMutablePointer<Float>, dK: UnsafeMutablePointer<Float>, dV: UnsafeMutablePointer<Float>,
        workspace: UnsafeMutablePointer<Float>,
        batch: Int, sequenceLength: Int, heads: Int, headDim: Int, scale: Float
    ) {
        let length = sequenceLength
        guard batch > 0, length > 0, heads > 0 else { return }
        let width = heads * headDim
        let plane = length * length
        let pairs = batch * heads, slots = min(workspaceSlots, pairs)
        Gemm.serialProducts {
            // Slot s runs pairs s, s + slots, ... with its own [T, T] scratch.
            Parallel.forChunks(slots) { slotRange in
                for slot in slotRange {
                    let recomputing = probabilities == nil
                    let scores = workspace + slot * plane * (recomputing ? 2 : 1)
                    for index in stride(from: slot, to: pairs, by: slots) {
                        let b = index / heads, h = index % heads
                        let valid = Lengths.valid(lengths, b, frames: length)
                        let offset = b * length * width + h * headDim
                        let p: UnsafePointer<Float>
                        if let probabilities {
                            p = probabilities + index * plane
                        } else {
                            let recomputed = scores + plane
                            headProbabilities(q: q + offset, k: k + offset, width: width, length: length, valid: valid,
                                              headDim: headDim, scale: scale, into: recomputed)
                            p = UnsafePointer(recomputed)
                        }

                        // dV = P^T dO for the valid keys; masked keys get nothing.
                        Gemm.multiply(
                            transA: true, m: valid, n: headDim, k: length, a: p, lda: length, b: dOut + offset,
                            ldb: width, c: dV + offset, ldc: width, threads: 1)
                        zeroRows(dV + offset, from: valid, to: length, columns: headDim, stride: width)

                        // dP = dO V^T over the valid keys, then dS = P * (dP - <dP, P>) row by row, in place.
                        Gemm.multiply(
                            transB: true, m: length, n: valid, k: headDim, a: dOut + offset, lda: width, b: v + offset,
                            ldb: width, c: scores, ldc: length, threads: 1)
                        if valid > 0 {
                            for i in 0..<length {
                                let pRow = p + i * length
                                let dRow = scores + i * length
                                let centre = Reduce.dot(dRow, pRow, count: valid)
                                for j in 0..<valid { dRow[j] = pRow[j] * (dRow[j] - centre) }
                            }
                        }

                        // dQ = scale dS K (zeros when no key is valid), dK = scale dS^T Q for the valid keys.
                        Gemm.multiply(
                            m: length, n: headDim, k: valid, alpha: scale, a: scores, lda: length, b: k + offset,
                            ldb: width, c: dQ + offset, ldc: width, threads: 1)
                        Gemm.multiply(
                            transA: true, m: valid, n: headDim, k: length, alpha: scale, a: scores, lda: length,
                            b: q + offset, ldb: width, c: dK + offset, ldc: width, threads: 1)
                        zeroRows(dK + offset, from: valid, to: length, columns: headDim, stride: width)
                    }
                }
            }
        }
    }

    /// One head's probabilities `softmax(scale * Q K^T)` over the valid keys (0 at masked keys), on one thread: the
    /// forward pass and the backward's recomputation both call it, so they agree bit for bit.
    static func headProbabilities(
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, width: Int, length: Int, valid: Int, headDim: Int,
        scale: Float, into p: UnsafeMutablePointer<Float>
    ) {
        Gemm.multiply(
            transB: true, m: length, n: valid, k: headDim, alpha: scale,
            a: q, lda: width, b: k, ldb: width, c: p, ldc: length, threads: 1)
        for row in 0..<length { softmaxRow(p + row * length, valid: valid, count: length) }
    }

    /// Softmax of the first `valid` entries of a row in place; entries `valid..<count` become 0.
    @inline(__always)
    static func softmaxRow(_ row: UnsafeMutablePointer<Float>, valid: Int, count: Int) {
        if valid > 0 {
            let peak = Reduce.max(row, count: valid)
            for j in 0..<valid { row[j] = FastMath.exp(row[j] - peak) }
            let inverse = 1 / Reduce.sum(row, count: valid)
            for j in 0..<valid { row[j] *= inverse }
        }
        if valid < count { (row + valid).update(repeating: 0, count: count - valid) }
    }

    /// Zeroes rows `from..<to` (each `columns` wide, `stride` apart) of a strided matrix.
    @inline(__always)
    static func zeroRows(_ base: UnsafeMutablePointer<Float>, from: Int, to: Int, columns: Int, stride: Int) {
        guard columns > 0 else { return }
        var row = from
        while row < to {
            (base + row * stride).update(repeating: 0, count: columns)
            row += 1
        }
    }
}

/// Nearest-centroid assignment by GEMM: `||x - c||^2 = ||x||^2 - 2 x.c + ||c||^2`, with the products `X C^T` computed
/// block of rows by block of rows, so the scores never take more than `blockRows * k` floats.
///
/// Ties go to the lowest centroid index; squared distances are clamped at 0 (rounding can make them slightly
/// negative). Deterministic for a given thread count (OpenBLAS's GEMM is); allocation-free.
public enum KMeansAssign {
    /// Rows per GEMM block for `k` centroids: about 4 M scores, between 64 and 8,192 rows.
    public static func blockRows(k: Int) -> Int { min(8_192, max(64, (1 << 22) / max(1, k))) }

    /// The products `x_r . c_j` of `count` rows (`[count, d]`) with `k` centroids into `scores`; returns where
    /// product (r, j) is: `r * rowStride + j * columnStride`. Few centroids are computed as centroids x rows
    /// (`[k, count]`), OpenBLAS's faster orientation for the thin product (about 1.4x at K = 64).
    @discardableResult
    public static func products(
        of rows: UnsafePointer<Float>, count: Int, d: Int, centroids: UnsafePointer<Float>, k: Int, into scores: UnsafeMutablePointer<Float>
    ) -> (rowStride: Int, columnStride: Int) {
        if k <= 128 {
            Gemm.multiply(transA: false, transB: true, m: k, n: count, k: d, a: centroids, lda: d, b: rows, ldb: d, c: scores, ldc: count)
            return (1, count)
        }
        Gemm.multiply(transA: false, transB: true, m: count, n: k, k: d, a: rows, lda: d, b: centroids, ldb: d, c: scores, ldc: k)
        return (k, 1)
    }

    /// Floats of workspace `assign` needs: the scores of one block and the centroids' squared norms.
    public static func workspaceCount(k: Int) -> Int { blockRows(k: k) * k + k }

    /// Labels (and, when given, squared distances) of `n` rows of `x` (`[n, d]`) against `k` centroids (`[k, d]`);
    /// `rowNorms` (`||x_i||^2`), when known, saves computing them for the distances.
    public static func assign(
        x: UnsafePointer<Float>, n: Int, d: Int, centroids: UnsafePointer<Float>, k: Int,
        labels: UnsafeMutablePointer<Int32>, distances: UnsafeMutablePointer<Float>?, workspace: UnsafeMutablePointer<Float>,
        rowNorms: UnsafePointer<Float>? = nil
    ) {
        guard n > 0, k > 0 else { return }
        let block = blockRows(k: k)
        let scores = workspace, norms = workspace + block * k
        squaredNorms(centroids, rows: k, d: d, into: norms)
        var start = 0
        while start < n {
            let rows = min(block, n - start)
            let (rowStride, columnStride) = products(of: x + start * d, count: rows, d: d, centroids: centroids, k: k, into: scores)
            Parallel.forChunks(rows, grain: max(1, 16_384 / max(1, k))) { range in
                for row in range {
                    let line = scores + row * rowStride
                    var best = 0
                    var bestValue = norms[0] - 2 * line[0]
                    for j in 1..<k {
                        let value = norms[j] - 2 * line[j * columnStride]
                        if value < bestValue { bestValue = value; best = j }
                    }
                    labels[start + row] = Int32(best)
                    if let distances {
                        let xNorm = rowNorms?[start + row] ?? Reduce.dot(x + (start + row) * d, x + (start + row) * d, count: d)
                        distances[start + row] = max(0, xNorm + bestValue)
                    }
                }
            }
            start += rows
        }
    }

    /// `out[i] = ||rows[i]||^2`.
    public static func squaredNorms(_ rows: UnsafePointer<Float>, rows count: Int, d: Int, into out: UnsafeMutablePointer<Float>) {
        Parallel.forChunks(count, grain: max(1, 65_536 / max(1, d))) { range in
            for i in range { out[i] = Reduce.dot(rows + i * d, rows + i * d, count: d) }
        }
    }
}

/// Cosine similarities between the rows of two matrices: `out[n, c] = <f_n, w_c> / (|f_n| |w_c|)` (norms floored at
/// 1e-12), the scores of an AM-Softmax head at prediction time.
public enum CosineSimilarity {
    /// Floats of workspace: room for both normalised matrices.
    public static func workspaceCount(rows: Int, classes: Int, dimension: Int) -> Int { (rows + classes) * dimension }

    public static func forward(
        features: UnsafePointer<Float>, weight: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
        workspace: UnsafeMutablePointer<Float>, rows: Int, classes: Int, dimension: Int
    ) {
        let normalizedFeatures = workspace, normalizedWeight = workspace + rows * dimension
        normalize(features, rows: rows, dimension: dimension, into: normalizedFeatures)
        normalize(weight, rows: classes, dimension: dimension, into: normalizedWeight)
        Gemm.multiply(transB: true, m: rows, n: classes, k: dimension, a: normalizedFeatures, lda: dimension,
                      b: normalizedWeight, ldb: dimension, c: out, ldc: classes)
    }

    static func normalize(_ x: UnsafePointer<Float>, rows: Int, dimension: Int, into out: UnsafeMutablePointer<Float>) {
        Parallel.forChunks(rows, grain: max(1, 16_384 / max(1, dimension))) { range in
            for row in range {
                let source = x + row * dimension, target = out + row * dimension
                let inverse = 1 / max(Reduce.dot(source, source, count: dimension).squareRoot(), 1e-12)
                for i in 0..<dimension { target[i] = source[i] * inverse }
            }
        }
    }
}

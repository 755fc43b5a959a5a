/// A fully connected layer `y = x W^T + b` with PyTorch's weight layout `W: [out, in]`.
///
/// `x: [rows, in]`, `y: [rows, out]`, `b: [out]` or nil. An activation after the bias runs in the GEMM's epilogue
/// (the fused `linear` + `gelu` of the compiler's fusion pass).
public enum Linear {
    public static func forward(
        x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        y: UnsafeMutablePointer<Float>, rows: Int, inFeatures: Int, outFeatures: Int, activation: Activation? = nil
    ) {
        Gemm.multiply(
            transB: true, m: rows, n: outFeatures, k: inFeatures, a: x, lda: inFeatures, b: weight, ldb: inFeatures,
            c: y, ldc: outFeatures, epilogue: Gemm.Epilogue(bias: bias, activation: activation))
    }

    /// Gradients of `forward`. Each output may be nil when not needed. With `accumulate` the weight and bias
    /// gradients are added to what the buffers hold (shared weights); `dx` is always overwritten.
    public static func backward(
        x: UnsafePointer<Float>, weight: UnsafePointer<Float>, dy: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>?, dBias: UnsafeMutablePointer<Float>?,
        rows: Int, inFeatures: Int, outFeatures: Int, accumulate: Bool = false
    ) {
        if let dx {
            Gemm.multiply(
                m: rows, n: inFeatures, k: outFeatures, a: dy, lda: outFeatures, b: weight, ldb: inFeatures,
                c: dx, ldc: inFeatures)
        }
        if let dWeight {
            Gemm.multiply(
                transA: true, m: outFeatures, n: inFeatures, k: rows, a: dy, lda: outFeatures, b: x, ldb: inFeatures,
                beta: accumulate ? 1 : 0, c: dWeight, ldc: inFeatures)
        }
        if let dBias {
            Reduce.sumRows(dy, rows: rows, columns: outFeatures, into: dBias, accumulate: accumulate)
        }
    }
}

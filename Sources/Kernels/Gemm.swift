import CBLAS

/// General matrix multiplication over row-major Float32 matrices through OpenBLAS's `cblas_sgemm`.
///
/// `C = alpha * op(A) * op(B) + beta * C`, where `op(A)` is `m x k` and `op(B)` is `k x n`. Leading dimensions
/// are row strides in elements, so sub-matrices and strided views (one head of a `[T, heads * d]` tensor, every
/// s-th frame of a signal) are passed without copies.
public enum Gemm {
    /// One GEMM. `transA` means `A` is stored `k x m`; `transB` means `B` is stored `n x k`.
    @inlinable
    public static func multiply(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            // BLAS leaves C untouched when k == 0 only if beta == 1; make the empty product explicit.
            for row in 0..<m {
                let out = c + row * ldc
                for column in 0..<n { out[column] = beta == 0 ? 0 : beta * out[column] }
            }
            return
        }
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// `count` independent GEMMs whose operands start `strideA`, `strideB` and `strideC` elements apart
    /// (a stride of 0 shares that operand across the batch).
    @inlinable
    public static func batched(
        count: Int, transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, strideA: Int,
        b: UnsafePointer<Float>, ldb: Int, strideB: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, strideC: Int
    ) {
        for index in 0..<count {
            multiply(
                transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                a: a + index * strideA, lda: lda, b: b + index * strideB, ldb: ldb,
                beta: beta, c: c + index * strideC, ldc: ldc)
        }
    }

    /// The number of floating-point operations of an `m x k` by `k x n` product (multiply and add counted).
    @inlinable
    public static func flops(m: Int, n: Int, k: Int) -> Double {
        2 * Double(m) * Double(n) * Double(k)
    }
}

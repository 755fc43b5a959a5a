#ifndef GMPTL_PACKED_GEMM_H
#define GMPTL_PACKED_GEMM_H

// Single-precision GEMM with AVX2 and FMA, for CPUs whose best OpenBLAS kernels are AVX2 ones.
//
// C = alpha * op(A) * op(B) + beta * C over row-major matrices, then an optional epilogue (a bias per column of C,
// then an activation), computed for one rectangle of C so that callers can split the work across threads. Both
// operands are packed per call into cache-sized blocks (A six rows at a time, B sixteen columns at a time), so
// leading dimensions only need to address the elements: overlapping rows (lda < k, the patches of a strided
// convolution read in place) are fine. Every element of C is computed by the same sequence of operations wherever
// its rectangle starts, so results do not depend on how the work is split.

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    GMPTL_GEMM_ACTIVATION_NONE = 0,
    // The exact GELU x * Phi(x) with the erf approximation of the Swift kernels (FastMath.erf).
    GMPTL_GEMM_ACTIVATION_GELU = 1,
} gmptl_gemm_activation;

// 1 when this CPU runs the kernel (AVX2, FMA and the OS saving YMM registers), else 0.
int gmptl_packed_gemm_supported(void);

// The product for rows [m0, m1) and columns [n0, n1) of C; k > 0. `transA`: A is stored k x m (else m x k);
// `transB`: B is stored n x k (else k x n). `bias` (nil or n floats) is added to every row after the product;
// `activation` is applied last. beta == 0 never reads C. Returns 0, or -1 when the per-thread workspace
// (about 0.9 MiB, allocated once per thread) cannot be allocated; C is untouched then.
int gmptl_packed_gemm(
    int transA, int transB, long k, float alpha,
    const float *a, long lda, const float *b, long ldb, float beta, float *c, long ldc,
    long m0, long m1, long n0, long n1, const float *bias, int activation);

// The blocking, for callers that split work: rows per micro-tile, columns per micro-tile, and the rows above which
// a rectangle packs A too (the tall path).
enum { GMPTL_GEMM_TILE_ROWS = 6, GMPTL_GEMM_TILE_COLUMNS = 16, GMPTL_GEMM_TALL_ROWS = 512 };

#ifdef __cplusplus
}
#endif

#endif

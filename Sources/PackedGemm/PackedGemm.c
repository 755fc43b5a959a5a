// Single-precision GEMM with AVX2 and FMA: B packed per call, A read in place, a 6 x 16 register tile, and a fused
// epilogue.
//
// Loop nest for one rectangle of C (GotoBLAS/BLIS order): for each block of NC columns, for each block of KC of the
// inner dimension, pack that block of B (KC x NC, 192 KiB: stays in L2) into panels of 16 columns, then for each
// group of 6 rows of A run the micro-kernel over every panel: 12 YMM accumulators, per step 2 loads of B, 6
// broadcasts of A and 12 FMAs. The first block of K writes C (alpha * AB + beta * C + bias), the others add to it,
// the last one applies the activation. The micro-kernel alone runs at 92 % of the FMA peak.
//
// KC = 768 and NC = 64 (2026-12-04, Zen 2, 2 threads, alternating in one sitting; were 384 and 128, chosen on square
// products): a depth up to 768 is one block, so C is read and written once, not two or three times. HuBERT base's
// 199-row linear products 4 % faster in the forward (221-224 -> 212-213 ms), its 1,592-row ones (tall path) 3 % (the
// forward at batch 8 2,604-2,614 -> 2,517-2,531 ms), the feature encoder's F(3, 2) products of depth 512 5-7 %. The
// B panel (768 x 16, 48 KiB) no longer fits L1 with A's six rows, but streams from L2 at the micro-kernel's pace.

#include "PackedGemm.h"

#include <cpuid.h>
#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { MR = GMPTL_GEMM_TILE_ROWS, NR = GMPTL_GEMM_TILE_COLUMNS, KC = 768, NC = 64 };

#ifndef TALL_MC
#define TALL_MC 96
#endif
#ifndef TALL_NC
#define TALL_NC 512
#endif
// Tall products (more than TALL_ROWS rows in a rectangle) pack A too: blocks of MC rows x KC (295 KiB, in L2) as
// MR-row micro-panels, B in blocks of KC x TALL_NC (1.5 MiB, in L3), each 16-column panel of it (48 KiB) staying in
// L2 next to the A block while the block's micro-panels pass. A is then read from memory once per block of K, not
// once per NC columns.
enum { TALL_ROWS = GMPTL_GEMM_TALL_ROWS, MC = TALL_MC, NCT = TALL_NC };

#define AVX2_FMA __attribute__((target("avx2,fma")))
#define INLINE static inline __attribute__((always_inline))

int gmptl_packed_gemm_supported(void) {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    int fma = (ecx >> 12) & 1, osxsave = (ecx >> 27) & 1, avx = (ecx >> 28) & 1;
    if (!(fma && osxsave && avx)) return 0;
    unsigned xcr0_low, xcr0_high;
    __asm__ volatile("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
    if ((xcr0_low & 6) != 6) return 0;  // XMM and YMM state saved by the OS
    if (__get_cpuid_max(0, 0) < 7) return 0;
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    return (ebx >> 5) & 1;  // AVX2
}

// One workspace per thread, kept for the thread's life: a packed block of B (the tall path's, the larger), then a
// packed block of A (and 8 floats of slack for the packing's overlapping stores).
static _Thread_local float *thread_workspace;
enum { WORKSPACE_B = KC * NCT, WORKSPACE_A = MC * KC + 8 };

static float *workspace(void) {
    if (!thread_workspace) thread_workspace = aligned_alloc(64, (size_t)(WORKSPACE_B + WORKSPACE_A) * sizeof(float));
    return thread_workspace;
}

static inline long min_long(long a, long b) { return a < b ? a : b; }

// Eight vectors of eight floats stored transposed: row k of the output (at out + k * outStride) holds element k
// of each input vector. Stores go in order, so rows narrower than eight (outStride < 8) overlap harmlessly.
AVX2_FMA INLINE void store_transposed(__m256 r0, __m256 r1, __m256 r2, __m256 r3, __m256 r4, __m256 r5, __m256 r6,
                                      __m256 r7, float *out, long outStride) {
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    _mm256_storeu_ps(out, _mm256_permute2f128_ps(s0, s4, 0x20));
    _mm256_storeu_ps(out + outStride, _mm256_permute2f128_ps(s1, s5, 0x20));
    _mm256_storeu_ps(out + 2 * outStride, _mm256_permute2f128_ps(s2, s6, 0x20));
    _mm256_storeu_ps(out + 3 * outStride, _mm256_permute2f128_ps(s3, s7, 0x20));
    _mm256_storeu_ps(out + 4 * outStride, _mm256_permute2f128_ps(s0, s4, 0x31));
    _mm256_storeu_ps(out + 5 * outStride, _mm256_permute2f128_ps(s1, s5, 0x31));
    _mm256_storeu_ps(out + 6 * outStride, _mm256_permute2f128_ps(s2, s6, 0x31));
    _mm256_storeu_ps(out + 7 * outStride, _mm256_permute2f128_ps(s3, s7, 0x31));
}

// Eight rows of eight floats transposed: out[k][j] = in[j][k]; rows `in + j * inStride`, `out + k * outStride`.
AVX2_FMA INLINE void transpose8x8(const float *in, long inStride, float *out, long outStride) {
    store_transposed(_mm256_loadu_ps(in), _mm256_loadu_ps(in + inStride), _mm256_loadu_ps(in + 2 * inStride),
                     _mm256_loadu_ps(in + 3 * inStride), _mm256_loadu_ps(in + 4 * inStride),
                     _mm256_loadu_ps(in + 5 * inStride), _mm256_loadu_ps(in + 6 * inStride),
                     _mm256_loadu_ps(in + 7 * inStride), out, outStride);
}

// B's block [k0, k0 + kc) x [j0, j0 + nc) as panels of NR columns, each kc x NR row-major; columns past the
// edge are zero.
AVX2_FMA static void pack_b(int transB, const float *b, long ldb, long k0, long kc, long j0, long nc, float *dst) {
    for (long p = 0; p < nc; p += NR) {
        long width = min_long(NR, nc - p);
        float *panel = dst + p * kc;
        if (!transB) {
            for (long k = 0; k < kc; k++) {
                const float *src = b + (k0 + k) * ldb + j0 + p;
                float *out = panel + k * NR;
                if (width == NR) {
                    _mm256_store_ps(out, _mm256_loadu_ps(src));
                    _mm256_store_ps(out + 8, _mm256_loadu_ps(src + 8));
                } else {
                    long j = 0;
                    for (; j < width; j++) out[j] = src[j];
                    for (; j < NR; j++) out[j] = 0;
                }
            }
        } else {
            // B stored n x k: each panel is the transpose of NR rows of B, eight by eight where whole.
            const float *rows = b + (j0 + p) * ldb + k0;
            long k = 0;
            if (width == NR) {
                for (; k + 8 <= kc; k += 8) {
                    transpose8x8(rows + k, ldb, panel + k * NR, NR);
                    transpose8x8(rows + 8 * ldb + k, ldb, panel + k * NR + 8, NR);
                }
            }
            for (long j = 0; j < width; j++)
                for (long kk = k; kk < kc; kk++) panel[kk * NR + j] = rows[j * ldb + kk];
            for (long j = width; j < NR; j++)
                for (long kk = 0; kk < kc; kk++) panel[kk * NR + j] = 0;
        }
    }
}

// A's rows [i0, i0 + rows) x [k0, k0 + kc) as micro-panels of MR rows, each kc x MR (element (r, k) at
// k * MR + r); rows past the edge are zero. Row-major A goes eight steps of k at a time through a transpose whose
// eight-float stores overlap (each step's two extra floats are overwritten by the next step).
AVX2_FMA static void pack_a(int transA, const float *a, long lda, long i0, long rows, long k0, long kc, float *dst) {
    for (long p = 0; p < rows; p += MR) {
        long height = min_long(MR, rows - p);
        float *panel = dst + p * kc;
        long k = 0;
        if (!transA && height == MR) {
            const float *src = a + (i0 + p) * lda + k0;
            for (; k + 8 <= kc; k += 8) {
                __m256 zero = _mm256_setzero_ps();
                store_transposed(_mm256_loadu_ps(src + k), _mm256_loadu_ps(src + lda + k),
                                 _mm256_loadu_ps(src + 2 * lda + k), _mm256_loadu_ps(src + 3 * lda + k),
                                 _mm256_loadu_ps(src + 4 * lda + k), _mm256_loadu_ps(src + 5 * lda + k), zero, zero,
                                 panel + k * MR, MR);
            }
        }
        for (; k < kc; k++) {
            float *out = panel + k * MR;
            long r = 0;
            for (; r < height; r++) out[r] = transA ? a[(k0 + k) * lda + i0 + p + r] : a[(i0 + p + r) * lda + k0 + k];
            for (; r < MR; r++) out[r] = 0;
        }
    }
}

// GELU x * 0.5 * (1 + erf(x / sqrt 2)) with FastMath.erf's rational approximation, operation for operation
// (separate multiplies and adds, as the Swift code compiles), so fused and unfused GELU agree.
AVX2_FMA INLINE __m256 gelu8(__m256 value) {
    __m256 x = _mm256_mul_ps(value, _mm256_set1_ps(0.70710678118654752f));
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-4.0f)), _mm256_set1_ps(4.0f));
    __m256 x2 = _mm256_mul_ps(x, x);
#define STEP(acc, c) acc = _mm256_add_ps(_mm256_mul_ps(acc, x2), _mm256_set1_ps(c))
    __m256 p = _mm256_set1_ps(-2.72614225801306e-10f);
    STEP(p, 2.77068142495902e-08f);
    STEP(p, -2.10102402082508e-06f);
    STEP(p, -5.69250639462346e-05f);
    STEP(p, -7.34990630326855e-04f);
    STEP(p, -2.95459980854025e-03f);
    STEP(p, -1.60960333262415e-02f);
    p = _mm256_mul_ps(p, x);
    __m256 q = _mm256_set1_ps(-1.45660718464996e-05f);
    STEP(q, -2.13374055278905e-04f);
    STEP(q, -1.68282697438203e-03f);
    STEP(q, -7.37332916720468e-03f);
    STEP(q, -1.42647390514189e-02f);
#undef STEP
    __m256 erf = _mm256_div_ps(p, q);
    __m256 half_x = _mm256_mul_ps(_mm256_set1_ps(0.5f), value);
    return _mm256_mul_ps(half_x, _mm256_add_ps(_mm256_set1_ps(1.0f), erf));
}

typedef struct {
    float alpha, beta;
    int first, last;       // first block of K (writes C), last block (applies the activation)
    const float *bias;     // at the tile's first column, or nil
    int activation;
} tile_store;

// Lanes [0, width) of a store mask over 8 floats, for width in 0...8.
static const int32_t mask_table[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

// One vector of the tile's result from its accumulator and, as the block requires, C's old values and the bias.
// `load` reads eight floats of C or of the bias: whole or masked, with the same arithmetic either way.
#define FINISH(acc, cell, bias, s, LOAD)                                                                       \
    ({                                                                                                         \
        __m256 v_ = _mm256_mul_ps(acc, _mm256_set1_ps((s)->alpha));                                            \
        if ((s)->first) {                                                                                      \
            if ((s)->beta != 0) v_ = _mm256_fmadd_ps(LOAD(cell), _mm256_set1_ps((s)->beta), v_);              \
            if (bias) v_ = _mm256_add_ps(v_, LOAD(bias));                                                      \
        } else {                                                                                               \
            v_ = _mm256_add_ps(LOAD(cell), v_);                                                                \
        }                                                                                                      \
        if ((s)->last && (s)->activation == GMPTL_GEMM_ACTIVATION_GELU) v_ = gelu8(v_);                      \
        v_;                                                                                                    \
    })

// The micro-kernel: C[rows x width] (+)= A slice (rows x kc, element (r, k) at a[r * rowStride + k * kStride])
// times a B panel (kc x NR packed). A is read in place: six rows of a row-major A are six short streams that stay in
// L1 while the panels pass; packing them would cost more than the block's reuse saves at a few hundred rows.
AVX2_FMA INLINE void tile(int rows, long kc, const float *a, long rowStride, long kStride, const float *pb, float *c,
                          long ldc, long width, const tile_store *s) {
    __m256 acc[MR][2];
    for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    // The C tile is read (or written) after the loop: fetch its lines now, so that misses on a C larger than the
    // caches overlap the products instead of stalling the stores (15-20 % at 6,399 x 512).
    for (int r = 0; r < rows; r++) {
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + r * ldc + 15), _MM_HINT_T0);
    }
    for (long k = 0; k < kc; k++) {
        __m256 b0 = _mm256_load_ps(pb), b1 = _mm256_load_ps(pb + 8);
        for (int r = 0; r < rows; r++) {
            __m256 broadcast = _mm256_broadcast_ss(a + r * rowStride);
            acc[r][0] = _mm256_fmadd_ps(broadcast, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(broadcast, b1, acc[r][1]);
        }
        a += kStride;
        pb += NR;
    }
    // Whole tiles load and store plainly: masked loads and stores cost several times more on some x86 cores (on Zen
    // 2, twelve masked stores a tile took a third of the time of a depth-64 tile: attention's Q K^T).
    if (width == NR) {
#define WHOLE(pointer) _mm256_loadu_ps(pointer)
        for (int r = 0; r < rows; r++) {
            float *cell = c + r * ldc;
            const float *bias = s->bias;
            _mm256_storeu_ps(cell, FINISH(acc[r][0], cell, bias, s, WHOLE));
            const float *bias8 = s->bias ? s->bias + 8 : 0;
            _mm256_storeu_ps(cell + 8, FINISH(acc[r][1], cell + 8, bias8, s, WHOLE));
        }
#undef WHOLE
        return;
    }
    long low = width < 8 ? width : 8, high = width > 8 ? width - 8 : 0;
    __m256i mask0 = _mm256_loadu_si256((const __m256i *)(mask_table + 8 - low));
    __m256i mask1 = _mm256_loadu_si256((const __m256i *)(mask_table + 8 - high));
#define MASKED0(pointer) _mm256_maskload_ps(pointer, mask0)
#define MASKED1(pointer) _mm256_maskload_ps(pointer, mask1)
    for (int r = 0; r < rows; r++) {
        float *cell = c + r * ldc;
        const float *bias = s->bias;
        _mm256_maskstore_ps(cell, mask0, FINISH(acc[r][0], cell, bias, s, MASKED0));
        if (high > 0) {
            const float *bias8 = s->bias ? s->bias + 8 : 0;
            _mm256_maskstore_ps(cell + 8, mask1, FINISH(acc[r][1], cell + 8, bias8, s, MASKED1));
        }
    }
#undef MASKED0
#undef MASKED1
}

// Specialised per row count (and per layout of A, so the strides are constants or a single register).
#define TILE_CASES(ROW_STRIDE, K_STRIDE)                                                                       \
    switch (rows) {                                                                                            \
    case 6: tile(6, kc, a, ROW_STRIDE, K_STRIDE, pb, c, ldc, width, s); break;                                 \
    case 5: tile(5, kc, a, ROW_STRIDE, K_STRIDE, pb, c, ldc, width, s); break;                                 \
    case 4: tile(4, kc, a, ROW_STRIDE, K_STRIDE, pb, c, ldc, width, s); break;                                 \
    case 3: tile(3, kc, a, ROW_STRIDE, K_STRIDE, pb, c, ldc, width, s); break;                                 \
    case 2: tile(2, kc, a, ROW_STRIDE, K_STRIDE, pb, c, ldc, width, s); break;                                 \
    default: tile(1, kc, a, ROW_STRIDE, K_STRIDE, pb, c, ldc, width, s); break;                                \
    }

AVX2_FMA static void tile_rows(int transA, long rows, long kc, const float *a, long lda, const float *pb, float *c,
                               long ldc, long width, const tile_store *s) {
    if (!transA) {
        TILE_CASES(lda, 1)
    } else {
        TILE_CASES(1, lda)
    }
}

AVX2_FMA static void tile_rows_packed(long rows, long kc, const float *a, const float *pb, float *c, long ldc,
                                      long width, const tile_store *s) {
    TILE_CASES(1, MR)
}

// The tall path: A packed per block of MC rows (see TALL_ROWS).
AVX2_FMA static void tall_gemm(
    int transA, int transB, long k, float alpha, const float *a, long lda, const float *b, long ldb, float beta,
    float *c, long ldc, long m0, long m1, long n0, long n1, const float *bias, int activation, float *packedB,
    float *packedA) {
    for (long j0 = n0; j0 < n1; j0 += NCT) {
        long nc = min_long(NCT, n1 - j0);
        for (long k0 = 0; k0 < k; k0 += KC) {
            long kc = min_long(KC, k - k0);
            pack_b(transB, b, ldb, k0, kc, j0, nc, packedB);
            tile_store s = {alpha, beta, k0 == 0, k0 + kc >= k, 0, activation};
            for (long i0 = m0; i0 < m1; i0 += MC) {
                long mc = min_long(MC, m1 - i0);
                pack_a(transA, a, lda, i0, mc, k0, kc, packedA);
                for (long p = 0; p < nc; p += NR) {
                    s.bias = bias ? bias + j0 + p : 0;
                    for (long r = 0; r < mc; r += MR) {
                        tile_rows_packed(min_long(MR, mc - r), kc, packedA + r * kc, packedB + p * kc,
                                         c + (i0 + r) * ldc + j0 + p, ldc, min_long(NR, nc - p), &s);
                    }
                }
            }
        }
    }
}

AVX2_FMA int gmptl_packed_gemm(
    int transA, int transB, long k, float alpha,
    const float *a, long lda, const float *b, long ldb, float beta, float *c, long ldc,
    long m0, long m1, long n0, long n1, const float *bias, int activation) {
    float *packedB = workspace();
    if (!packedB) return -1;
    if (m1 - m0 > TALL_ROWS) {
        tall_gemm(transA, transB, k, alpha, a, lda, b, ldb, beta, c, ldc, m0, m1, n0, n1, bias, activation, packedB,
                  packedB + WORKSPACE_B);
        return 0;
    }
    for (long j0 = n0; j0 < n1; j0 += NC) {
        long nc = min_long(NC, n1 - j0);
        for (long k0 = 0; k0 < k; k0 += KC) {
            long kc = min_long(KC, k - k0);
            pack_b(transB, b, ldb, k0, kc, j0, nc, packedB);
            tile_store s = {alpha, beta, k0 == 0, k0 + kc >= k, 0, activation};
            for (long i0 = m0; i0 < m1; i0 += MR) {
                long rows = min_long(MR, m1 - i0);
                const float *slice = transA ? a + k0 * lda + i0 : a + i0 * lda + k0;
                // The next six rows of a row-major A into L1 while this slice runs (3-5 % at a thousand rows).
                if (!transA && i0 + MR < m1) {
                    long nextRows = min_long(MR, m1 - i0 - MR);
                    for (long r = 0; r < nextRows; r++) {
                        const char *row = (const char *)(slice + (MR + r) * lda);
                        for (long byte = 0; byte < kc * 4; byte += 64) _mm_prefetch(row + byte, _MM_HINT_T0);
                    }
                }
                for (long p = 0; p < nc; p += NR) {
                    s.bias = bias ? bias + j0 + p : 0;
                    tile_rows(transA, rows, kc, slice, lda, packedB + p * kc, c + i0 * ldc + j0 + p, ldc,
                              min_long(NR, nc - p), &s);
                }
            }
        }
    }
    return 0;
}

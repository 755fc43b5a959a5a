import Foundation
import Kernels
import Testing

/// The packed AVX2 GEMM against naive Float64 loops, at shapes that cover every edge of its blocking (row groups
/// of 6, panels of 16 columns, blocks of 384 of the inner dimension and 128 columns), its fused epilogue, and its
/// independence from the way the work is split.
@Suite("Packed GEMM", .enabled(if: Gemm.packedSupported, "the CPU lacks AVX2 and FMA"))
struct PackedGemmTests {
    /// Naive `alpha op(A) op(B) + beta C (+ bias, GELU)` in Float64 over the stored matrices.
    static func naive(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double, a: TestBuffer, lda: Int, b: TestBuffer,
        ldb: Int, beta: Double, c: [Double], ldc: Int, bias: TestBuffer? = nil, gelu: Bool = false
    ) -> [Double] {
        var out = c
        for i in 0..<m {
            for j in 0..<n {
                var total = 0.0
                for p in 0..<k {
                    total += Double(transA ? a[p * lda + i] : a[i * lda + p]) * Double(transB ? b[j * ldb + p] : b[p * ldb + j])
                }
                var value = alpha * total + (beta == 0 ? 0 : beta * c[i * ldc + j])
                if let bias { value += Double(bias[j]) }
                if gelu { value = 0.5 * value * (1 + erf(value / 2.0.squareRoot())) }
                out[i * ldc + j] = value
            }
        }
        return out
    }

    @Test("every transpose, odd sizes across the block edges, alpha and beta",
          arguments: [(false, false), (true, false), (false, true), (true, true)])
    func transposes(transA: Bool, transB: Bool) {
        for (m, n, k) in [(1, 1, 1), (7, 17, 5), (13, 33, 385), (6, 16, 384), (25, 130, 770)] {
            let lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 2, ldc = n + 1
            let a = TestBuffer(random: (transA ? k : m) * lda, seed: 1)
            let b = TestBuffer(random: (transB ? n : k) * ldb, seed: 2)
            let c = TestBuffer(random: m * ldc, seed: 3)
            let expected = Self.naive(
                transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda, b: b, ldb: ldb,
                beta: 2, c: c.doubles, ldc: ldc)
            Gemm.multiply(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a.readOnly, lda: lda,
                          b: b.readOnly, ldb: ldb, beta: 2, c: c.pointer, ldc: ldc, engine: .packed)
            expectClose(c.array, expected, "packed \(m)x\(n)x\(k) transA \(transA) transB \(transB)")
        }
    }

    @Test("tall products (A packed per block of rows) against naive loops, every transpose",
          arguments: [(false, false), (true, false), (false, true), (true, true)])
    func tall(transA: Bool, transB: Bool) {
        let (m, n, k) = (700, 37, 390)
        let lda = (transA ? m : k) + 1, ldb = (transB ? k : n) + 3, ldc = n + 2
        let a = TestBuffer(random: (transA ? k : m) * lda, seed: 21)
        let b = TestBuffer(random: (transB ? n : k) * ldb, seed: 22)
        let c = TestBuffer(random: m * ldc, seed: 23), bias = TestBuffer(random: n, seed: 24)
        let expected = Self.naive(
            transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1.5, a: a, lda: lda, b: b, ldb: ldb,
            beta: 0.5, c: c.doubles, ldc: ldc, bias: bias, gelu: true)
        Gemm.multiply(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1.5, a: a.readOnly, lda: lda,
                      b: b.readOnly, ldb: ldb, beta: 0.5, c: c.pointer, ldc: ldc,
                      epilogue: Gemm.Epilogue(bias: bias.readOnly, activation: .gelu), threads: 1, engine: .packed)
        // Only the first n columns of each row are C; the padding columns keep their values.
        var got = c.array, want = expected
        for row in 0..<m { for column in n..<ldc { got[row * ldc + column] = 0; want[row * ldc + column] = 0 } }
        expectClose(got, want, "tall \(m)x\(n)x\(k) transA \(transA) transB \(transB)")
    }

    @Test("beta 0 never reads C (NaN there stays out of the result)")
    func betaZeroIgnoresC() {
        let (m, n, k) = (9, 20, 11)
        let a = TestBuffer(random: m * k, seed: 4), b = TestBuffer(random: k * n, seed: 5)
        let c = TestBuffer(count: m * n)
        c.pointer.update(repeating: .nan, count: m * n)
        Gemm.multiply(m: m, n: n, k: k, a: a.readOnly, lda: k, b: b.readOnly, ldb: n, c: c.pointer, ldc: n, engine: .packed)
        let expected = Self.naive(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: n,
                                  beta: 0, c: [Double](repeating: 0, count: m * n), ldc: n)
        expectClose(c.array, expected, "beta 0")
    }

    @Test("fused bias and GELU against the product, then the bias, then the GELU kernel", arguments: Gemm.Engine.allCases)
    func epilogue(engine: Gemm.Engine) {
        guard engine == .openBLAS || Gemm.packedSupported else { return }
        let (m, n, k) = (31, 70, 400)
        let x = TestBuffer(random: m * k, seed: 6), w = TestBuffer(random: n * k, seed: 7), bias = TestBuffer(random: n, seed: 8)
        let fused = TestBuffer(count: m * n)
        Gemm.multiply(transB: true, m: m, n: n, k: k, a: x.readOnly, lda: k, b: w.readOnly, ldb: k, c: fused.pointer,
                      ldc: n, epilogue: Gemm.Epilogue(bias: bias.readOnly, activation: .gelu), engine: engine)
        let expected = Self.naive(transA: false, transB: true, m: m, n: n, k: k, alpha: 1, a: x, lda: k, b: w, ldb: k,
                                  beta: 0, c: [Double](repeating: 0, count: m * n), ldc: n, bias: bias, gelu: true)
        expectClose(fused.array, expected, "fused epilogue (\(engine.rawValue))")
    }

    @Test("overlapping rows of A (leading dimension below k): a strided convolution's patches read in place")
    func overlappingRows() {
        // 512 -> 16 channels, kernel 3, stride 2 over 40 frames of 8 channels: row t of A starts at 2t * 8.
        let (channels, frames, taps, stride, outChannels) = (8, 40, 3, 2, 16)
        let rows = (frames - taps) / stride + 1, k = taps * channels
        let x = TestBuffer(random: frames * channels, seed: 9), w = TestBuffer(random: outChannels * k, seed: 10)
        let y = TestBuffer(count: rows * outChannels)
        Gemm.multiply(transB: true, m: rows, n: outChannels, k: k, a: x.readOnly, lda: stride * channels,
                      b: w.readOnly, ldb: k, c: y.pointer, ldc: outChannels, engine: .packed)
        var expected = [Double](repeating: 0, count: rows * outChannels)
        for t in 0..<rows {
            for o in 0..<outChannels {
                var total = 0.0
                for p in 0..<k { total += Double(x[t * stride * channels + p]) * Double(w[o * k + p]) }
                expected[t * outChannels + o] = total
            }
        }
        expectClose(y.array, expected, "overlapping rows")
    }

    @Test("bitwise the same whatever the split: 1 and 2 threads, column and row splits")
    func splitIndependence() {
        // 200 x 800 splits by columns; 900 x 20 by rows (too few panels for two threads): one thread takes the tall
        // path (A packed), two threads 450 rows each the short one, and the bits must not change.
        for (m, n, k) in [(200, 800, 300), (900, 20, 300)] {
            let a = TestBuffer(random: m * k, seed: 11), b = TestBuffer(random: n * k, seed: 12), bias = TestBuffer(random: n, seed: 13)
            ThreadContract.expectBitwiseAcrossThreads {
                let c = TestBuffer(count: m * n)
                Gemm.multiply(transB: true, m: m, n: n, k: k, a: a.readOnly, lda: k, b: b.readOnly, ldb: k, c: c.pointer,
                              ldc: n, epilogue: Gemm.Epilogue(bias: bias.readOnly, activation: .gelu), engine: .packed)
                return [c.array]
            }
        }
    }

    @Test("the engine choice: packed on AVX2 CPUs, OpenBLAS on AVX-512 ones, the variable obeyed when it can be")
    func engineChoice() {
        #expect(Gemm.select(variable: nil, cpuTier: .avx2, packedSupported: true).engine == .packed)
        #expect(Gemm.select(variable: nil, cpuTier: .avx512, packedSupported: true).engine == .openBLAS)
        #expect(Gemm.select(variable: nil, cpuTier: .avx512bf16, packedSupported: true).engine == .openBLAS)
        #expect(Gemm.select(variable: nil, cpuTier: .sse, packedSupported: false).engine == .openBLAS)
        #expect(Gemm.select(variable: "openblas", cpuTier: .avx2, packedSupported: true).engine == .openBLAS)
        #expect(Gemm.select(variable: "packed", cpuTier: .avx512, packedSupported: true).engine == .packed)
        let refused = Gemm.select(variable: "packed", cpuTier: .sse, packedSupported: false)
        #expect(refused.engine == .openBLAS && refused.reason.contains("lacks AVX2"))
        let unknown = Gemm.select(variable: "mkl", cpuTier: .avx2, packedSupported: true)
        #expect(unknown.engine == .packed && unknown.reason.contains("GMPTL_GEMM=mkl is not an engine"))
    }
}

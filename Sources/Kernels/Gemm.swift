import CBLAS
import Foundation
import PackedGemm

/// General matrix multiplication over row-major Float32 matrices.
///
/// `C = alpha * op(A) * op(B) + beta * C`, where `op(A)` is `m x k` and `op(B)` is `k x n`. Leading dimensions
/// are row strides in elements, so sub-matrices and strided views (one head of a `[T, heads * d]` tensor, every
/// s-th frame of a signal) are passed without copies.
///
/// Two engines run the products (`Gemm.engine`): our packed AVX2 kernel (`PackedGemm`, C) on CPUs whose best
/// OpenBLAS kernels are AVX2 ones, where it beats OpenBLAS's threading at the transformer's shapes and adds a fused
/// epilogue (bias, GELU); OpenBLAS's `cblas_sgemm` elsewhere (AVX-512 CPUs, where its kernels are twice as wide,
/// and CPUs without AVX2). `GMPTL_GEMM=openblas` or `GMPTL_GEMM=packed` forces one.
public enum Gemm {
    /// The implementation of the products.
    public enum Engine: String, Sendable, CaseIterable {
        /// `cblas_sgemm` of the OpenBLAS core in use (`BLASCore`).
        case openBLAS = "openblas"
        /// The packed AVX2 + FMA kernel of the `PackedGemm` target, threaded by `Parallel`.
        case packed
    }

    /// Whether this CPU runs the packed kernel (AVX2 and FMA).
    public static let packedSupported: Bool = gmptl_packed_gemm_supported() != 0

    /// The engine of this process and why, decided once from the CPU and `GMPTL_GEMM`.
    public static let selection: (engine: Engine, reason: String) = select(
        variable: ProcessInfo.processInfo.environment["GMPTL_GEMM"], cpuTier: BLASCore.tier(of: CPUIdentity.current),
        packedSupported: packedSupported)

    public static var engine: Engine { selection.engine }

    /// The engine choice (a pure function, for tests): the variable's engine when set and runnable; otherwise the
    /// packed kernel exactly when the CPU's best OpenBLAS tier is AVX2.
    public static func select(variable: String?, cpuTier: BLASCore.Tier, packedSupported: Bool)
        -> (engine: Engine, reason: String)
    {
        if let variable, !variable.isEmpty {
            guard let chosen = Engine(rawValue: variable.lowercased()) else {
                return (defaultEngine(cpuTier, packedSupported).engine,
                        "GMPTL_GEMM=\(variable) is not an engine (openblas, packed); "
                            + defaultEngine(cpuTier, packedSupported).reason)
            }
            if chosen == .packed && !packedSupported {
                return (.openBLAS, "GMPTL_GEMM=packed, but this CPU lacks AVX2 and FMA")
            }
            return (chosen, "GMPTL_GEMM=\(chosen.rawValue)")
        }
        return defaultEngine(cpuTier, packedSupported)
    }

    private static func defaultEngine(_ tier: BLASCore.Tier, _ packedSupported: Bool) -> (engine: Engine, reason: String) {
        if !packedSupported { return (.openBLAS, "the CPU lacks AVX2 and FMA") }
        if tier >= .avx512 { return (.openBLAS, "OpenBLAS's AVX-512 kernels are wider than the packed AVX2 kernel") }
        return (.packed, "the CPU's best kernels are AVX2 ones, where the packed kernel is faster")
    }

    /// What follows the product in the same pass over C: a bias per column, then an activation.
    public struct Epilogue {
        public var bias: UnsafePointer<Float>?
        /// `.gelu` or nil (the other activations are not fused).
        public var activation: Activation?

        public init(bias: UnsafePointer<Float>? = nil, activation: Activation? = nil) {
            self.bias = bias
            self.activation = activation
        }

        public static var none: Epilogue { Epilogue() }
        public var isNone: Bool { bias == nil && activation == nil }
    }

    /// One GEMM. `transA` means `A` is stored `k x m`; `transB` means `B` is stored `n x k`. `threads` caps the
    /// threads of this product (1 inside a caller's own parallel loop); the epilogue runs after `beta * C` is added.
    /// `engine` forces one (tests, benchmarks); by default the process's engine (`Gemm.engine`) runs every form and
    /// height. Measured on Zen 2 (2 threads, alternating in one sitting): alone, OpenBLAS ran some backward shapes
    /// (`dy W`, `dy^T x`) and 1,592-row products a few percent faster than the packed kernel, but a process that
    /// mixes the two engines loses more than that, as OpenBLAS's worker threads keep spinning after each call and
    /// compete with the kernel threads of the next product: with every product on the packed kernel the training
    /// step at batch 1 took 997-1,047 ms against 1,178-1,277 with the backward products on OpenBLAS, and the forward
    /// at batch 8 3,149-3,313 ms against 3,415-3,466 (docs/performance.md).
    @inlinable
    public static func multiply(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, epilogue: Epilogue = .none, threads: Int? = nil,
        engine: Engine? = nil
    ) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            // BLAS leaves C untouched when k == 0 only if beta == 1; make the empty product explicit.
            for row in 0..<m {
                let out = c + row * ldc
                for column in 0..<n { out[column] = beta == 0 ? 0 : beta * out[column] }
            }
            applyEpilogue(epilogue, c: c, m: m, n: n, ldc: ldc)
            return
        }
        switch engine ?? Self.engine {
        case .packed:
            packedMultiply(
                transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                beta: beta, c: c, ldc: ldc, epilogue: epilogue, threads: threads ?? KernelThreads.count)
        case .openBLAS:
            openBLASMultiply(
                transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                beta: beta, c: c, ldc: ldc, threads: threads)
            applyEpilogue(epilogue, c: c, m: m, n: n, ldc: ldc)
        }
    }

    @usableFromInline
    static func openBLASMultiply(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int?
    ) {
        // OpenBLAS's thread count is process-wide; the callers that pass 1 set it themselves around their loop.
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// The epilogue as separate passes (the OpenBLAS engine and the empty product).
    @usableFromInline
    static func applyEpilogue(_ epilogue: Epilogue, c: UnsafeMutablePointer<Float>, m: Int, n: Int, ldc: Int) {
        guard !epilogue.isNone else { return }
        let bias = epilogue.bias, activation = epilogue.activation
        Parallel.forChunks(m, grain: max(1, 16_384 / max(1, n))) { rows in
            for row in rows {
                let out = c + row * ldc
                if let bias { for column in 0..<n { out[column] += bias[column] } }
                if let activation {
                    switch activation {
                    case .gelu: for column in 0..<n { out[column] = FastMath.gelu(out[column]) }
                    default: activation.forward(out, out, count: n)
                    }
                }
            }
        }
    }

    /// Products smaller than this many multiply-adds run on one thread (a fork costs about 10 microseconds).
    @usableFromInline static let parallelThreshold = 1 << 19

    @usableFromInline
    static func packedMultiply(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
        epilogue: Epilogue, threads: Int
    ) {
        func run(rows: Range<Int>, columns: Range<Int>) {
            packedRectangle(transA: transA, transB: transB, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta,
                            c: c, ldc: ldc, rows: rows, columns: columns, epilogue: epilogue)
        }
        let tileRows = Int(GMPTL_GEMM_TILE_ROWS), tileColumns = Int(GMPTL_GEMM_TILE_COLUMNS)
        guard threads > 1, m * n * k >= parallelThreshold else {
            run(rows: 0..<m, columns: 0..<n)
            return
        }
        // Split so that each thread packs the fewest elements: by columns, each thread packs its share of B and,
        // on the tall path (more than `tallRows` rows), all of A; by rows, its share of A and all of B. Short
        // products read A in place, so columns (when there are enough for every thread). Tall ones by rows when
        // that packs less: HuBERT's feature encoder 8-14 % faster (6,399 x 1,536 A against a 512 x 1,536 B), the
        // 1,592-row linear products and their gradients up to 15 %.
        let panels = (n + tileColumns - 1) / tileColumns
        if splitsByColumns(m: m, n: n, k: k, panels: panels, threads: threads) {
            Parallel.forChunks(panels, threads: threads) { range in
                run(rows: 0..<m, columns: range.lowerBound * tileColumns..<min(n, range.upperBound * tileColumns))
            }
        } else {
            let groups = (m + tileRows - 1) / tileRows
            Parallel.forChunks(groups, threads: threads) { range in
                run(rows: range.lowerBound * tileRows..<min(m, range.upperBound * tileRows), columns: 0..<n)
            }
        }
    }

    /// Whether the packed engine splits a product across `threads` by columns (`panels` of 16 each) rather than by
    /// rows: by columns while there are panels for every thread and the product is short, or tall but packing
    /// less that way (`packedMultiply`, `multiplyGroup`).
    @usableFromInline
    static func splitsByColumns(m: Int, n: Int, k: Int, panels: Int, threads: Int) -> Bool {
        let tall = m > Int(GMPTL_GEMM_TALL_ROWS)
        let byRows = tall && m * k / threads + n * k < m * k + n * k / threads
        return panels >= 2 * threads && !byRows
    }

    /// One rectangle of C on the packed kernel (on OpenBLAS when the thread has no packing workspace).
    @usableFromInline
    static func packedRectangle(
        transA: Bool, transB: Bool, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>,
        ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, rows: Range<Int>, columns: Range<Int>,
        epilogue: Epilogue
    ) {
        // The kernel applies GELU itself; another activation runs over the rectangle after it.
        let activation: Int32 = epilogue.activation == .gelu ? Int32(GMPTL_GEMM_ACTIVATION_GELU.rawValue) : 0
        let at = rows.lowerBound, from = columns.lowerBound
        let status = gmptl_packed_gemm(
            transA ? 1 : 0, transB ? 1 : 0, k, alpha, a, lda, b, ldb, beta, c, ldc,
            rows.lowerBound, rows.upperBound, columns.lowerBound, columns.upperBound, epilogue.bias, activation)
        if status != 0 {
            // No workspace for this thread (out of memory): OpenBLAS computes the same rectangle, then the whole
            // epilogue.
            openBLASMultiply(
                transA: transA, transB: transB, m: rows.count, n: columns.count, k: k, alpha: alpha,
                a: a + (transA ? at : at * lda), lda: lda, b: b + (transB ? from * ldb : from), ldb: ldb,
                beta: beta, c: c + at * ldc + from, ldc: ldc, threads: 1)
            applyEpilogue(Epilogue(bias: epilogue.bias.map { $0 + from }, activation: epilogue.activation),
                          c: c + at * ldc + from, m: rows.count, n: columns.count, ldc: ldc)
        } else if let other = epilogue.activation, other != .gelu {
            applyEpilogue(Epilogue(activation: other), c: c + at * ldc + from, m: rows.count, n: columns.count, ldc: ldc)
        }
    }

    /// Runs `body`, where the caller runs one-thread products side by side on its own threads (`threads: 1`):
    /// OpenBLAS's thread count, which is process-wide, is 1 meanwhile, so its products do not fork inside ours.
    public static func serialProducts<Result>(_ body: () throws -> Result) rethrows -> Result {
        let saved = openblas_get_num_threads()
        guard saved > 1 else { return try body() }
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(saved) }
        return try body()
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

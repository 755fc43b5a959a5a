#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Additive-margin softmax loss (AM-Softmax, Wang et al. 2018) over cosine similarities to class weight vectors.
///
/// Layouts (Float32, row-major; `N` is `rows`, `D` is `dimension`, `C` is `classes`):
/// - `features`, `dFeatures`, `normalizedFeatures`: `[N, D]`; `featureNorms`: `[N]`.
/// - `weight`, `dWeight`, `normalizedWeight`: `[C, D]` (no bias); `weightNorms`: `[C]`.
/// - `targets`: Int32 `[N]`; `cosine`: `[N, C]`; `logSumExp`: `[N]`.
///
/// Semantics: `fn = f / max(|f|, eps)`, `wn = W / max(|W_c|, eps)` (L2 norms over D, `eps = 1e-12`, as PyTorch's
/// `normalize`); `cosine = fn wn^T`; `logits = s * (cosine - m * onehot(y))`;
/// `loss = mean over counted rows of -log softmax(logits_i)[y_i]` (0 when no row is counted). Predict with the
/// argmax of `cosine`.
///
/// Targets outside `0..<C` never trap: such rows are not counted (no loss, no gradient) and `forward` reports
/// how many there were; the mean is over the remaining rows.
///
/// `forward` saves the normalised features and weights, their norms (after the eps guard) and each row's
/// log-sum-exp into caller-provided buffers; `backward` reads them back. Rows are processed in parallel, each in
/// a fixed order, and the loss is summed in Double in row order, so results do not depend on the thread count.
public enum AMSoftmax {
    /// The guard on L2 norms (PyTorch's `normalize` default).
    public static let normEpsilon: Float = 1e-12

    /// What `forward` reports.
    public struct Result: Sendable, Equatable {
        /// Mean cross-entropy of the margin logits over the counted rows.
        public var loss: Float
        /// Rows whose target is outside `0..<C` (not counted).
        public var invalidTargets: Int

        public init(loss: Float, invalidTargets: Int) {
            self.loss = loss
            self.invalidTargets = invalidTargets
        }
    }

    /// Floats of `backward`'s scratch `workspace`: the cosine gradient, `rows * classes`.
    public static func backwardWorkspaceCount(rows: Int, classes: Int) -> Int {
        rows * classes
    }

    /// The AM-Softmax loss; writes `cosine` and saves `normalizedFeatures`, `featureNorms`, `normalizedWeight`,
    /// `weightNorms` and `logSumExp` for `backward`.
    @discardableResult
    public static func forward(
        features: UnsafePointer<Float>, weight: UnsafePointer<Float>, targets: UnsafePointer<Int32>,
        scale: Float, margin: Float,
        cosine: UnsafeMutablePointer<Float>,
        normalizedFeatures: UnsafeMutablePointer<Float>, featureNorms: UnsafeMutablePointer<Float>,
        normalizedWeight: UnsafeMutablePointer<Float>, weightNorms: UnsafeMutablePointer<Float>,
        logSumExp: UnsafeMutablePointer<Float>,
        rows: Int, dimension: Int, classes: Int
    ) -> Result {
        guard rows > 0 else {
            normalizeRows(weight, rows: classes, columns: dimension, into: normalizedWeight, norms: weightNorms)
            return Result(loss: 0, invalidTargets: 0)
        }
        normalizeRows(features, rows: rows, columns: dimension, into: normalizedFeatures, norms: featureNorms)
        normalizeRows(weight, rows: classes, columns: dimension, into: normalizedWeight, norms: weightNorms)
        Gemm.multiply(
            transB: true, m: rows, n: classes, k: dimension, a: normalizedFeatures, lda: dimension,
            b: normalizedWeight, ldb: dimension, c: cosine, ldc: classes)

        Parallel.forChunks(rows, grain: max(1, 4_096 / max(1, classes))) { range in
            for row in range {
                let target = validTarget(targets[row], classes: classes)
                logSumExp[row] = rowLogSumExp(
                    cosine + row * classes, target: target, count: classes, scale: scale, margin: margin)
            }
        }

        var total = 0.0
        var counted = 0
        for row in 0..<rows {
            let target = validTarget(targets[row], classes: classes)
            guard target >= 0 else { continue }
            let targetLogit = logit(cosine[row * classes + target], isTarget: true, scale: scale, margin: margin)
            total += Double(logSumExp[row]) - Double(targetLogit)
            counted += 1
        }
        let loss = counted == 0 ? 0 : Float(total / Double(counted))
        return Result(loss: loss, invalidTargets: rows - counted)
    }

    /// Gradients of `forward`'s loss scaled by `dLoss`, through both normalisations
    /// (`df = (dfn - fn <dfn, fn>) / |f|`, or `dfn / eps` where the guard was active). `dFeatures` and `dWeight`
    /// are overwritten; `workspace` holds `backwardWorkspaceCount(rows:classes:)` floats.
    public static func backward(
        dLoss: Float, targets: UnsafePointer<Int32>, scale: Float, margin: Float,
        cosine: UnsafePointer<Float>,
        normalizedFeatures: UnsafePointer<Float>, featureNorms: UnsafePointer<Float>,
        normalizedWeight: UnsafePointer<Float>, weightNorms: UnsafePointer<Float>,
        logSumExp: UnsafePointer<Float>,
        dFeatures: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>,
        workspace: UnsafeMutablePointer<Float>,
        rows: Int, dimension: Int, classes: Int
    ) {
        var counted = 0
        for row in 0..<max(0, rows) where validTarget(targets[row], classes: classes) >= 0 { counted += 1 }
        if counted == 0 || classes == 0 {
            if dimension > 0 {
                if rows > 0 { dFeatures.update(repeating: 0, count: rows * dimension) }
                if classes > 0 { dWeight.update(repeating: 0, count: classes * dimension) }
            }
            return
        }

        // dCosine = s * dLoss / counted * (softmax(logits) - onehot(y)), zero rows for uncounted rows.
        let dCosine = workspace
        let factor = scale * dLoss / Float(counted)
        Parallel.forChunks(rows, grain: max(1, 4_096 / classes)) { range in
            for row in range {
                let gradient = dCosine + row * classes
                let target = validTarget(targets[row], classes: classes)
                if target < 0 {
                    gradient.update(repeating: 0, count: classes)
                    continue
                }
                let c = cosine + row * classes
                let shift = logSumExp[row]
                for j in 0..<classes {
                    let z = logit(c[j], isTarget: j == target, scale: scale, margin: margin)
                    gradient[j] = factor * FastMath.exp(z - shift)
                }
                gradient[target] -= factor
            }
        }

        // Through cosine = fn wn^T, then through the normalisations in place.
        Gemm.multiply(
            m: rows, n: dimension, k: classes, a: dCosine, lda: classes, b: normalizedWeight, ldb: dimension,
            c: dFeatures, ldc: dimension)
        Gemm.multiply(
            transA: true, m: classes, n: dimension, k: rows, a: dCosine, lda: classes, b: normalizedFeatures,
            ldb: dimension, c: dWeight, ldc: dimension)
        normalizeBackward(dFeatures, normalized: normalizedFeatures, norms: featureNorms, rows: rows, columns: dimension)
        normalizeBackward(dWeight, normalized: normalizedWeight, norms: weightNorms, rows: classes, columns: dimension)
    }

    /// The target as an index, or -1 when it is outside `0..<classes`.
    @inline(__always)
    static func validTarget(_ target: Int32, classes: Int) -> Int {
        target >= 0 && Int(target) < classes ? Int(target) : -1
    }

    /// `s * (cos - m)` for the target class, `s * cos` otherwise.
    @inline(__always)
    static func logit(_ cosine: Float, isTarget: Bool, scale: Float, margin: Float) -> Float {
        scale * (isTarget ? cosine - margin : cosine)
    }

    /// Log-sum-exp of one row of margin logits (`target` -1: no margin anywhere), maximum subtracted first.
    @inline(__always)
    static func rowLogSumExp(
        _ cosine: UnsafePointer<Float>, target: Int, count: Int, scale: Float, margin: Float
    ) -> Float {
        guard count > 0 else { return 0 }
        var peak = -Float.infinity
        for j in 0..<count { peak = max(peak, logit(cosine[j], isTarget: j == target, scale: scale, margin: margin)) }
        var total: Float = 0
        for j in 0..<count {
            total += FastMath.exp(logit(cosine[j], isTarget: j == target, scale: scale, margin: margin) - peak)
        }
        return Float(Double(peak) + log(Double(total)))
    }

    /// `out[r] = x[r] / max(|x[r]|, eps)`, `norms[r] = max(|x[r]|, eps)`, parallel over rows.
    static func normalizeRows(
        _ x: UnsafePointer<Float>, rows: Int, columns: Int, into out: UnsafeMutablePointer<Float>,
        norms: UnsafeMutablePointer<Float>
    ) {
        Parallel.forChunks(rows, grain: max(1, 16_384 / max(1, columns))) { range in
            for r in range {
                let source = x + r * columns
                let target = out + r * columns
                let norm = max(Reduce.dot(source, source, count: columns).squareRoot(), normEpsilon)
                norms[r] = norm
                for c in 0..<columns { target[c] = source[c] / norm }
            }
        }
    }

    /// Replaces the gradient with respect to `normalized` by the one with respect to the raw rows, in place.
    static func normalizeBackward(
        _ gradient: UnsafeMutablePointer<Float>, normalized: UnsafePointer<Float>, norms: UnsafePointer<Float>,
        rows: Int, columns: Int
    ) {
        Parallel.forChunks(rows, grain: max(1, 16_384 / max(1, columns))) { range in
            for r in range {
                let g = gradient + r * columns
                let n = normalized + r * columns
                let norm = norms[r]
                if norm > normEpsilon {
                    let projection = Reduce.dot(g, n, count: columns)
                    for c in 0..<columns { g[c] = (g[c] - n[c] * projection) / norm }
                } else {
                    // The guard was active: the divisor was the constant eps.
                    for c in 0..<columns { g[c] = g[c] / norm }
                }
            }
        }
    }
}

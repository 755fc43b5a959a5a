#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Softmax cross-entropy over rows of logits, with optional class weights, an ignore index and a frame mask
/// (PyTorch's `cross_entropy(weight:, ignore_index:, reduction: "mean")`, extended by a per-row mask).
///
/// Layouts (Float32, row-major; `N` is `rows`, `C` is `classes`):
/// - `logits`, `dLogits`: `[N, C]`; `targets`: Int32 `[N]`; `classWeights`: `[C]` or nil (all 1);
///   `frameMask`: `[N]` or nil (all 1), 0 excludes a row and other values multiply its weight;
///   `logSumExp`: `[N]`, saved by `forward` for `backward`.
///
/// Semantics: with `r_i = w[y_i] * m_i` for a counted row and 0 otherwise,
/// `loss = sum_i r_i * (-log softmax(z_i)[y_i]) / sum_i r_i` (0 when the denominator is 0), and
/// `dLogits[i] = dLoss * r_i * (softmax(z_i) - onehot(y_i)) / sum_i r_i`.
///
/// Targets: a row whose target equals `ignoreIndex` is not counted (even when `ignoreIndex` is a valid class).
/// A target outside `0..<C` that is not the ignore index never traps: the row is treated as ignored and counted
/// in `Result.invalidTargets` (rows with a mask of exactly 0 are not inspected, so padding may hold any label).
///
/// Each row's log-sum-exp is computed stably (max subtracted) and in parallel over rows; the loss and the
/// denominator are accumulated in Double in row order, so results do not depend on the thread count.
public enum CrossEntropy {
    /// PyTorch's default ignore index.
    public static let defaultIgnoreIndex: Int32 = -100

    /// What `forward` reports.
    public struct Result: Sendable, Equatable {
        /// The weighted mean loss (0 when `denominator` is 0).
        public var loss: Float
        /// `sum_i w[y_i] * m_i` over the counted rows.
        public var denominator: Double
        /// Rows with a nonzero mask whose target is outside `0..<C` and not the ignore index (treated as ignored).
        public var invalidTargets: Int

        public init(loss: Float, denominator: Double, invalidTargets: Int) {
            self.loss = loss
            self.denominator = denominator
            self.invalidTargets = invalidTargets
        }
    }

    /// The weighted mean cross-entropy; writes each row's log-sum-exp into `logSumExp` (0 when `classes` is 0).
    @discardableResult
    public static func forward(
        logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>,
        classWeights: UnsafePointer<Float>? = nil, frameMask: UnsafePointer<Float>? = nil,
        ignoreIndex: Int32 = defaultIgnoreIndex, logSumExp: UnsafeMutablePointer<Float>,
        rows: Int, classes: Int
    ) -> Result {
        guard rows > 0 else { return Result(loss: 0, denominator: 0, invalidTargets: 0) }
        Parallel.forChunks(rows, grain: max(1, 4_096 / max(1, classes))) { range in
            for row in range {
                logSumExp[row] = classes > 0 ? Softmax.logSumExp(logits + row * classes, count: classes) : 0
            }
        }
        var numerator = 0.0
        var denominator = 0.0
        var invalid = 0
        for row in 0..<rows {
            let (weight, isInvalid) = rowWeight(
                row, targets: targets, classWeights: classWeights, frameMask: frameMask, ignoreIndex: ignoreIndex,
                classes: classes)
            if isInvalid { invalid += 1 }
            if weight == 0 { continue }
            let target = Int(targets[row])
            let negativeLogLikelihood = Double(logSumExp[row]) - Double(logits[row * classes + target])
            numerator += Double(weight) * negativeLogLikelihood
            denominator += Double(weight)
        }
        let loss = denominator == 0 ? 0 : Float(numerator / denominator)
        return Result(loss: loss, denominator: denominator, invalidTargets: invalid)
    }

    /// `dLogits = dLoss * r_i * (softmax(z_i) - onehot(y_i)) / sum_i r_i` from the saved `logSumExp`; overwritten,
    /// zero rows for uncounted rows and everywhere when the denominator is 0. The arguments must be those of
    /// `forward` (the denominator is recomputed the same way).
    public static func backward(
        logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>,
        classWeights: UnsafePointer<Float>? = nil, frameMask: UnsafePointer<Float>? = nil,
        ignoreIndex: Int32 = defaultIgnoreIndex, logSumExp: UnsafePointer<Float>, dLoss: Float,
        dLogits: UnsafeMutablePointer<Float>, rows: Int, classes: Int
    ) {
        guard rows > 0, classes > 0 else { return }
        var denominator = 0.0
        for row in 0..<rows {
            denominator += Double(rowWeight(
                row, targets: targets, classWeights: classWeights, frameMask: frameMask, ignoreIndex: ignoreIndex,
                classes: classes).weight)
        }
        let factor = denominator == 0 ? 0 : Double(dLoss) / denominator
        Parallel.forChunks(rows, grain: max(1, 4_096 / classes)) { range in
            for row in range {
                let gradient = dLogits + row * classes
                let weight = rowWeight(
                    row, targets: targets, classWeights: classWeights, frameMask: frameMask,
                    ignoreIndex: ignoreIndex, classes: classes).weight
                if weight == 0 || factor == 0 {
                    gradient.update(repeating: 0, count: classes)
                    continue
                }
                let g = Float(factor * Double(weight))
                let z = logits + row * classes
                let shift = logSumExp[row]
                for c in 0..<classes { gradient[c] = g * FastMath.exp(z[c] - shift) }
                gradient[Int(targets[row])] -= g
            }
        }
    }

    /// `r_i = w[y_i] * m_i` for a counted row, 0 for an ignored, masked or invalid one; `invalid` flags a target
    /// outside `0..<classes` (not the ignore index) on a row with a nonzero mask.
    @inline(__always)
    static func rowWeight(
        _ row: Int, targets: UnsafePointer<Int32>, classWeights: UnsafePointer<Float>?,
        frameMask: UnsafePointer<Float>?, ignoreIndex: Int32, classes: Int
    ) -> (weight: Float, invalid: Bool) {
        let mask = frameMask?[row] ?? 1
        if mask == 0 { return (0, false) }
        let target = targets[row]
        if target == ignoreIndex { return (0, false) }
        guard target >= 0, Int(target) < classes else { return (0, true) }
        let classWeight = classWeights?[Int(target)] ?? 1
        return (classWeight * mask, false)
    }
}

/// Layer normalisation over the last axis: `y = (x - mean) / sqrt(var + eps) * gamma + beta` per row
/// (biased variance, as PyTorch).
public enum LayerNorm {
    /// Normalises each of `rows` rows of `columns` values. Saves `mean[rows]` and `rstd[rows]` (1 / std) for the
    /// backward pass. `y` may be `x`.
    public static func forward(
        x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
        mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>, rows: Int, columns: Int, eps: Float
    ) {
        guard columns > 0 else { return }
        Parallel.forChunks(rows, grain: max(1, 16_384 / columns)) { range in
            for row in range {
                let input = x + row * columns, output = y + row * columns
                let mu = Reduce.sum(input, count: columns) / Float(columns)
                let variance = Reduce.squaredDeviation(input, count: columns, mean: mu) / Float(columns)
                let inverse = 1 / (variance + eps).squareRoot()
                mean[row] = mu
                rstd[row] = inverse
                // In place, one pointer: two that may alias make the compiler's vector loop check for overlap, and
                // an exact alias takes its scalar fallback.
                if UnsafePointer(output) == input {
                    for c in 0..<columns { output[c] = (output[c] - mu) * inverse * gamma[c] + beta[c] }
                } else {
                    for c in 0..<columns { output[c] = (input[c] - mu) * inverse * gamma[c] + beta[c] }
                }
            }
        }
    }

    /// `forward` of `x + residual` (same shape), row by row: each row's sum is written to `y` and normalised there
    /// while it is in L1, with the same operations as an `add` then `forward`. `y` may be `x` or `residual`.
    public static func forward(
        x: UnsafePointer<Float>, residual: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
        y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
        rows: Int, columns: Int, eps: Float
    ) {
        guard columns > 0 else { return }
        Parallel.forChunks(rows, grain: max(1, 16_384 / columns)) { range in
            for row in range {
                let a = x + row * columns, b = residual + row * columns, output = y + row * columns
                // One pointer when in place (see above); a + b and b + a are the same bits.
                if UnsafePointer(output) == a {
                    for c in 0..<columns { output[c] += b[c] }
                } else if UnsafePointer(output) == b {
                    for c in 0..<columns { output[c] += a[c] }
                } else {
                    for c in 0..<columns { output[c] = a[c] + b[c] }
                }
                let mu = Reduce.sum(output, count: columns) / Float(columns)
                let variance = Reduce.squaredDeviation(output, count: columns, mean: mu) / Float(columns)
                let inverse = 1 / (variance + eps).squareRoot()
                mean[row] = mu
                rstd[row] = inverse
                for c in 0..<columns { output[c] = (output[c] - mu) * inverse * gamma[c] + beta[c] }
            }
        }
    }

    /// Gradients from the saved statistics: `dx = rstd * (g - mean(g) - xhat * mean(g * xhat))` with
    /// `g = dy * gamma`; `dGamma = sum_rows dy * xhat`, `dBeta = sum_rows dy` (added to the buffers with
    /// `accumulate`). `dx` may be `dy`, but it is then written only after the parameter gradients are read off.
    public static func backward(
        x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, dy: UnsafePointer<Float>,
        mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>?, dGamma: UnsafeMutablePointer<Float>?, dBeta: UnsafeMutablePointer<Float>?,
        rows: Int, columns: Int, accumulate: Bool = false
    ) {
        guard columns > 0 else { return }
        if dGamma != nil || dBeta != nil {
            // Column sums, parallel over columns: each column's rows are added in order.
            Parallel.forChunks(columns, grain: 16) { range in
                if !accumulate {
                    for c in range { dGamma?[c] = 0; dBeta?[c] = 0 }
                }
                for row in 0..<rows {
                    let input = x + row * columns, gradient = dy + row * columns
                    let mu = mean[row], inverse = rstd[row]
                    if let dGamma { for c in range { dGamma[c] += gradient[c] * (input[c] - mu) * inverse } }
                    if let dBeta { for c in range { dBeta[c] += gradient[c] } }
                }
            }
        }
        guard let dx else { return }
        Parallel.forChunks(rows, grain: max(1, 16_384 / columns)) { range in
            for row in range {
                let input = x + row * columns, gradient = dy + row * columns, output = dx + row * columns
                let mu = mean[row], inverse = rstd[row]
                var sumG: Float = 0, sumGX: Float = 0
                for c in 0..<columns {
                    let g = gradient[c] * gamma[c]
                    sumG += g
                    sumGX += g * (input[c] - mu) * inverse
                }
                let meanG = sumG / Float(columns), meanGX = sumGX / Float(columns)
                for c in 0..<columns {
                    let xhat = (input[c] - mu) * inverse
                    output[c] = inverse * (gradient[c] * gamma[c] - meanG - xhat * meanGX)
                }
            }
        }
    }
}

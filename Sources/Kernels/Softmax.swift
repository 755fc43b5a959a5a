#if canImport(Glibc)
import Glibc
#endif

/// Softmax and log-softmax over the last axis of a `[rows, columns]` matrix.
public enum Softmax {
    /// `y[r] = softmax(x[r])`; `y` may be `x`.
    public static func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
        guard columns > 0 else { return }
        Parallel.forChunks(rows, grain: max(1, 8_192 / columns)) { range in
            for row in range {
                let input = x + row * columns, output = y + row * columns
                let peak = Reduce.max(input, count: columns)
                for c in 0..<columns { output[c] = FastMath.exp(input[c] - peak) }
                let inverse = 1 / Reduce.sum(output, count: columns)
                for c in 0..<columns { output[c] *= inverse }
            }
        }
    }

    /// `dx = y * (dy - sum(dy * y))` per row, from the forward output `y`; `dx` may be `dy`.
    public static func backward(
        y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, rows: Int, columns: Int
    ) {
        Parallel.forChunks(rows, grain: max(1, 8_192 / max(1, columns))) { range in
            for row in range {
                let p = y + row * columns, g = dy + row * columns, out = dx + row * columns
                let inner = Reduce.dot(p, g, count: columns)
                for c in 0..<columns { out[c] = p[c] * (g[c] - inner) }
            }
        }
    }

    /// `y[r] = x[r] - logsumexp(x[r])`; `y` may be `x`.
    public static func logForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
        guard columns > 0 else { return }
        Parallel.forChunks(rows, grain: max(1, 8_192 / columns)) { range in
            for row in range {
                let input = x + row * columns, output = y + row * columns
                let shift = logSumExp(input, count: columns)
                for c in 0..<columns { output[c] = input[c] - shift }
            }
        }
    }

    /// `dx = dy - exp(y) * sum(dy)` per row, from the forward output `y` (log-probabilities); `dx` may be `dy`.
    public static func logBackward(
        y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, rows: Int, columns: Int
    ) {
        Parallel.forChunks(rows, grain: max(1, 8_192 / max(1, columns))) { range in
            for row in range {
                let logP = y + row * columns, g = dy + row * columns, out = dx + row * columns
                let total = Reduce.sum(g, count: columns)
                for c in 0..<columns { out[c] = g[c] - FastMath.exp(logP[c]) * total }
            }
        }
    }

    /// log(sum(exp(x))) of one row, computed stably around its maximum.
    @inlinable
    public static func logSumExp(_ x: UnsafePointer<Float>, count: Int) -> Float {
        let peak = Reduce.max(x, count: count)
        guard peak.isFinite else { return peak }
        var total: Float = 0
        for c in 0..<count { total += FastMath.exp(x[c] - peak) }
        return peak + log(total)
    }
}

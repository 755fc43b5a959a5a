/// Weight normalisation `w = g * v / ||v||`, with the norm taken over every axis but one (PyTorch's
/// `weight_norm(module, dim=d)`).
///
/// `v` is viewed as `[outer, size, inner]` where `size` is the length of the kept axis `d`, `outer` the product of
/// the axes before it and `inner` of those after it; `g` and the saved `norms` have `size` elements. HuBERT's
/// positional convolution keeps the kernel axis (`dim = 2` of `[768, 48, 128]`: outer 36,864, size 128, inner 1);
/// `dim = 0` is outer 1. Sums are accumulated in Float64.
public enum WeightNorm {
    /// `norms[k] = ||v[:, k, :]||`, `w[:, k, :] = g[k] * v[:, k, :] / norms[k]` (a zero norm gives zero weights).
    public static func forward(
        v: UnsafePointer<Float>, g: UnsafePointer<Float>, w: UnsafeMutablePointer<Float>, norms: UnsafeMutablePointer<Float>,
        outer: Int, size: Int, inner: Int
    ) {
        sumOfProducts(v, v, outer: outer, size: size, inner: inner, into: norms)
        for k in 0..<size { norms[k] = norms[k].squareRoot() }
        Parallel.forChunks(outer, grain: max(1, 16_384 / max(1, size * inner))) { range in
            for o in range {
                for k in 0..<size {
                    let factor = norms[k] > 0 ? g[k] / norms[k] : 0
                    let base = (o * size + k) * inner
                    for i in 0..<inner { w[base + i] = factor * v[base + i] }
                }
            }
        }
    }

    /// `dg[k] = <dw, v>_k / n_k` and `dv = (g_k / n_k) (dw - v <dw, v>_k / n_k^2)`. `dg` is overwritten, or added
    /// to with `accumulate` (as `dv`). `dots` is a workspace of `size` floats.
    public static func backward(
        v: UnsafePointer<Float>, g: UnsafePointer<Float>, norms: UnsafePointer<Float>, dw: UnsafePointer<Float>,
        dv: UnsafeMutablePointer<Float>?, dg: UnsafeMutablePointer<Float>?, dots: UnsafeMutablePointer<Float>,
        outer: Int, size: Int, inner: Int, accumulate: Bool = false
    ) {
        sumOfProducts(dw, v, outer: outer, size: size, inner: inner, into: dots)
        if let dg {
            for k in 0..<size {
                let value = norms[k] > 0 ? dots[k] / norms[k] : 0
                dg[k] = accumulate ? dg[k] + value : value
            }
        }
        guard let dv else { return }
        Parallel.forChunks(outer, grain: max(1, 16_384 / max(1, size * inner))) { range in
            for o in range {
                for k in 0..<size {
                    let n = norms[k]
                    let scale = n > 0 ? g[k] / n : 0
                    let projection = n > 0 ? dots[k] / (n * n) : 0
                    let base = (o * size + k) * inner
                    if accumulate {
                        for i in 0..<inner { dv[base + i] += scale * (dw[base + i] - v[base + i] * projection) }
                    } else {
                        for i in 0..<inner { dv[base + i] = scale * (dw[base + i] - v[base + i] * projection) }
                    }
                }
            }
        }
    }

    /// `out[k] = sum over (o, i) of a[o, k, i] * b[o, k, i]`, in Float64.
    static func sumOfProducts(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, outer: Int, size: Int, inner: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        if inner == 1 {
            // Columns of an [outer, size] matrix: stream 16 columns at a time.
            Parallel.forChunks(size, grain: 16) { range in
                ColumnSums.sum(a, b, rows: outer, rowStride: size, columns: range, into: out,
                               vector: { x, y, _ in x * y }, value: { x, y, _ in x * y })
            }
            return
        }
        Parallel.forChunks(size, grain: 1) { range in
            for k in range {
                var total = 0.0
                for o in 0..<outer {
                    let base = (o * size + k) * inner
                    total += Double(Reduce.dot(a + base, b + base, count: inner))
                }
                out[k] = Float(total)
            }
        }
    }
}

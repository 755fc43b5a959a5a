import Kernels

/// Clipping gradients by their global norm, as `torch.nn.utils.clip_grad_norm_`.
public enum GradientClipping {
    /// The global L2 norm of `gradients` (Float32 tensors; others are ignored).
    ///
    /// Squares are summed in Float64, tensor by tensor in sorted name order, each tensor into 8 interleaved partial
    /// sums added in a fixed order: the result depends only on the values, never on thread counts.
    public static func globalNorm(_ gradients: [String: HostTensor]) -> Double {
        var total = 0.0
        for name in gradients.keys.sorted() {
            guard let tensor = gradients[name], tensor.dtype == .f32 else { continue }
            total += sumOfSquares(tensor.floats, count: tensor.count)
        }
        return total.squareRoot()
    }

    /// Scales `gradients` in place so their global norm is at most `maxNorm`, and returns the norm before clipping.
    ///
    /// As PyTorch: the factor is `maxNorm / (norm + 1e-6)`, applied only when below 1. A non-finite norm (a NaN or
    /// infinite gradient) is returned and the gradients are left as they are, for the caller to skip the step.
    @discardableResult
    public static func clipGlobalNorm(_ gradients: [String: HostTensor], maxNorm: Double) -> Double {
        let norm = globalNorm(gradients)
        guard norm.isFinite else { return norm }
        let factor = maxNorm / (norm + 1e-6)
        guard factor < 1 else { return norm }
        let scale = Float(factor)
        for tensor in gradients.values where tensor.dtype == .f32 {
            let g = tensor.floats
            Parallel.forChunks(tensor.count, grain: UpdateRules.grain) { range in
                for i in range { g[i] *= scale }
            }
        }
        return norm
    }

    /// The sum of squares of `count` floats in Float64, with 8 partial sums.
    static func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double {
        var partial = SIMD8<Double>()
        var i = 0
        while i + 8 <= count {
            let chunk = SIMD8<Double>(
                Double(x[i]), Double(x[i + 1]), Double(x[i + 2]), Double(x[i + 3]),
                Double(x[i + 4]), Double(x[i + 5]), Double(x[i + 6]), Double(x[i + 7]))
            partial += chunk * chunk
            i += 8
        }
        var total = 0.0
        for lane in 0..<8 { total += partial[lane] }
        while i < count {
            let value = Double(x[i])
            total += value * value
            i += 1
        }
        return total
    }
}

import Foundation
import Kernels

/// The element-wise updates of the optimisers, over one parameter tensor and its state, in Float32.
///
/// Each follows PyTorch's single-tensor implementation operation for operation (`torch.optim.AdamW`, `Adam` and
/// `SGD`), with the scalars (bias corrections, step sizes) computed in Float64 and rounded to Float32 once. Every
/// element is computed independently, so splitting the range over threads (`Parallel.forChunks`) does not change
/// any result.
enum UpdateRules {
    /// Elements per thread below which an update runs on one thread.
    static let grain = 1 << 15

    /// The scalars of one Adam step.
    struct AdamScalars {
        /// Multiplies the parameter before the update: `1 - lr * weightDecay` (AdamW), 1 (Adam).
        var parameterScale: Float
        /// Added times the parameter to the gradient: `weightDecay` (Adam's L2), 0 (AdamW).
        var l2: Float
        var beta1: Float
        var oneMinusBeta1: Float
        var beta2: Float
        var oneMinusBeta2: Float
        /// `lr / (1 - beta1^t)`.
        var stepSize: Float
        /// `sqrt(1 - beta2^t)`.
        var correction2Root: Float
        var epsilon: Float

        init(lr: Double, weightDecay: Double, decoupled: Bool, beta1: Double, beta2: Double, epsilon: Double, t: Int) {
            parameterScale = decoupled ? Float(1 - lr * weightDecay) : 1
            l2 = decoupled ? 0 : Float(weightDecay)
            self.beta1 = Float(beta1)
            oneMinusBeta1 = Float(1 - beta1)
            self.beta2 = Float(beta2)
            oneMinusBeta2 = Float(1 - beta2)
            stepSize = Float(lr / (1 - pow(beta1, Double(t))))
            correction2Root = Float((1 - pow(beta2, Double(t))).squareRoot())
            self.epsilon = Float(epsilon)
        }
    }

    /// Adam or AdamW on `count` elements: with decoupled decay
    /// `p *= 1 - lr wd; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g²; p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)`,
    /// with L2 the gradient is `g + wd p` and `p` is not scaled.
    static func adam(
        parameter: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>,
        m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, count: Int, _ s: AdamScalars
    ) {
        let p = parameter, g = gradient
        Parallel.forChunks(count, grain: grain) { range in
            // 8 lanes at a time, then the rest one by one: the same operations per element (Swift does not fuse
            // multiply-adds), so where a chunk starts does not change any result.
            var i = range.lowerBound
            while i + 8 <= range.upperBound {
                let grad = load(g, i) + s.l2 * load(p, i)
                let param = load(p, i) * s.parameterScale
                let first = s.beta1 * load(m, i) + s.oneMinusBeta1 * grad
                let second = s.beta2 * load(v, i) + s.oneMinusBeta2 * (grad * grad)
                store(first, m, i)
                store(second, v, i)
                let denominator = second.squareRoot() / s.correction2Root + s.epsilon
                store(param - s.stepSize * (first / denominator), p, i)
                i += 8
            }
            for i in i..<range.upperBound {
                let grad = g[i] + s.l2 * p[i]
                let param = p[i] * s.parameterScale
                let first = s.beta1 * m[i] + s.oneMinusBeta1 * grad
                let second = s.beta2 * v[i] + s.oneMinusBeta2 * (grad * grad)
                m[i] = first
                v[i] = second
                let denominator = second.squareRoot() / s.correction2Root + s.epsilon
                p[i] = param - s.stepSize * (first / denominator)
            }
        }
    }

    /// SGD on `count` elements: `g += wd p; b = momentum b + g; p -= lr (nesterov ? g + momentum b : b)`, and
    /// `p -= lr g` without momentum (`buffer` nil).
    static func sgd(
        parameter: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>, buffer: UnsafeMutablePointer<Float>?,
        count: Int, lr: Double, weightDecay: Double, momentum: Double, nesterov: Bool
    ) {
        let lr = Float(lr), wd = Float(weightDecay), mu = Float(momentum)
        let p = parameter, g = gradient
        Parallel.forChunks(count, grain: grain) { range in
            guard let b = buffer else {
                for i in range { p[i] -= lr * (g[i] + wd * p[i]) }
                return
            }
            if nesterov {
                for i in range {
                    let grad = g[i] + wd * p[i]
                    let next = mu * b[i] + grad
                    b[i] = next
                    p[i] -= lr * (grad + mu * next)
                }
            } else {
                for i in range {
                    let grad = g[i] + wd * p[i]
                    let next = mu * b[i] + grad
                    b[i] = next
                    p[i] -= lr * next
                }
            }
        }
    }

    /// Eight floats from `x + i` (any alignment).
    @inline(__always)
    static func load(_ x: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
        UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always)
    static func load(_ x: UnsafeMutablePointer<Float>, _ i: Int) -> SIMD8<Float> { load(UnsafePointer(x), i) }

    /// Stores eight floats at `x + i` (any alignment).
    @inline(__always)
    static func store(_ value: SIMD8<Float>, _ x: UnsafeMutablePointer<Float>, _ i: Int) {
        UnsafeMutableRawPointer(x + i).storeBytes(of: value, as: SIMD8<Float>.self)
    }
}

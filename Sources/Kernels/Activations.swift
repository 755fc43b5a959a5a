/// Pointwise activation functions and their derivatives.
public enum Activation: String, Sendable, CaseIterable {
    /// The exact GELU x Φ(x) (erf form, as PyTorch's default and HuBERT's `gelu`).
    case gelu
    case tanh
    case relu
    case sigmoid

    /// `y = f(x)` over `count` elements; `y` may be `x`.
    public func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        // In place: one pointer, so the loops vectorise (with two that may overlap, the compiler's runtime alias
        // check sends an exactly aliased pair down its scalar loop, 7x slower for GELU).
        if UnsafePointer(y) == x {
            Parallel.forChunks(count, grain: 32_768) { range in
                switch self {
                case .gelu: for i in range { y[i] = FastMath.gelu(y[i]) }
                case .tanh: for i in range { y[i] = FastMath.tanh(y[i]) }
                case .relu: for i in range { y[i] = max(y[i], 0) }
                case .sigmoid: for i in range { y[i] = FastMath.sigmoid(y[i]) }
                }
            }
            return
        }
        Parallel.forChunks(count, grain: 32_768) { range in
            switch self {
            case .gelu: for i in range { y[i] = FastMath.gelu(x[i]) }
            case .tanh: for i in range { y[i] = FastMath.tanh(x[i]) }
            case .relu: for i in range { y[i] = max(x[i], 0) }
            case .sigmoid: for i in range { y[i] = FastMath.sigmoid(x[i]) }
            }
        }
    }

    /// Whether `backward` reads the forward output `y` (tanh, sigmoid) rather than the input `x` (gelu, relu).
    public var backwardUsesOutput: Bool {
        switch self {
        case .gelu, .relu: false
        case .tanh, .sigmoid: true
        }
    }

    /// `dx = dy * f'(x)`. `saved` is the forward input `x` for gelu and relu, the output `y` for tanh and sigmoid
    /// (see `backwardUsesOutput`). `dx` may be `dy`.
    public func backward(
        saved: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int
    ) {
        Parallel.forChunks(count, grain: 32_768) { range in
            switch self {
            case .gelu: for i in range { dx[i] = dy[i] * FastMath.geluDerivative(saved[i]) }
            case .tanh: for i in range { let y = saved[i]; dx[i] = dy[i] * (1 - y * y) }
            case .relu: for i in range { dx[i] = saved[i] > 0 ? dy[i] : 0 }
            case .sigmoid: for i in range { let y = saved[i]; dx[i] = dy[i] * y * (1 - y) }
            }
        }
    }
}

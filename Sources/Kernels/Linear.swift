/// A fully connected layer `y = x W^T + b` with PyTorch's weight layout `W: [out, in]`.
///
/// `x: [rows, in]`, `y: [rows, out]`, `b: [out]` or nil. An activation after the bias runs in the GEMM's epilogue
/// (the fused `linear` + `gelu` of the compiler's fusion pass).
public enum Linear {
    public static func forward(
        x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        y: UnsafeMutablePointer<Float>, rows: Int, inFeatures: Int, outFeatures: Int, activation: Activation? = nil
    ) {
        Gemm.multiply(
            transB: true, m: rows, n: outFeatures, k: inFeatures, a: x, lda: inFeatures, b: weight, ldb: inFeatures,
            c: y, ldc: outFeatures, epilogue: Gemm.Epilogue(bias: bias, activation: activation))
    }

    /// One layer of `forwardGroup`: its weight `[outFeatures, in]`, bias and output `[rows, outFeatures]`.
    public struct GroupMember {
        public var weight: UnsafePointer<Float>
        public var bias: UnsafePointer<Float>?
        public var y: UnsafeMutablePointer<Float>
        public var outFeatures: Int

        public init(weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, outFeatures: Int) {
            self.weight = weight
            self.bias = bias
            self.y = y
            self.outFeatures = outFeatures
        }
    }

    /// Layers that read the same `x` (the attention's q, k and v) as one product (`Gemm.multiplyGroup`): each
    /// output bitwise what `forward` gives for its layer.
    public static func forwardGroup(x: UnsafePointer<Float>, rows: Int, inFeatures: Int, layers: [GroupMember]) {
        Gemm.multiplyGroup(transB: true, m: rows, k: inFeatures, a: x, lda: inFeatures, members: layers.map {
            Gemm.GroupMember(b: $0.weight, ldb: inFeatures, n: $0.outFeatures, c: $0.y, ldc: $0.outFeatures,
                             epilogue: Gemm.Epilogue(bias: $0.bias))
        })
    }

    /// Gradients of `forward`. Each output may be nil when not needed. With `accumulate` the weight and bias
    /// gradients are added to what the buffers hold (shared weights); `dx` is always overwritten.
    public static func backward(
        x: UnsafePointer<Float>, weight: UnsafePointer<Float>, dy: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>?, dBias: UnsafeMutablePointer<Float>?,
        rows: Int, inFeatures: Int, outFeatures: Int, accumulate: Bool = false
    ) {
        if let dx {
            Gemm.multiply(
                m: rows, n: inFeatures, k: outFeatures, a: dy, lda: outFeatures, b: weight, ldb: inFeatures,
                c: dx, ldc: inFeatures)
        }
        if let dWeight {
            Gemm.multiply(
                transA: true, m: outFeatures, n: inFeatures, k: rows, a: dy, lda: outFeatures, b: x, ldb: inFeatures,
                beta: accumulate ? 1 : 0, c: dWeight, ldc: inFeatures)
        }
        if let dBias {
            Reduce.sumRows(dy, rows: rows, columns: outFeatures, into: dBias, accumulate: accumulate)
        }
    }
}

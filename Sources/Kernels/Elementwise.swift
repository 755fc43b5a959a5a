/// Binary elementwise arithmetic with NumPy broadcasting.
public enum Elementwise {
    public enum BinaryOp: Sendable {
        case add, subtract, multiply
    }

    /// `out = a op b` where `a` and `b` broadcast to `outShape`; `out` must not alias a broadcast operand.
    /// Returns false (and writes nothing) when the shapes do not broadcast.
    @discardableResult
    public static func binary(
        _ op: BinaryOp, a: UnsafePointer<Float>, aShape: [Int], b: UnsafePointer<Float>, bShape: [Int],
        out: UnsafeMutablePointer<Float>, outShape: [Int]
    ) -> Bool {
        guard let layout = StridedLayout(output: outShape, a: aShape, b: bShape) else { return false }
        let inner = layout.innerCount
        let strideA = layout.stridesA[layout.rank - 1]
        let strideB = layout.stridesB[layout.rank - 1]
        Parallel.forChunks(layout.rowCount, grain: max(1, 32_768 / max(1, inner))) { rows in
            for row in rows {
                let (offsetA, offsetB) = layout.rowOffsets(row)
                let pa = a + offsetA
                let pb = b + offsetB
                let po = out + row * inner
                switch (op, strideA, strideB) {
                case (.add, 1, 1): for i in 0..<inner { po[i] = pa[i] + pb[i] }
                case (.add, 1, 0): let s = pb[0]; for i in 0..<inner { po[i] = pa[i] + s }
                case (.add, _, _): for i in 0..<inner { po[i] = pa[i * strideA] + pb[i * strideB] }
                case (.subtract, 1, 1): for i in 0..<inner { po[i] = pa[i] - pb[i] }
                case (.subtract, _, _): for i in 0..<inner { po[i] = pa[i * strideA] - pb[i * strideB] }
                case (.multiply, 1, 1): for i in 0..<inner { po[i] = pa[i] * pb[i] }
                case (.multiply, 1, 0): let s = pb[0]; for i in 0..<inner { po[i] = pa[i] * s }
                case (.multiply, _, _): for i in 0..<inner { po[i] = pa[i * strideA] * pb[i * strideB] }
                }
            }
        }
        return true
    }

    /// `y = alpha * x` over `count` elements (`y` may be `x`).
    public static func scale(_ x: UnsafePointer<Float>, by alpha: Float, into y: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forChunks(count, grain: 65_536) { range in
            for i in range { y[i] = alpha * x[i] }
        }
    }

    /// `y += alpha * x` over `count` elements.
    public static func accumulate(_ x: UnsafePointer<Float>, scaledBy alpha: Float = 1, into y: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forChunks(count, grain: 65_536) { range in
            for i in range { y[i] += alpha * x[i] }
        }
    }
}

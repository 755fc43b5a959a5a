/// Sums down the columns of a row-major matrix, 16 columns at a time, accumulated in Float64.
///
/// Reading 16 adjacent columns of a row touches one cache line, so a column block streams through memory; the
/// Float64 accumulators keep sums over thousands of frames (a group norm over a 10 s utterance) exact to Float32
/// precision. The order of additions is fixed, so the result does not depend on the thread count.
@usableFromInline
enum ColumnSums {
    /// `out[c] = sum_r value(x[r * rowStride + c], y[r * rowStride + c], c)` for `c` in `columns`, where
    /// `vector` is the 16-lane form of `value` applied to columns `c ..< c + 16`. `y` may be `x` when one matrix
    /// is enough.
    @inline(__always) @usableFromInline
    static func sum(
        _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, rows: Int, rowStride: Int, columns: Range<Int>,
        into out: UnsafeMutablePointer<Float>,
        vector: (SIMD16<Float>, SIMD16<Float>, Int) -> SIMD16<Float>, value: (Float, Float, Int) -> Float
    ) {
        let rawX = UnsafeRawPointer(x), rawY = UnsafeRawPointer(y)
        var column = columns.lowerBound
        while column + 16 <= columns.upperBound {
            var low = SIMD8<Double>()
            var high = SIMD8<Double>()
            for row in 0..<rows {
                let offset = (row * rowStride + column) * 4
                let v = vector(
                    rawX.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self),
                    rawY.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self), column)
                low += SIMD8<Double>(v.lowHalf)
                high += SIMD8<Double>(v.highHalf)
            }
            for lane in 0..<8 {
                out[column + lane] = Float(low[lane])
                out[column + 8 + lane] = Float(high[lane])
            }
            column += 16
        }
        while column < columns.upperBound {
            var total = 0.0
            for row in 0..<rows { total += Double(value(x[row * rowStride + column], y[row * rowStride + column], column)) }
            out[column] = Float(total)
            column += 1
        }
    }
}

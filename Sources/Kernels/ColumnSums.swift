/// Sums down the columns of a row-major matrix, 16 columns at a time, accumulated in Float64.
///
/// The rows stream through memory in order, each added to one Float64 accumulator per column (on the stack and in
/// L1: 4 KiB for 512 columns, the most one pass takes), so the input is read sequentially, once. (Walking each 16-column block down all the rows read the
/// same bytes, but one cache line per row 2 KiB apart: a TLB miss every other row, 3-4x slower on a group norm over
/// 12,799 frames.) The Float64 accumulators keep sums over thousands of frames (a group norm over a 10 s utterance)
/// exact to Float32 precision. Each column's additions run in row order, so the result does not depend on the
/// thread count or on how the columns are split.
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
        let blocks = columns.count / 16
        let tail = columns.lowerBound + blocks * 16
        // Accumulators on the stack (no allocation in a kernel): windows of up to 512 columns, one pass each.
        var totals = InlineArray<64, SIMD8<Double>>(repeating: SIMD8<Double>())
        var windowStart = 0
        while windowStart < blocks {
            let window = min(32, blocks - windowStart)
            for index in 0..<(2 * window) { totals[index] = SIMD8<Double>() }
            for row in 0..<rows {
                for block in 0..<window {
                    let column = columns.lowerBound + (windowStart + block) * 16
                    let offset = (row * rowStride + column) * 4
                    let v = vector(
                        rawX.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self),
                        rawY.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self), column)
                    totals[2 * block] += SIMD8<Double>(v.lowHalf)
                    totals[2 * block + 1] += SIMD8<Double>(v.highHalf)
                }
            }
            for block in 0..<window {
                let column = columns.lowerBound + (windowStart + block) * 16
                for lane in 0..<8 {
                    out[column + lane] = Float(totals[2 * block][lane])
                    out[column + 8 + lane] = Float(totals[2 * block + 1][lane])
                }
            }
            windowStart += window
        }
        var column = tail
        while column < columns.upperBound {
            var total = 0.0
            for row in 0..<rows { total += Double(value(x[row * rowStride + column], y[row * rowStride + column], column)) }
            out[column] = Float(total)
            column += 1
        }
    }
}

/// Sums and other reductions. Vector reductions use 16 partial sums in a fixed order, so they are fast and give
/// the same result on every run and for every thread count.
public enum Reduce {
    /// Sum of `count` contiguous elements.
    @inlinable
    public static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var partial = SIMD16<Float>()
        var index = 0
        let raw = UnsafeRawPointer(x)
        while index + 16 <= count {
            partial += raw.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self)
            index += 16
        }
        var total = partial.sum()
        while index < count {
            total += x[index]
            index += 1
        }
        return total
    }

    /// Dot product of two contiguous vectors.
    @inlinable
    public static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> Float {
        var partial = SIMD16<Float>()
        var index = 0
        let rawX = UnsafeRawPointer(x)
        let rawY = UnsafeRawPointer(y)
        while index + 16 <= count {
            let a = rawX.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self)
            let b = rawY.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self)
            partial.addProduct(a, b)
            index += 16
        }
        var total = partial.sum()
        while index < count {
            total += x[index] * y[index]
            index += 1
        }
        return total
    }

    /// Squared Euclidean distance between two contiguous vectors, from their differences (no cancellation).
    @inlinable
    public static func squaredDistance(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> Float {
        var partial = SIMD16<Float>()
        var index = 0
        let rawX = UnsafeRawPointer(x)
        let rawY = UnsafeRawPointer(y)
        while index + 16 <= count {
            let difference = rawX.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self)
                - rawY.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self)
            partial.addProduct(difference, difference)
            index += 16
        }
        var total = partial.sum()
        while index < count {
            let difference = x[index] - y[index]
            total += difference * difference
            index += 1
        }
        return total
    }

    /// Sum of squared deviations from `mean`.
    @inlinable
    public static func squaredDeviation(_ x: UnsafePointer<Float>, count: Int, mean: Float) -> Float {
        var partial = SIMD16<Float>()
        var index = 0
        let raw = UnsafeRawPointer(x)
        let center = SIMD16<Float>(repeating: mean)
        while index + 16 <= count {
            let d = raw.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self) - center
            partial.addProduct(d, d)
            index += 16
        }
        var total = partial.sum()
        while index < count {
            let d = x[index] - mean
            total += d * d
            index += 1
        }
        return total
    }

    /// Largest of `count` (at least 1) contiguous elements (NaN is not propagated).
    @inlinable
    public static func max(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var partial = SIMD16<Float>(repeating: -.infinity)
        var index = 0
        let raw = UnsafeRawPointer(x)
        while index + 16 <= count {
            let value = raw.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self)
            partial.replace(with: value, where: value .> partial)
            index += 16
        }
        var best = partial.max()
        while index < count {
            best = Swift.max(best, x[index])
            index += 1
        }
        return best
    }

    /// Column sums of a `[rows, columns]` matrix: `out[c] (+)= scale * sum_r x[r, c]`. Parallel over columns,
    /// rows summed in order.
    public static func sumRows(
        _ x: UnsafePointer<Float>, rows: Int, columns: Int, into out: UnsafeMutablePointer<Float>,
        scale: Float = 1, accumulate: Bool = false
    ) {
        Parallel.forChunks(columns, grain: Swift.max(16, 65_536 / Swift.max(1, rows))) { range in
            if !accumulate { for c in range { out[c] = 0 } }
            for row in 0..<rows {
                let line = x + row * columns
                for c in range { out[c] += scale * line[c] }
            }
        }
    }

    /// Sums `x` (shape `xShape`) down to `outShape`, which must broadcast to `xShape` (NumPy rules): the reduction
    /// over broadcast axes that every broadcasting op's gradient needs, and `sum`/`mean` over axes with kept
    /// dimensions. `out (+)= scale * sum`. Returns false (writing nothing) when the shapes do not match.
    @discardableResult
    public static func sum(
        _ x: UnsafePointer<Float>, shape xShape: [Int], into out: UnsafeMutablePointer<Float>, shape outShape: [Int],
        scale: Float = 1, accumulate: Bool = false
    ) -> Bool {
        guard let layout = StridedLayout(output: xShape, input: outShape) else { return false }
        if !accumulate {
            var outCount = 1
            for axis in 0..<outShape.count { outCount *= outShape[axis] }
            out.update(repeating: 0, count: outCount)
        }
        let rank = layout.rank
        let inner = layout.innerCount
        let rows = layout.rowCount
        if layout.stridesA[rank - 1] != 0 {
            // The innermost axis is kept (and contiguous in `out`): add whole rows, parallel over columns.
            Parallel.forChunks(inner, grain: Swift.max(16, 65_536 / Swift.max(1, rows))) { range in
                for row in 0..<rows {
                    let target = out + layout.rowOffsets(row).a
                    let line = x + row * inner
                    for c in range { target[c] += scale * line[c] }
                }
            }
        } else if rank == 2 && layout.stridesA[0] != 0 {
            // [kept, reduced]: one output element per row.
            Parallel.forChunks(rows, grain: Swift.max(1, 16_384 / Swift.max(1, inner))) { range in
                for row in range {
                    out[row * layout.stridesA[0]] += scale * sum(x + row * inner, count: inner)
                }
            }
        } else {
            for row in 0..<rows {
                out[layout.rowOffsets(row).a] += scale * sum(x + row * inner, count: inner)
            }
        }
        return true
    }
}

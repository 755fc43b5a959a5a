/// The dimensions of an output tensor and the element strides at which one or two inputs are read for it,
/// with broadcast dimensions at stride 0. Fixed capacity (rank 8), so that building one never allocates.
///
/// Shapes are aligned from the right as in NumPy: an input of lower rank gets leading dimensions of size 1.
/// Adjacent dimensions that are contiguous for every operand are merged, so that `[B, T, C] + [C]` becomes a
/// `[B*T, C]` loop with a stride-0 row.
public struct StridedLayout: Sendable {
    public static let maximumRank = 8

    /// Output dimensions, outermost first (merged).
    public var dims: InlineArray<8, Int>
    /// Strides of operand 0 and operand 1 for each merged dimension (0 where broadcast).
    public var stridesA: InlineArray<8, Int>
    public var stridesB: InlineArray<8, Int>
    /// Number of merged dimensions (at least 1).
    public var rank: Int

    /// A layout for reading `a` and `b` broadcast to `output`; nil when either shape does not broadcast to it or
    /// the rank exceeds 8 (the graph's shape checks report these before a kernel runs).
    public init?(output: [Int], a: [Int], b: [Int]) {
        let rank = output.count
        guard rank <= Self.maximumRank, a.count <= rank, b.count <= rank else { return nil }
        dims = .init(repeating: 1)
        stridesA = .init(repeating: 0)
        stridesB = .init(repeating: 0)
        self.rank = 0
        guard let strides0 = Self.broadcastStrides(output: output, input: a),
              let strides1 = Self.broadcastStrides(output: output, input: b) else { return nil }
        // Merge from the innermost dimension outwards.
        var merged = 0
        var reversedDims = InlineArray<8, Int>(repeating: 1)
        var reversedA = InlineArray<8, Int>(repeating: 0)
        var reversedB = InlineArray<8, Int>(repeating: 0)
        for axis in stride(from: rank - 1, through: 0, by: -1) {
            let size = output[axis]
            if size == 1 { continue }
            if merged > 0 {
                let last = merged - 1
                let innerSize = reversedDims[last]
                if strides0[axis] == reversedA[last] * innerSize && strides1[axis] == reversedB[last] * innerSize {
                    reversedDims[last] = innerSize * size
                    continue
                }
            }
            reversedDims[merged] = size
            reversedA[merged] = strides0[axis]
            reversedB[merged] = strides1[axis]
            merged += 1
        }
        if merged == 0 {
            merged = 1
            reversedDims[0] = 1
            reversedA[0] = 0
            reversedB[0] = 0
        }
        for index in 0..<merged {
            dims[index] = reversedDims[merged - 1 - index]
            stridesA[index] = reversedA[merged - 1 - index]
            stridesB[index] = reversedB[merged - 1 - index]
        }
        self.rank = merged
    }

    /// A layout for a single input broadcast to `output`.
    public init?(output: [Int], input: [Int]) {
        self.init(output: output, a: input, b: output)
    }

    /// Number of output elements.
    public var count: Int {
        var total = 1
        for axis in 0..<rank { total *= dims[axis] }
        return total
    }

    /// Size of the innermost merged dimension.
    public var innerCount: Int { dims[rank - 1] }

    /// Number of rows (the product of all but the innermost merged dimension).
    public var rowCount: Int { count / max(1, innerCount) }

    /// Offsets of the first element of output row `row` in operands a and b.
    @inlinable
    public func rowOffsets(_ row: Int) -> (a: Int, b: Int) {
        var rest = row
        var offsetA = 0
        var offsetB = 0
        var axis = rank - 2
        while axis >= 0 {
            let size = dims[axis]
            let index = rest % size
            rest /= size
            offsetA += index * stridesA[axis]
            offsetB += index * stridesB[axis]
            axis -= 1
        }
        return (offsetA, offsetB)
    }

    private static func broadcastStrides(output: [Int], input: [Int]) -> InlineArray<8, Int>? {
        var strides = InlineArray<8, Int>(repeating: 0)
        let offset = output.count - input.count
        var running = 1
        for axis in stride(from: input.count - 1, through: 0, by: -1) {
            let size = input[axis]
            let target = output[axis + offset]
            if size == target {
                strides[axis + offset] = size == 1 ? 0 : running
            } else if size != 1 {
                return nil
            }
            running *= size
        }
        return strides
    }
}

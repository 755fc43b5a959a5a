import Kernels
import Testing

@Suite("Broadcasting arithmetic and reductions")
struct BroadcastTests {
    /// Row-major index helpers for the naive references.
    static func count(_ shape: [Int]) -> Int { shape.reduce(1, *) }
    static func index(of linear: Int, in shape: [Int]) -> [Int] {
        var rest = linear
        var result = [Int](repeating: 0, count: shape.count)
        for axis in stride(from: shape.count - 1, through: 0, by: -1) { result[axis] = rest % shape[axis]; rest /= shape[axis] }
        return result
    }
    /// The linear index in `shape` (right-aligned, size-1 axes broadcast) of an output multi-index.
    static func broadcastIndex(_ outIndex: [Int], _ shape: [Int]) -> Int {
        let offset = outIndex.count - shape.count
        var linear = 0
        for axis in 0..<shape.count { linear = linear * shape[axis] + (shape[axis] == 1 ? 0 : outIndex[axis + offset]) }
        return linear
    }

    static let cases: [[[Int]]] = [
        [[2, 3, 4], [2, 3, 4]],   // same shapes
        [[2, 3, 4], [4]],         // bias over the last axis
        [[2, 1, 4], [3, 1]],      // both broadcast, different axes
        [[1], [5, 6, 7]],         // scalar against a larger shape
        [[3, 1], [1, 5]],         // outer product shape
    ]

    @Test("add, subtract and multiply with broadcasting against a naive loop", arguments: cases)
    func binary(shapes: [[Int]]) {
        let aShape = shapes[0], bShape = shapes[1]
        let outShape = zip(Array(repeating: 1, count: 3 - aShape.count) + aShape, Array(repeating: 1, count: 3 - bShape.count) + bShape).map { max($0, $1) }
        let a = TestBuffer(random: Self.count(aShape), seed: 1), b = TestBuffer(random: Self.count(bShape), seed: 2)
        let out = TestBuffer(count: Self.count(outShape))
        for op in [Elementwise.BinaryOp.add, .subtract, .multiply] {
            #expect(Elementwise.binary(op, a: a.readOnly, aShape: aShape, b: b.readOnly, bShape: bShape, out: out.pointer, outShape: outShape))
            let expected = (0..<Self.count(outShape)).map { linear -> Double in
                let index = Self.index(of: linear, in: outShape)
                let x = a.doubles[Self.broadcastIndex(index, aShape)], y = b.doubles[Self.broadcastIndex(index, bShape)]
                switch op { case .add: return x + y; case .subtract: return x - y; case .multiply: return x * y }
            }
            expectClose(out.array, expected, "\(op) \(aShape) \(bShape)")
        }
    }

    @Test("shapes that do not broadcast are refused without writing")
    func refusesMismatch() {
        let a = TestBuffer(count: 6, value: 1), b = TestBuffer(count: 4, value: 1), out = TestBuffer(count: 6, value: -1)
        #expect(!Elementwise.binary(.add, a: a.readOnly, aShape: [2, 3], b: b.readOnly, bShape: [4], out: out.pointer, outShape: [2, 3]))
        #expect(out.array.allSatisfy { $0 == -1 })
        #expect(!Reduce.sum(a.readOnly, shape: [2, 3], into: out.pointer, shape: [2, 2]))
    }

    static let reductions: [[[Int]]] = [
        [[4, 5, 6], [6]],        // bias gradient: leading axes
        [[4, 5, 6], [4, 5, 1]],  // trailing axis
        [[4, 5, 6], [4, 1, 6]],  // middle axis (masked pooling's shape)
        [[4, 5, 6], [1, 5, 1]],  // outer and inner
        [[4, 5, 6], [1]],        // everything
        [[3, 1, 2], [3, 1, 2]],  // nothing
    ]

    @Test("sum to a broadcastable shape against a naive loop", arguments: reductions)
    func sumToShape(shapes: [[Int]]) {
        let (xShape, outShape) = (shapes[0], shapes[1])
        let x = TestBuffer(random: Self.count(xShape), seed: 3)
        let out = TestBuffer(count: Self.count(outShape), value: 10)
        #expect(Reduce.sum(x.readOnly, shape: xShape, into: out.pointer, shape: outShape, scale: 0.5, accumulate: true))
        var expected = [Double](repeating: 10, count: Self.count(outShape))
        for linear in 0..<x.count { expected[Self.broadcastIndex(Self.index(of: linear, in: xShape), outShape)] += 0.5 * x.doubles[linear] }
        expectClose(out.array, expected, "sum \(xShape) -> \(outShape)")
    }

    @Test("broadcast multiply backward (multiply, then sum to each operand's shape) against finite differences")
    func multiplyBackward() {
        let (aShape, bShape, outShape) = ([3, 1, 4], [2, 4], [3, 2, 4])
        let a = TestBuffer(random: 12, seed: 4), b = TestBuffer(random: 8, seed: 5)
        GradientCheck.check(inputs: [a, b], forward: {
            let out = TestBuffer(count: 24)
            Elementwise.binary(.multiply, a: a.readOnly, aShape: aShape, b: b.readOnly, bShape: bShape, out: out.pointer, outShape: outShape)
            return out.array
        }, backward: { dyValues in
            let dy = TestBuffer(dyValues), product = TestBuffer(count: 24), da = TestBuffer(count: 12), db = TestBuffer(count: 8)
            Elementwise.binary(.multiply, a: dy.readOnly, aShape: outShape, b: b.readOnly, bShape: bShape, out: product.pointer, outShape: outShape)
            Reduce.sum(product.readOnly, shape: outShape, into: da.pointer, shape: aShape)
            Elementwise.binary(.multiply, a: dy.readOnly, aShape: outShape, b: a.readOnly, bShape: aShape, out: product.pointer, outShape: outShape)
            Reduce.sum(product.readOnly, shape: outShape, into: db.pointer, shape: bShape)
            return [da.array, db.array]
        }, "broadcast multiply")
    }

    @Test("vector sums and dot products against Float64 on odd lengths")
    func vectorReductions() {
        for count in [1, 15, 16, 17, 1_000] {
            let x = TestBuffer(random: count, seed: UInt64(count)), y = TestBuffer(random: count, seed: UInt64(count + 1))
            expectClose([Reduce.sum(x.readOnly, count: count)], [x.doubles.reduce(0, +)], rtol: 1e-5, atol: 1e-5, "sum \(count)")
            expectClose([Reduce.dot(x.readOnly, y.readOnly, count: count)], [zip(x.doubles, y.doubles).reduce(0) { $0 + $1.0 * $1.1 }], rtol: 1e-5, atol: 1e-5, "dot \(count)")
            expectClose([Reduce.max(x.readOnly, count: count)], [x.doubles.max()!], "max \(count)")
        }
    }
}

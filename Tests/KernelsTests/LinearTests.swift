import Kernels
import Testing

@Suite("Linear and GEMM")
struct LinearTests {
    /// Naive Float64 `y = x W^T + b`.
    static func naiveLinear(x: [Double], w: [Double], b: [Double]?, rows: Int, input: Int, output: Int) -> [Double] {
        var y = [Double](repeating: 0, count: rows * output)
        for r in 0..<rows {
            for o in 0..<output {
                var total = b?[o] ?? 0
                for i in 0..<input { total += x[r * input + i] * w[o * input + i] }
                y[r * output + o] = total
            }
        }
        return y
    }

    @Test("GEMM with every transpose combination and padded leading dimensions", arguments: [(false, false), (true, false), (false, true), (true, true)])
    func gemmTransposes(transA: Bool, transB: Bool) {
        let (m, n, k) = (7, 13, 5)
        let lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 2, ldc = n + 1
        let a = TestBuffer(random: (transA ? k : m) * lda, seed: 1)
        let b = TestBuffer(random: (transB ? n : k) * ldb, seed: 2)
        let c = TestBuffer(random: m * ldc, seed: 3)
        let c0 = c.doubles
        Gemm.multiply(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a.readOnly, lda: lda,
                      b: b.readOnly, ldb: ldb, beta: 2, c: c.pointer, ldc: ldc)
        var expected = c0
        for i in 0..<m {
            for j in 0..<n {
                var total = 0.0
                for p in 0..<k {
                    let av = Double(transA ? a[p * lda + i] : a[i * lda + p])
                    let bv = Double(transB ? b[j * ldb + p] : b[p * ldb + j])
                    total += av * bv
                }
                expected[i * ldc + j] = 0.5 * total + 2 * c0[i * ldc + j]
            }
        }
        expectClose(c.array, expected, "gemm")
    }

    @Test("batched GEMM with a shared operand")
    func batchedGemm() {
        let (count, m, n, k) = (3, 4, 5, 6)
        let a = TestBuffer(random: count * m * k, seed: 4)
        let b = TestBuffer(random: k * n, seed: 5)
        let c = TestBuffer(count: count * m * n)
        Gemm.batched(count: count, m: m, n: n, k: k, a: a.readOnly, lda: k, strideA: m * k,
                     b: b.readOnly, ldb: n, strideB: 0, c: c.pointer, ldc: n, strideC: m * n)
        var expected = [Double](repeating: 0, count: count * m * n)
        for batch in 0..<count {
            for i in 0..<m {
                for j in 0..<n {
                    var total = 0.0
                    for p in 0..<k { total += Double(a[batch * m * k + i * k + p]) * Double(b[p * n + j]) }
                    expected[batch * m * n + i * n + j] = total
                }
            }
        }
        expectClose(c.array, expected, "batched")
    }

    @Test("linear forward against a naive loop", arguments: [(1, 1, 1), (5, 7, 3), (33, 17, 65)])
    func linearForward(rows: Int, input: Int, output: Int) {
        let x = TestBuffer(random: rows * input, seed: 6)
        let w = TestBuffer(random: output * input, seed: 7)
        let b = TestBuffer(random: output, seed: 8)
        let y = TestBuffer(count: rows * output)
        Linear.forward(x: x.readOnly, weight: w.readOnly, bias: b.readOnly, y: y.pointer, rows: rows, inFeatures: input, outFeatures: output)
        expectClose(y.array, Self.naiveLinear(x: x.doubles, w: w.doubles, b: b.doubles, rows: rows, input: input, output: output), "linear")
        Linear.forward(x: x.readOnly, weight: w.readOnly, bias: nil, y: y.pointer, rows: rows, inFeatures: input, outFeatures: output)
        expectClose(y.array, Self.naiveLinear(x: x.doubles, w: w.doubles, b: nil, rows: rows, input: input, output: output), "linear without bias")
    }

    @Test("linear backward against finite differences")
    func linearBackward() {
        let (rows, input, output) = (6, 5, 4)
        let x = TestBuffer(random: rows * input, seed: 9)
        let w = TestBuffer(random: output * input, seed: 10)
        let b = TestBuffer(random: output, seed: 11)
        GradientCheck.check(inputs: [x, w, b], forward: {
            let y = TestBuffer(count: rows * output)
            Linear.forward(x: x.readOnly, weight: w.readOnly, bias: b.readOnly, y: y.pointer, rows: rows, inFeatures: input, outFeatures: output)
            return y.array
        }, backward: { dyValues in
            let dy = TestBuffer(dyValues)
            let dx = TestBuffer(count: rows * input), dw = TestBuffer(count: output * input), db = TestBuffer(count: output)
            Linear.backward(x: x.readOnly, weight: w.readOnly, dy: dy.readOnly, dx: dx.pointer, dWeight: dw.pointer, dBias: db.pointer,
                            rows: rows, inFeatures: input, outFeatures: output)
            return [dx.array, dw.array, db.array]
        }, "linear")
    }
}

@Suite("Linear layers sharing their input (linear_group)")
struct LinearGroupTests {
    /// Three layers of different widths on one input: each output bitwise the layer's own `Linear.forward`, close to
    /// the naive loop, with 1 and 2 threads, on the short (split by columns) and the tall (split by rows) path.
    @Test("each member bitwise its own linear", arguments: [(199, 64), (700, 48), (5, 16)])
    func groupMatchesSeparateProducts(rows: Int, input: Int) {
        let widths = [96, 40, 128]
        let x = TestBuffer(random: rows * input, seed: 11)
        let weights = widths.enumerated().map { TestBuffer(random: $1 * input, seed: UInt64(20 + $0)) }
        let biases = widths.enumerated().map { TestBuffer(random: $1, seed: UInt64(30 + $0)) }
        let engines: [Gemm.Engine] = Gemm.packedSupported ? [.packed, .openBLAS] : [.openBLAS]
        for engine in engines {
            for threads in [1, 2] {
                ThreadContract.withThreads(threads) {
                    let grouped = widths.map { TestBuffer(count: rows * $0) }
                    Gemm.multiplyGroup(transB: true, m: rows, k: input, a: x.readOnly, lda: input, members: widths.indices.map {
                        Gemm.GroupMember(b: weights[$0].readOnly, ldb: input, n: widths[$0], c: grouped[$0].pointer, ldc: widths[$0],
                                         epilogue: Gemm.Epilogue(bias: biases[$0].readOnly))
                    }, engine: engine)
                    for (index, width) in widths.enumerated() {
                        let alone = TestBuffer(count: rows * width)
                        Gemm.multiply(transB: true, m: rows, n: width, k: input, a: x.readOnly, lda: input, b: weights[index].readOnly,
                                      ldb: input, c: alone.pointer, ldc: width, epilogue: Gemm.Epilogue(bias: biases[index].readOnly),
                                      engine: engine)
                        #expect(grouped[index].array == alone.array, "\(engine) \(threads) threads, member \(index + 1)")
                        let expected = LinearTests.naiveLinear(x: x.doubles, w: weights[index].doubles, b: biases[index].doubles,
                                                               rows: rows, input: input, output: width)
                        expectClose(grouped[index].array, expected, "member \(index + 1)")
                    }
                }
            }
        }
    }
}

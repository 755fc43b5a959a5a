#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Kernels
import Testing

@Suite("Multi-head attention with a key padding mask")
struct AttentionTests {
    /// One attention problem: inputs, lengths and the buffers its kernels write.
    final class Problem {
        let batch: Int, length: Int, heads: Int, headDim: Int
        let scale: Float
        let q: TestBuffer, k: TestBuffer, v: TestBuffer
        var lengths: [Int32]
        let probabilities: TestBuffer, out: TestBuffer
        let dQ: TestBuffer, dK: TestBuffer, dV: TestBuffer, workspace: TestBuffer

        init(batch: Int, length: Int, heads: Int, headDim: Int, lengths: [Int32], seed: UInt64) {
            self.batch = batch
            self.length = length
            self.heads = heads
            self.headDim = headDim
            self.lengths = lengths
            scale = 1 / Float(headDim).squareRoot()
            let count = batch * length * heads * headDim
            q = TestBuffer(random: count, seed: seed, low: -2, high: 2)
            k = TestBuffer(random: count, seed: seed + 1, low: -2, high: 2)
            v = TestBuffer(random: count, seed: seed + 2)
            probabilities = TestBuffer(count: Attention.probabilitiesCount(batch: batch, heads: heads, sequenceLength: length))
            out = TestBuffer(count: count, value: .nan)
            dQ = TestBuffer(count: count, value: .nan)
            dK = TestBuffer(count: count, value: .nan)
            dV = TestBuffer(count: count, value: .nan)
            workspace = TestBuffer(count: Attention.backwardWorkspaceCount(sequenceLength: length, recomputing: true), value: .nan)
        }

        var count: Int { batch * length * heads * headDim }

        func forward() {
            lengths.withUnsafeBufferPointer { lengths in
                Attention.forward(
                    q: q.readOnly, k: k.readOnly, v: v.readOnly, lengths: lengths.baseAddress!,
                    probabilities: probabilities.pointer, out: out.pointer,
                    batch: batch, sequenceLength: length, heads: heads, headDim: headDim, scale: scale)
            }
        }

        /// With `recompute`, the backward recomputes the probabilities instead of reading the forward's.
        func backward(_ dOut: TestBuffer, recompute: Bool = false) {
            lengths.withUnsafeBufferPointer { lengths in
                Attention.backward(
                    dOut: dOut.readOnly, q: q.readOnly, k: k.readOnly, v: v.readOnly,
                    probabilities: recompute ? nil : probabilities.readOnly, lengths: lengths.baseAddress!,
                    dQ: dQ.pointer, dK: dK.pointer, dV: dV.pointer, workspace: workspace.pointer,
                    batch: batch, sequenceLength: length, heads: heads, headDim: headDim, scale: scale)
            }
        }

        /// Naive Float64 attention: (out, probabilities) with lengths clamped into 0...length.
        func reference() -> (out: [Double], probabilities: [Double]) {
            let width = heads * headDim
            let (q, k, v) = (q.doubles, k.doubles, v.doubles)
            var out = [Double](repeating: 0, count: count)
            var probabilities = [Double](repeating: 0, count: batch * heads * length * length)
            for b in 0..<batch {
                let valid = min(max(Int(lengths[b]), 0), length)
                for h in 0..<heads {
                    for i in 0..<length {
                        guard valid > 0 else { continue }
                        var scores = [Double](repeating: 0, count: valid)
                        for j in 0..<valid {
                            var dot = 0.0
                            for e in 0..<headDim {
                                dot += q[(b * length + i) * width + h * headDim + e] * k[(b * length + j) * width + h * headDim + e]
                            }
                            scores[j] = Double(scale) * dot
                        }
                        let peak = scores.max()!
                        let exps = scores.map { exp($0 - peak) }
                        let total = exps.reduce(0, +)
                        for j in 0..<valid {
                            let p = exps[j] / total
                            probabilities[((b * heads + h) * length + i) * length + j] = p
                            for e in 0..<headDim {
                                out[(b * length + i) * width + h * headDim + e] += p * v[(b * length + j) * width + h * headDim + e]
                            }
                        }
                    }
                }
            }
            return (out, probabilities)
        }
    }

    @Test("forward matches a naive Float64 loop (B=2, T=5, heads=3, d=4, lengths [5, 3])")
    func forwardMatchesReference() {
        let problem = Problem(batch: 2, length: 5, heads: 3, headDim: 4, lengths: [5, 3], seed: 10)
        problem.forward()
        let expected = problem.reference()
        expectClose(problem.out.array, expected.out, rtol: 1e-4, atol: 1e-5, "out")
        expectClose(problem.probabilities.array, expected.probabilities, rtol: 1e-4, atol: 1e-6, "probabilities")
    }

    @Test("a length-0 sequence gives zero outputs and zero gradients; odd lengths are clamped")
    func emptyAndClampedSequences() {
        let problem = Problem(batch: 3, length: 4, heads: 2, headDim: 3, lengths: [0, 2, 4], seed: 20)
        problem.forward()
        let expected = problem.reference()
        expectClose(problem.out.array, expected.out, "out")
        expectClose(problem.probabilities.array, expected.probabilities, atol: 1e-6, "probabilities")
        let perSequence = 4 * 2 * 3
        #expect(problem.out.array[0..<perSequence].allSatisfy { $0 == 0 })
        #expect(problem.probabilities.array[0..<(2 * 4 * 4)].allSatisfy { $0 == 0 })

        let dOut = TestBuffer(random: problem.count, seed: 21)
        problem.backward(dOut)
        for gradient in [problem.dQ, problem.dK, problem.dV] {
            #expect(gradient.array.allSatisfy { $0.isFinite })
            #expect(gradient.array[0..<perSequence].allSatisfy { $0 == 0 })
        }
        // Padded keys of sequence 1 (rows 2, 3) get no key or value gradient.
        for gradient in [problem.dK, problem.dV] {
            #expect(gradient.array[(perSequence + 2 * 6)..<(2 * perSequence)].allSatisfy { $0 == 0 })
        }

        // Negative and too-long lengths behave as 0 and T.
        let out = problem.out.array, probabilities = problem.probabilities.array
        problem.lengths = [-7, 2, 1000]
        problem.out.fill(.nan)
        problem.forward()
        #expect(problem.out.array == out)
        #expect(problem.probabilities.array == probabilities)
    }

    @Test("backward matches finite differences")
    func backwardGradientCheck() {
        let problem = Problem(batch: 2, length: 5, heads: 3, headDim: 4, lengths: [5, 3], seed: 30)
        GradientCheck.check(inputs: [problem.q, problem.k, problem.v], forward: {
            problem.forward()
            return problem.out.array
        }, backward: { dOutValues in
            problem.forward()
            problem.backward(TestBuffer(dOutValues))
            return [problem.dQ.array, problem.dK.array, problem.dV.array]
        }, "attention")
    }

    @Test("backward with a length-0 sequence matches finite differences")
    func backwardGradientCheckWithEmptySequence() {
        let problem = Problem(batch: 2, length: 3, heads: 2, headDim: 2, lengths: [0, 2], seed: 35)
        GradientCheck.check(inputs: [problem.q, problem.k, problem.v], forward: {
            problem.forward()
            return problem.out.array
        }, backward: { dOutValues in
            problem.forward()
            problem.backward(TestBuffer(dOutValues))
            return [problem.dQ.array, problem.dK.array, problem.dV.array]
        }, "attention with an empty sequence")
    }

    @Test("the forward with one plane a thread (the interpreter's) gives the saving forward's output, bit for bit")
    func forwardWithoutProbabilities() {
        let problem = Problem(batch: 3, length: 9, heads: 4, headDim: 5, lengths: [9, 4, 0], seed: 70)
        problem.forward()
        let saved = problem.out.array
        let threads = KernelThreads.count
        defer { KernelThreads.set(threads) }
        for count in [1, 2, 3] {
            KernelThreads.set(count)
            let workspace = TestBuffer(count: Attention.forwardWorkspaceCount(sequenceLength: problem.length), value: .nan)
            let out = TestBuffer(count: problem.count, value: .nan)
            problem.lengths.withUnsafeBufferPointer { lengths in
                #expect(allocations {
                    Attention.forward(
                        q: problem.q.readOnly, k: problem.k.readOnly, v: problem.v.readOnly, lengths: lengths.baseAddress!,
                        workspace: workspace.pointer, out: out.pointer, batch: problem.batch, sequenceLength: problem.length,
                        heads: problem.heads, headDim: problem.headDim, scale: problem.scale)
                } == 0)
            }
            #expect(out.array.map(\.bitPattern) == saved.map(\.bitPattern), "\(count) threads")
        }
    }

    @Test("the backward with recomputed probabilities (training keeps none) gives the saved ones' gradients, bit for bit")
    func recomputedProbabilities() {
        let problem = Problem(batch: 3, length: 7, heads: 3, headDim: 4, lengths: [7, 4, 0], seed: 51)
        problem.forward()
        let dOut = TestBuffer(random: problem.count, seed: 52)
        problem.backward(dOut)
        let saved = [problem.dQ.array, problem.dK.array, problem.dV.array]
        problem.backward(dOut, recompute: true)
        #expect([problem.dQ.array, problem.dK.array, problem.dV.array] == saved)
    }

    @Test("a padded sequence gives the unpadded run's outputs and gradients on its valid positions")
    func paddedEqualsUnpadded() {
        let (heads, headDim, valid, padded) = (3, 4, 3, 6)
        let width = heads * headDim
        let long = Problem(batch: 1, length: padded, heads: heads, headDim: headDim, lengths: [Int32(valid)], seed: 40)
        let short = Problem(batch: 1, length: valid, heads: heads, headDim: headDim, lengths: [Int32(valid)], seed: 99)
        for index in 0..<(valid * width) {
            short.q[index] = long.q[index]
            short.k[index] = long.k[index]
            short.v[index] = long.v[index]
        }
        long.forward()
        short.forward()
        expectClose(Array(long.out.array[0..<(valid * width)]), short.out.doubles, rtol: 1e-5, atol: 1e-6, "out")

        // Padded queries still attend to the valid keys, so their output gradient must be 0 (as after pooling
        // over valid frames) for the valid keys' gradients to match the unpadded run.
        let dOutLong = TestBuffer(random: padded * width, seed: 41)
        for index in (valid * width)..<(padded * width) { dOutLong[index] = 0 }
        let dOutShort = TestBuffer(Array(dOutLong.array[0..<(valid * width)]))
        long.backward(dOutLong)
        short.backward(dOutShort)
        expectClose(Array(long.dQ.array[0..<(valid * width)]), short.dQ.doubles, rtol: 1e-5, atol: 1e-6, "dQ")
        expectClose(Array(long.dK.array[0..<(valid * width)]), short.dK.doubles, rtol: 1e-5, atol: 1e-6, "dK")
        expectClose(Array(long.dV.array[0..<(valid * width)]), short.dV.doubles, rtol: 1e-5, atol: 1e-6, "dV")
        #expect(long.dK.array[(valid * width)...].allSatisfy { $0 == 0 })
        #expect(long.dV.array[(valid * width)...].allSatisfy { $0 == 0 })
    }

    @Test("bitwise the same for a repeated thread count; within float32 rounding across 1 and 2 threads (OpenBLAS products)")
    func threadCountContract() {
        ThreadContract.expectThroughGEMM {
            // Big enough for the softmax rows (forward and backward) to split into two chunks.
            let problem = Problem(batch: 2, length: 128, heads: 2, headDim: 8, lengths: [128, 77], seed: 50)
            problem.forward()
            problem.backward(TestBuffer(random: problem.count, seed: 51))
            return [problem.out.array, problem.probabilities.array, problem.dQ.array, problem.dK.array, problem.dV.array]
        }
    }

    @Test("forward and backward allocate nothing")
    func noAllocation() {
        let problem = Problem(batch: 2, length: 5, heads: 3, headDim: 4, lengths: [5, 0], seed: 60)
        let dOut = TestBuffer(random: problem.count, seed: 61)
        let lengths: [Int32] = problem.lengths
        #expect(allocations {
            lengths.withUnsafeBufferPointer { lengths in
                Attention.forward(
                    q: problem.q.readOnly, k: problem.k.readOnly, v: problem.v.readOnly, lengths: lengths.baseAddress!,
                    probabilities: problem.probabilities.pointer, out: problem.out.pointer,
                    batch: 2, sequenceLength: 5, heads: 3, headDim: 4, scale: problem.scale)
                Attention.backward(
                    dOut: dOut.readOnly, q: problem.q.readOnly, k: problem.k.readOnly, v: problem.v.readOnly,
                    probabilities: problem.probabilities.readOnly, lengths: lengths.baseAddress!,
                    dQ: problem.dQ.pointer, dK: problem.dK.pointer, dV: problem.dV.pointer,
                    workspace: problem.workspace.pointer,
                    batch: 2, sequenceLength: 5, heads: 3, headDim: 4, scale: problem.scale)
            }
        } == 0)
    }
}

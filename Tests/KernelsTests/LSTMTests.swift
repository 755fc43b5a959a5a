import Foundation
import Kernels
import Testing

/// The buffers of one bidirectional LSTM call: inputs, parameters of both directions, outputs, saved values,
/// workspace and gradients, all random-initialised from a seed.
private final class LSTMFixture {
    let shape: LSTM.Shape
    let lengths: UnsafeMutablePointer<Int32>
    let x: TestBuffer
    /// weightIH, weightHH, biasIH, biasHH of the forward direction, then of the reverse direction.
    let parameters: [TestBuffer]
    let y: TestBuffer
    let saved: TestBuffer
    let workspace: TestBuffer
    let dx: TestBuffer
    /// Laid out like `parameters`.
    let gradients: [TestBuffer]

    /// `poisonPadding` fills `x` at padded frames with NaN, which the kernels must never read.
    init(batch: Int, steps: Int, input: Int, hidden: Int, lengths values: [Int32], seed: UInt64, poisonPadding: Bool = false) {
        shape = LSTM.Shape(batch: batch, steps: steps, inputSize: input, hiddenSize: hidden)
        lengths = .allocate(capacity: max(1, batch))
        for b in 0..<batch { lengths[b] = values[b] }
        x = TestBuffer(random: batch * steps * input, seed: seed)
        if poisonPadding {
            for b in 0..<batch where Int(values[b]) < steps {
                for index in (b * steps + max(0, Int(values[b]))) * input..<(b + 1) * steps * input { x[index] = .nan }
            }
        }
        let sizes = [4 * hidden * input, 4 * hidden * hidden, 4 * hidden, 4 * hidden]
        parameters = (0..<8).map { TestBuffer(random: sizes[$0 % 4], seed: seed &+ 1 &+ UInt64($0), low: -0.6, high: 0.6) }
        gradients = (0..<8).map { TestBuffer(count: sizes[$0 % 4]) }
        y = TestBuffer(count: batch * steps * 2 * hidden, value: .nan)
        saved = TestBuffer(count: LSTM.savedCount(shape), value: .nan)
        workspace = TestBuffer(count: LSTM.backwardWorkspaceCount(shape), value: .nan)
        dx = TestBuffer(count: batch * steps * input, value: .nan)
    }

    deinit { lengths.deallocate() }

    var lengthValues: [Int] { (0..<shape.batch).map { min(max(Int(lengths[$0]), 0), shape.steps) } }

    func weights(_ direction: Int) -> LSTM.Weights {
        let p = direction * 4
        return LSTM.Weights(
            weightIH: parameters[p].readOnly, weightHH: parameters[p + 1].readOnly,
            biasIH: parameters[p + 2].readOnly, biasHH: parameters[p + 3].readOnly)
    }

    func gradientPointers(_ direction: Int) -> LSTM.Gradients {
        let p = direction * 4
        return LSTM.Gradients(
            weightIH: gradients[p].pointer, weightHH: gradients[p + 1].pointer,
            biasIH: gradients[p + 2].pointer, biasHH: gradients[p + 3].pointer)
    }

    func forward() {
        LSTM.forward(
            x: x.readOnly, lengths: lengths, weights: weights(0), reverseWeights: weights(1), y: y.pointer,
            saved: saved.pointer, shape: shape)
    }

    func backward(dy: TestBuffer, computeDX: Bool = true, accumulate: Bool = false) {
        LSTM.backward(
            x: x.readOnly, lengths: lengths, weights: weights(0), reverseWeights: weights(1), y: y.readOnly,
            saved: saved.readOnly, dy: dy.readOnly, dx: computeDX ? dx.pointer : nil,
            gradients: gradientPointers(0), reverseGradients: gradientPointers(1), workspace: workspace.pointer,
            shape: shape, accumulate: accumulate)
    }

    /// A random output gradient, NaN at padded frames (never read).
    func outputGradient(seed: UInt64) -> TestBuffer {
        let dy = TestBuffer(random: y.count, seed: seed)
        let width = 2 * shape.hiddenSize
        for (b, length) in lengthValues.enumerated() {
            for index in (b * shape.steps + length) * width..<(b + 1) * shape.steps * width { dy[index] = .nan }
        }
        return dy
    }

    /// Straightforward Float64 recursion, one sequence and one direction at a time.
    func reference() -> [Double] {
        let (steps, input, hidden) = (shape.steps, shape.inputSize, shape.hiddenSize)
        var y = [Double](repeating: 0, count: shape.batch * steps * 2 * hidden)
        func sigmoid(_ v: Double) -> Double { 1 / (1 + Foundation.exp(-v)) }
        for (b, length) in lengthValues.enumerated() {
            for direction in 0..<2 {
                let wih = parameters[direction * 4].doubles, whh = parameters[direction * 4 + 1].doubles
                let bih = parameters[direction * 4 + 2].doubles, bhh = parameters[direction * 4 + 3].doubles
                var h = [Double](repeating: 0, count: hidden), c = h
                let frames: [Int] = direction == 0 ? Array(0..<length) : Array((0..<length).reversed())
                for t in frames {
                    var gates = [Double](repeating: 0, count: 4 * hidden)
                    for k in 0..<4 * hidden {
                        var total = bih[k] + bhh[k]
                        for i in 0..<input { total += Double(x[(b * steps + t) * input + i]) * wih[k * input + i] }
                        for j in 0..<hidden { total += h[j] * whh[k * hidden + j] }
                        gates[k] = total
                    }
                    for j in 0..<hidden {
                        let i = sigmoid(gates[j]), f = sigmoid(gates[hidden + j])
                        let g = Foundation.tanh(gates[2 * hidden + j]), o = sigmoid(gates[3 * hidden + j])
                        c[j] = f * c[j] + i * g
                        h[j] = o * Foundation.tanh(c[j])
                        y[(b * steps + t) * 2 * hidden + direction * hidden + j] = h[j]
                    }
                }
            }
        }
        return y
    }
}

@Suite("Bidirectional LSTM")
struct LSTMTests {
    @Test("forward against a Float64 recursion, padded outputs exactly 0")
    func forwardMatchesReference() {
        let fixture = LSTMFixture(batch: 3, steps: 5, input: 7, hidden: 3, lengths: [5, 2, 0], seed: 1, poisonPadding: true)
        fixture.forward()
        expectClose(fixture.y.array, fixture.reference(), rtol: 1e-4, atol: 2e-6, "lstm forward")
        let width = 2 * fixture.shape.hiddenSize
        for (b, length) in fixture.lengthValues.enumerated() {
            for t in length..<fixture.shape.steps {
                for j in 0..<width {
                    #expect(fixture.y[(b * fixture.shape.steps + t) * width + j] == 0, "y[\(b), \(t), \(j)]")
                }
            }
        }
    }

    @Test("a padded sequence matches the same sequence run alone, forward and dx")
    func paddingIsTransparent() {
        let (input, hidden) = (4, 5)
        let batched = LSTMFixture(batch: 3, steps: 6, input: input, hidden: hidden, lengths: [6, 3, 4], seed: 2, poisonPadding: true)
        let alone = LSTMFixture(batch: 1, steps: 3, input: input, hidden: hidden, lengths: [3], seed: 2)
        for index in 0..<3 * input { alone.x[index] = batched.x[6 * input + index] }
        for (target, source) in zip(alone.parameters, batched.parameters) { target.pointer.update(from: source.pointer, count: source.count) }
        batched.forward()
        alone.forward()
        let width = 2 * hidden
        let ySequence = Array(batched.y.array[6 * width..<9 * width])
        expectClose(ySequence, alone.y.doubles, rtol: 1e-6, atol: 1e-7, "y of the padded sequence")
        #expect(batched.y.array[9 * width..<12 * width].allSatisfy { $0 == 0 })

        let dy = batched.outputGradient(seed: 3)
        let dyAlone = TestBuffer(Array(dy.array[6 * width..<9 * width]))
        batched.backward(dy: dy)
        alone.backward(dy: dyAlone)
        expectClose(Array(batched.dx.array[6 * input..<9 * input]), alone.dx.doubles, rtol: 1e-5, atol: 1e-7, "dx of the padded sequence")
        #expect(batched.dx.array[9 * input..<12 * input].allSatisfy { $0 == 0 })
        for (index, gradient) in batched.gradients.enumerated() {
            #expect(gradient.array.allSatisfy { $0.isFinite }, "gradient \(index) is finite despite NaN padding")
        }
    }

    @Test("backward against finite differences for x and the 8 parameter tensors")
    func backwardMatchesFiniteDifferences() {
        let fixture = LSTMFixture(batch: 4, steps: 4, input: 3, hidden: 2, lengths: [4, 2, 0, 3], seed: 4)
        GradientCheck.check(
            inputs: [fixture.x] + fixture.parameters,
            forward: {
                fixture.forward()
                return fixture.y.array
            },
            backward: { values in
                fixture.forward()
                fixture.backward(dy: TestBuffer(values))
                return [fixture.dx.array] + fixture.gradients.map(\.array)
            }, "lstm")
    }

    @Test("accumulate adds the gradients to what the buffers hold; dx is overwritten")
    func accumulateAddsGradients() {
        let fixture = LSTMFixture(batch: 3, steps: 4, input: 5, hidden: 3, lengths: [2, 4, 3], seed: 5)
        fixture.forward()
        let dy = fixture.outputGradient(seed: 6)
        fixture.backward(dy: dy)
        let fresh = fixture.gradients.map(\.array)
        let freshDX = fixture.dx.array
        let existing = fixture.gradients.enumerated().map { TestBuffer(random: $1.count, seed: 100 + UInt64($0)) }
        for (target, source) in zip(fixture.gradients, existing) { target.pointer.update(from: source.pointer, count: source.count) }
        fixture.dx.fill(7)
        fixture.backward(dy: dy, accumulate: true)
        for index in 0..<8 {
            let expected = zip(existing[index].doubles, fresh[index]).map { $0 + Double($1) }
            expectClose(fixture.gradients[index].array, expected, rtol: 1e-5, atol: 1e-6, "accumulated gradient \(index)")
        }
        #expect(fixture.dx.array == freshDX)
    }

    @Test("forward and backward allocate nothing")
    func noAllocation() {
        let fixture = LSTMFixture(batch: 4, steps: 6, input: 8, hidden: 5, lengths: [6, 3, 0, 5], seed: 7)
        fixture.forward()
        let dy = fixture.outputGradient(seed: 8)
        #expect(allocations {
            fixture.forward()
            fixture.backward(dy: dy)
            fixture.backward(dy: dy, computeDX: false, accumulate: true)
        } == 0)
    }

    @Test("bitwise the same for a repeated thread count; within float32 rounding across 1 and 2 threads (OpenBLAS products)")
    func threadCountContract() {
        // 130 sequences of hidden size 128 are enough for the per-frame loops to split across two threads. The input
        // and recurrent products go through OpenBLAS, so 1 and 2 threads agree within a tolerance (the contract).
        let lengths: [Int32] = (0..<130).map { Int32($0 % 5) }
        ThreadContract.expectThroughGEMM {
            let fixture = LSTMFixture(batch: 130, steps: 4, input: 6, hidden: 128, lengths: lengths, seed: 9)
            fixture.forward()
            fixture.backward(dy: fixture.outputGradient(seed: 10))
            return [fixture.y.array, fixture.saved.array, fixture.dx.array] + fixture.gradients.map(\.array)
        }
    }

    @Test("lengths outside 0...T are clamped")
    func lengthsAreClamped() {
        let wild = LSTMFixture(batch: 3, steps: 4, input: 3, hidden: 2, lengths: [-5, 9, Int32.max], seed: 11)
        let clamped = LSTMFixture(batch: 3, steps: 4, input: 3, hidden: 2, lengths: [0, 4, 4], seed: 11)
        wild.forward()
        clamped.forward()
        #expect(wild.y.array == clamped.y.array)
        expectClose(wild.y.array, clamped.reference(), rtol: 1e-4, atol: 2e-6, "clamped forward")
        let dy = clamped.outputGradient(seed: 12)
        wild.backward(dy: dy)
        clamped.backward(dy: dy)
        #expect(wild.dx.array == clamped.dx.array)
        #expect(zip(wild.gradients, clamped.gradients).allSatisfy { $0.array == $1.array })
    }

    @Test("an all-empty batch gives zero outputs and gradients")
    func emptySequences() {
        let fixture = LSTMFixture(batch: 2, steps: 3, input: 4, hidden: 3, lengths: [0, 0], seed: 13)
        fixture.gradients.forEach { $0.fill(5) }
        fixture.forward()
        fixture.backward(dy: fixture.outputGradient(seed: 14))
        #expect(fixture.y.array.allSatisfy { $0 == 0 })
        #expect(fixture.dx.array.allSatisfy { $0 == 0 })
        #expect(fixture.gradients.allSatisfy { $0.array.allSatisfy { $0 == 0 } })
    }
}

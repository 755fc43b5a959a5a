import Kernels
import Testing

@Suite("Masked mean pooling")
struct MaskedMeanPoolTests {
    /// Naive Float64 mean over the first `lengths[b]` frames (clamped into 0...length), zeros when empty.
    static func reference(x: [Double], lengths: [Int32], batch: Int, length: Int, channels: Int) -> [Double] {
        var out = [Double](repeating: 0, count: batch * channels)
        for b in 0..<batch {
            let valid = min(max(Int(lengths[b]), 0), length)
            guard valid > 0 else { continue }
            for c in 0..<channels {
                var total = 0.0
                for t in 0..<valid { total += x[(b * length + t) * channels + c] }
                out[b * channels + c] = total / Double(valid)
            }
        }
        return out
    }

    static func forward(_ x: TestBuffer, _ lengths: [Int32], _ out: TestBuffer, batch: Int, length: Int, channels: Int) {
        lengths.withUnsafeBufferPointer { lengths in
            MaskedMeanPool.forward(
                x: x.readOnly, lengths: lengths.baseAddress!, out: out.pointer,
                batch: batch, sequenceLength: length, channels: channels)
        }
    }

    static func backward(_ dOut: TestBuffer, _ lengths: [Int32], _ dx: TestBuffer, batch: Int, length: Int, channels: Int) {
        lengths.withUnsafeBufferPointer { lengths in
            MaskedMeanPool.backward(
                dOut: dOut.readOnly, lengths: lengths.baseAddress!, dx: dx.pointer,
                batch: batch, sequenceLength: length, channels: channels)
        }
    }

    @Test("forward matches a naive Float64 loop, with an empty sequence and out-of-range lengths")
    func forwardMatchesReference() {
        let (batch, length, channels) = (5, 5, 7)
        let lengths: [Int32] = [5, 3, 0, -4, 99]
        let x = TestBuffer(random: batch * length * channels, seed: 1)
        let out = TestBuffer(count: batch * channels, value: .nan)
        Self.forward(x, lengths, out, batch: batch, length: length, channels: channels)
        expectClose(out.array, Self.reference(x: x.doubles, lengths: lengths, batch: batch, length: length, channels: channels), "pool")
        #expect(out.array[(2 * channels)..<(4 * channels)].allSatisfy { $0 == 0 })
    }

    @Test("backward matches finite differences and is zero on padded frames")
    func backwardGradientCheck() {
        let (batch, length, channels) = (3, 5, 4)
        let lengths: [Int32] = [5, 2, 0]
        let x = TestBuffer(random: batch * length * channels, seed: 2)
        GradientCheck.check(inputs: [x], forward: {
            let out = TestBuffer(count: batch * channels)
            Self.forward(x, lengths, out, batch: batch, length: length, channels: channels)
            return out.array
        }, backward: { dOutValues in
            let dx = TestBuffer(count: batch * length * channels, value: .nan)
            Self.backward(TestBuffer(dOutValues), lengths, dx, batch: batch, length: length, channels: channels)
            return [dx.array]
        }, "masked mean pool")

        let dOut = TestBuffer(random: batch * channels, seed: 3)
        let dx = TestBuffer(count: batch * length * channels, value: .nan)
        Self.backward(dOut, lengths, dx, batch: batch, length: length, channels: channels)
        #expect(dx.array[((length + 2) * channels)...].allSatisfy { $0 == 0 })
        #expect(dx[length * channels + 1] == dOut[channels + 1] / 2)
    }

    @Test("forward and backward allocate nothing")
    func noAllocation() {
        let (batch, length, channels) = (3, 6, 16)
        let lengths: [Int32] = [6, 0, 4]
        let x = TestBuffer(random: batch * length * channels, seed: 4)
        let out = TestBuffer(count: batch * channels), dx = TestBuffer(count: batch * length * channels)
        #expect(allocations {
            lengths.withUnsafeBufferPointer { lengths in
                MaskedMeanPool.forward(
                    x: x.readOnly, lengths: lengths.baseAddress!, out: out.pointer,
                    batch: batch, sequenceLength: length, channels: channels)
                MaskedMeanPool.backward(
                    dOut: out.readOnly, lengths: lengths.baseAddress!, dx: dx.pointer,
                    batch: batch, sequenceLength: length, channels: channels)
            }
        } == 0)
    }
}

import Kernels
import Testing

@Suite("Counter-based randomness: Philox, dropout, time masking")
struct RandomnessTests {
    @Test("Philox-4x32-10 reproduces the Random123 known-answer vectors")
    func philoxKnownAnswers() {
        #expect(Philox(seed: 0, step: 0, node: 0).block(0) == SIMD4(0x6627_E8D5, 0xE169_C58D, 0xBC57_AC4C, 0x9B00_DBD8))
        let ones = Philox(seed: .max, step: .max, node: .max)
        #expect(ones.block(.max) == SIMD4(0x408F_276D, 0x41C8_3B0E, 0xA20B_C7C6, 0x6D54_51FD))
        let pi = Philox(seed: 0x299F_31D0_A409_3822, step: 0x1319_8A2E_85A3_08D3, node: 0x0370_7344)
        #expect(pi.block(0x243F_6A88) == SIMD4(0xD16C_FE09, 0x94FD_CCEB, 0x5001_E420, 0x2412_6EA1))
    }

    @Test("eight blocks at once are eight single blocks, across the counter's wrap")
    func eightBlocks() {
        let stream = Philox(seed: 0x1234_5678_9ABC, step: 77, node: Philox.key("layers.3.ff_drop"))
        for first: UInt32 in [0, 1, 12_345, .max - 3] {
            let (w0, w1, w2, w3) = stream.blocks8(from: first)
            for lane in 0..<8 {
                #expect(SIMD4(w0[lane], w1[lane], w2[lane], w3[lane]) == stream.block(first &+ UInt32(lane)), "block \(first) + \(lane)")
            }
        }
    }

    @Test("dropout is the per-element rule: element offset + i kept when its uniform is at least p, at any offset and length")
    func dropoutMatchesItsDefinition() {
        let stream = Philox(seed: 9, step: 2, node: 5)
        let p: Float = 0.25
        for (offset, count) in [(0, 1), (0, 33), (3, 70), (5, 20_003), (1_000_001, 4_099)] {
            let x = TestBuffer(random: count, seed: 3, low: -1, high: 1), y = TestBuffer(count: count)
            Dropout.forward(x.readOnly, y.pointer, count: count, probability: p, stream: stream, offset: offset)
            let expected = (0..<count).map { stream.uniform(at: offset + $0) >= p ? x[$0] * (1 / (1 - p)) : 0 }
            #expect(y.array == expected, "offset \(offset), count \(count)")
        }
    }

    @Test("uniforms: mean, range, and independence of streams")
    func uniforms() {
        let count = 40_000
        let a = TestBuffer(count: count), b = TestBuffer(count: count)
        Philox(seed: 7, step: 1, node: 3).fillUniform(a.pointer, count: count)
        Philox(seed: 7, step: 2, node: 3).fillUniform(b.pointer, count: count)
        let mean = a.array.reduce(0, +) / Float(count)
        #expect(abs(mean - 0.5) < 0.01)
        #expect(a.array.allSatisfy { $0 >= 0 && $0 < 1 })
        #expect(a.array != b.array)
        let normal = TestBuffer(count: count)
        Philox(seed: 7).fillNormal(normal.pointer, count: count, mean: 1, std: 2)
        let normalMean = normal.doubles.reduce(0, +) / Double(count)
        let variance = normal.doubles.reduce(0) { $0 + ($1 - normalMean) * ($1 - normalMean) } / Double(count)
        #expect(abs(normalMean - 1) < 0.05)
        #expect(abs(variance.squareRoot() - 2) < 0.05)
    }

    @Test("dropout keeps about 1 - p, scales kept values, and its backward regenerates the same mask")
    func dropout() {
        let count = 10_001
        let p: Float = 0.3
        let stream = Philox(seed: 42, step: 5, node: 11)
        let x = TestBuffer(random: count, seed: 1, low: 0.5, high: 1.5), y = TestBuffer(count: count)
        Dropout.forward(x.readOnly, y.pointer, count: count, probability: p, stream: stream)
        let kept = (0..<count).filter { y[$0] != 0 }
        #expect(abs(Double(kept.count) / Double(count) - 0.7) < 0.02)
        for i in kept.prefix(100) { #expect(abs(y[i] - x[i] / 0.7) <= 1e-6) }
        let dy = TestBuffer(random: count, seed: 2, low: 0.5, high: 1.5), dx = TestBuffer(count: count)
        Dropout.backward(dy.readOnly, dx.pointer, count: count, probability: p, stream: stream)
        for i in 0..<count { #expect((dx[i] != 0) == (y[i] != 0)) }
        let mask = TestBuffer(count: count)
        Dropout.mask(mask.pointer, count: count, probability: p, stream: stream)
        #expect((0..<count).allSatisfy { (mask[$0] == 1) == (y[$0] != 0) })
    }

    @Test("dropout masks and time masks are identical for 1 and 2 threads and differ between steps")
    func threadIndependence() {
        let count = 300_000
        let saved = KernelThreads.count
        defer { KernelThreads.set(saved) }
        var masks = [[Float]]()
        var spans = [[Float]]()
        let lengths: [Int32] = [400, 250, 33]
        for threads in [1, 2] {
            KernelThreads.set(threads)
            let mask = TestBuffer(count: count)
            Dropout.mask(mask.pointer, count: count, probability: 0.1, stream: Philox(seed: 9, step: 3, node: 1))
            masks.append(mask.array)
            let timeMask = TestBuffer(count: 3 * 400)
            lengths.withUnsafeBufferPointer {
                TimeMask.spans(mask: timeMask.pointer, lengths: $0.baseAddress, batch: 3, frames: 400, probability: 0.3, spanLength: 10,
                               minimumSpans: 2, stream: Philox(seed: 9, step: 3, node: 2))
            }
            spans.append(timeMask.array)
        }
        #expect(masks[0] == masks[1])
        #expect(spans[0] == spans[1])
        let other = TestBuffer(count: count)
        Dropout.mask(other.pointer, count: count, probability: 0.1, stream: Philox(seed: 9, step: 4, node: 1))
        #expect(other.array != masks[0])
    }

    @Test("a slice of a batch (data-parallel shard) draws the dropout and time masks of its rows in the whole batch")
    func shardsDrawTheirRows() {
        let stream = Philox(seed: 5, step: 9, node: 3)
        let (batch, rowSize) = (5, 7 * 3)
        let ones = [Float](repeating: 1, count: batch * rowSize)
        var whole = [Float](repeating: 0, count: ones.count)
        Dropout.forward(ones, &whole, count: ones.count, probability: 0.4, stream: stream)
        for (first, rows) in [(0, 2), (2, 3), (1, 1), (3, 2)] {
            var part = [Float](repeating: 0, count: rows * rowSize)
            Dropout.forward(ones, &part, count: part.count, probability: 0.4, stream: stream, offset: first * rowSize)
            #expect(part == Array(whole[(first * rowSize)..<((first + rows) * rowSize)]), "rows \(first)..<\(first + rows)")
        }
        let frames = 40
        let lengths: [Int32] = [40, 31, 25, 40, 12]
        var mask = [Float](repeating: 0, count: batch * frames)
        TimeMask.spans(mask: &mask, lengths: lengths, batch: batch, frames: frames, probability: 0.3, spanLength: 4, minimumSpans: 1,
                       stream: stream)
        for first in 0..<batch - 1 {
            var part = [Float](repeating: 0, count: 2 * frames)
            TimeMask.spans(mask: &part, lengths: Array(lengths[first..<(first + 2)]), batch: 2, frames: frames, probability: 0.3,
                           spanLength: 4, minimumSpans: 1, stream: stream, firstRow: first)
            #expect(part == Array(mask[(first * frames)..<((first + 2) * frames)]))
        }
    }

    @Test("time masking: span count and placement as transformers' _compute_mask_indices")
    func timeMaskSpans() {
        let (frames, spanLength) = (200, 10)
        let lengths: [Int32] = [200, 120, 12, 5]
        let mask = TestBuffer(count: lengths.count * frames)
        for step in 0..<20 {
            lengths.withUnsafeBufferPointer {
                TimeMask.spans(mask: mask.pointer, lengths: $0.baseAddress, batch: lengths.count, frames: frames, probability: 0.65,
                               spanLength: spanLength, minimumSpans: 2, stream: Philox(seed: 1, step: UInt64(step)))
            }
            for (b, length) in lengths.map(Int.init).enumerated() {
                let row = Array(mask.array[b * frames..<(b + 1) * frames])
                #expect(row.allSatisfy { $0 == 0 || $0 == 1 })
                #expect(row[length...].allSatisfy { $0 == 0 }, "no masked frame beyond the length")
                // Masked frames come in runs whose lengths are multiples-or-unions of whole spans: every run >= span.
                var runs = [Int](), run = 0
                for value in row + [0] { if value == 1 { run += 1 } else if run > 0 { runs.append(run); run = 0 } }
                #expect(runs.allSatisfy { $0 >= spanLength || length < spanLength })
                let masked = row.filter { $0 == 1 }.count
                // Int(0.65 * n / 10 + u) spans (at least 2, at most what fits) cover at most that many * 10 frames.
                let most = min(max(Int(0.65 * Double(length) / 10 + 1), 2), length - spanLength + 1)
                #expect(masked <= max(0, most) * spanLength)
                if length < spanLength { #expect(masked == 0) } else { #expect(masked >= spanLength) }
            }
        }
    }

    @Test("time-mask apply and backward against finite differences")
    func timeMaskGradient() {
        let (batch, frames, channels) = (2, 6, 3)
        let mask = TestBuffer([0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1])
        let x = TestBuffer(random: batch * frames * channels, seed: 3), embedding = TestBuffer(random: channels, seed: 4)
        GradientCheck.check(inputs: [x, embedding], forward: {
            let y = TestBuffer(count: x.count)
            TimeMask.apply(x: x.readOnly, mask: mask.readOnly, embedding: embedding.readOnly, out: y.pointer, batch: batch, frames: frames, channels: channels)
            return y.array
        }, backward: { dyValues in
            let dy = TestBuffer(dyValues), dx = TestBuffer(count: x.count), dEmbedding = TestBuffer(count: channels)
            TimeMask.backward(dy: dy.readOnly, mask: mask.readOnly, dx: dx.pointer, dEmbedding: dEmbedding.pointer, batch: batch, frames: frames, channels: channels)
            return [dx.array, dEmbedding.array]
        }, "time mask")
    }
}

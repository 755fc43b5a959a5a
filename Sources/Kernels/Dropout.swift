/// Inverted dropout driven by a counter-based stream: element `i` is kept when the stream's uniform `i` is at
/// least `probability`, and kept values are scaled by `1 / (1 - probability)`.
///
/// The mask is a function of (seed, step, node, i) only, so the backward pass regenerates it instead of storing
/// it, and any thread count gives the same mask.
public enum Dropout {
    /// `y = x * mask / (1 - p)`; `y` may be `x`. A probability of 0 copies, 1 (or more) zeroes. Element `i` draws
    /// the stream's element `offset + i` (a slice of a larger tensor draws what that tensor draws there).
    public static func forward(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, probability: Float, stream: Philox, offset: Int = 0
    ) {
        apply(x, y, count: count, probability: probability, stream: stream, offset: offset)
    }

    /// `dx = dy * mask / (1 - p)` with the forward's mask (same stream); `dx` may be `dy`.
    public static func backward(
        _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, count: Int, probability: Float, stream: Philox, offset: Int = 0
    ) {
        apply(dy, dx, count: count, probability: probability, stream: stream, offset: offset)
    }

    /// Writes the keep mask (1 kept, 0 dropped) as floats, for inspection and tests.
    public static func mask(_ out: UnsafeMutablePointer<Float>, count: Int, probability: Float, stream: Philox) {
        out.update(repeating: 1, count: count)
        apply(out, out, count: count, probability: probability, stream: stream, scale: 1)
    }

    static func apply(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, probability: Float, stream: Philox,
        offset: Int = 0, scale explicitScale: Float? = nil
    ) {
        guard probability > 0 else {
            if UnsafePointer(y) != x { y.update(from: x, count: count) }
            return
        }
        guard probability < 1 else {
            y.update(repeating: 0, count: count)
            return
        }
        let scale = explicitScale ?? 1 / (1 - probability)
        // Stream blocks of four elements covering offset ..< offset + count.
        let firstBlock = offset >> 2
        let blocks = ((offset + count + 3) >> 2) - firstBlock
        /// Element `offset + index`'s word decides `y[index]`.
        @inline(__always) func keep(_ word: UInt32, _ index: Int) {
            guard index >= 0, index < count else { return }
            y[index] = Philox.unit(word) >= probability ? x[index] * scale : 0
        }
        // unit(word) >= p exactly when word >> 8 >= ceil(p * 2^24) (both sides hold 24-bit integers exactly).
        let threshold = SIMD8<UInt32>(repeating: UInt32((probability * 0x1p24).rounded(.up)))
        let scales = SIMD8<Float>(repeating: scale), zeros = SIMD8<Float>(repeating: 0)
        Parallel.forChunks(blocks, grain: 4_096) { range in
            var block = range.lowerBound
            // A first block that starts before the tensor (an offset inside a stream block) goes one by one.
            if block < range.upperBound, (firstBlock + block) * 4 < offset {
                let words = stream.block(UInt32(truncatingIfNeeded: firstBlock + block))
                let base = (firstBlock + block) * 4 - offset
                for lane in 0..<4 { keep(words[lane], base + lane) }
                block += 1
            }
            // Eight stream blocks (32 elements) at a time, eight elements to a vector, where all 32 are in the
            // tensor; the rest one by one: the same words, and the same test, either way.
            while block + 8 <= range.upperBound {
                let base = (firstBlock + block) * 4 - offset
                guard base >= 0, base + 32 <= count else { break }
                let (w0, w1, w2, w3) = stream.blocks8(from: UInt32(truncatingIfNeeded: firstBlock + block))
                for pair in 0..<4 {
                    // Elements in order: element 4 * lane + j is word j of block `lane`.
                    let a = 2 * pair, b = 2 * pair + 1
                    let words = SIMD8<UInt32>(w0[a], w1[a], w2[a], w3[a], w0[b], w1[b], w2[b], w3[b])
                    let at = base + 8 * pair
                    let kept = UnsafeRawPointer(x + at).loadUnaligned(as: SIMD8<Float>.self) * scales
                    UnsafeMutableRawPointer(y + at).storeBytes(
                        of: zeros.replacing(with: kept, where: (words &>> 8) .>= threshold), as: SIMD8<Float>.self)
                }
                block += 8
            }
            for block in block..<range.upperBound {
                let words = stream.block(UInt32(truncatingIfNeeded: firstBlock + block))
                let base = (firstBlock + block) * 4 - offset
                for lane in 0..<4 { keep(words[lane], base + lane) }
            }
        }
    }
}

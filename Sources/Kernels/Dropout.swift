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
        Parallel.forChunks(blocks, grain: 4_096) { range in
            for block in range {
                let words = stream.block(UInt32(truncatingIfNeeded: firstBlock + block))
                for lane in 0..<4 {
                    let index = (firstBlock + block) * 4 + lane - offset
                    guard index >= 0 else { continue }
                    guard index < count else { break }
                    y[index] = Philox.unit(words[lane]) >= probability ? x[index] * scale : 0
                }
            }
        }
    }
}

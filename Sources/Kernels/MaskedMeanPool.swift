/// Mean over the valid frames of padded sequences (utterance-level pooling).
///
/// Layouts (Float32, row-major; `T` is `sequenceLength`, `C` is `channels`):
/// - `x`, `dx`: `[batch, T, C]`; `out`, `dOut`: `[batch, C]`.
/// - `lengths`: Int32 `[batch]`, clamped into `0...T`, so any value is safe.
///
/// Semantics: `out[b] = (1 / L) * sum_{t < L} x[b, t]` with `L = lengths[b]`, zeros when `L == 0`;
/// `dx[b, t] = dOut[b] / L` for `t < L` and 0 for padded frames (and for every frame when `L == 0`).
/// Frames are summed in order, so results do not depend on the thread count.
public enum MaskedMeanPool {
    /// `out[b] = mean of x[b, t] over t < lengths[b]` (zeros for an empty sequence).
    public static func forward(
        x: UnsafePointer<Float>, lengths: UnsafePointer<Int32>, out: UnsafeMutablePointer<Float>,
        batch: Int, sequenceLength: Int, channels: Int
    ) {
        guard channels > 0 else { return }
        for b in 0..<max(0, batch) {
            let valid = Lengths.valid(lengths, b, frames: sequenceLength)
            // Zero rows write zeros, so an empty sequence pools to 0.
            Reduce.sumRows(
                x + b * sequenceLength * channels, rows: valid, columns: channels, into: out + b * channels,
                scale: valid > 0 ? 1 / Float(valid) : 0)
        }
    }

    /// `dx[b, t] = dOut[b] / lengths[b]` for valid frames, 0 elsewhere; `dx` is overwritten.
    public static func backward(
        dOut: UnsafePointer<Float>, lengths: UnsafePointer<Int32>, dx: UnsafeMutablePointer<Float>,
        batch: Int, sequenceLength: Int, channels: Int
    ) {
        guard channels > 0, sequenceLength > 0 else { return }
        Parallel.forChunks(max(0, batch) * sequenceLength, grain: max(1, 16_384 / channels)) { range in
            for row in range {
                let b = row / sequenceLength
                let t = row - b * sequenceLength
                let valid = Lengths.valid(lengths, b, frames: sequenceLength)
                let target = dx + row * channels
                if t < valid {
                    let inverse = 1 / Float(valid)
                    let source = dOut + b * channels
                    for c in 0..<channels { target[c] = source[c] * inverse }
                } else {
                    target.update(repeating: 0, count: channels)
                }
            }
        }
    }
}

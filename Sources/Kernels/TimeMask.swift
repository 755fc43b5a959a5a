/// HuBERT's time masking (SpecAugment-style spans, as transformers' `_compute_mask_indices`): spans of frames
/// are chosen per sequence and replaced by a learned embedding (`masked_spec_embed`).
///
/// For a sequence of `n` valid frames, the number of spans is `Int(probability * n / spanLength + u)` with `u`
/// uniform in [0, 1), at least `minimumSpans`, and at most what fits (`n - spanLength + 1` distinct starts,
/// `frames / spanLength` spans); span starts are distinct, drawn uniformly from `0 ... n - spanLength`, and spans
/// may overlap. Draws come from the counter-based stream, so a mask depends on (seed, step, node, sequence) only.
public enum TimeMask {
    /// Writes `mask[batch, frames]`: 1 for a masked frame, 0 otherwise. Lengths are clamped into `0...frames`
    /// (`nil`: all frames valid); frames at or beyond a sequence's length are never masked. Row `b` draws as row
    /// `firstRow + b` of a batch of the same padded length.
    public static func spans(
        mask: UnsafeMutablePointer<Float>, lengths: UnsafePointer<Int32>?, batch: Int, frames: Int,
        probability: Float, spanLength: Int, minimumSpans: Int, stream: Philox, firstRow: Int = 0
    ) {
        mask.update(repeating: 0, count: batch * frames)
        guard spanLength > 0, frames > 0 else { return }
        let startMarker: Float = 2
        for b in 0..<batch {
            let valid = Lengths.valid(lengths, b, frames: frames)
            let row = mask + b * frames
            // Row b draws as row firstRow + b of a larger batch padded alike (data-parallel shards).
            let drawBase = (firstRow + b) * (frames + 2)
            let epsilon = stream.uniform(at: drawBase)
            var spanCount = Int(probability * Float(valid) / Float(spanLength) + epsilon)
            spanCount = max(spanCount, minimumSpans)
            if spanCount * spanLength > frames { spanCount = frames / spanLength }
            let startCount = valid - spanLength + 1
            if startCount < spanCount { spanCount = max(startCount, 0) }
            guard spanCount > 0 else { continue }
            // Floyd's sampling of `spanCount` distinct starts in 0..<startCount, marked in the row itself.
            for draw in 0..<spanCount {
                let j = startCount - spanCount + draw
                let pick = min(Int(stream.uniform(at: drawBase + 1 + draw) * Float(j + 1)), j)
                if row[pick] == startMarker { row[j] = startMarker } else { row[pick] = startMarker }
            }
            // Expand from the last start backwards, so that no marker is overwritten before it is read.
            var t = startCount - 1
            while t >= 0 {
                if row[t] == startMarker {
                    for s in t..<(t + spanLength) { row[s] = 1 }
                }
                t -= 1
            }
        }
    }

    /// `out[b, t, :] = embedding` where `mask[b, t] != 0`, else `x[b, t, :]`. `out` may be `x`.
    public static func apply(
        x: UnsafePointer<Float>, mask: UnsafePointer<Float>, embedding: UnsafePointer<Float>,
        out: UnsafeMutablePointer<Float>, batch: Int, frames: Int, channels: Int
    ) {
        Parallel.forChunks(batch * frames, grain: max(1, 16_384 / max(1, channels))) { range in
            for row in range {
                let target = out + row * channels
                if mask[row] != 0 {
                    target.update(from: embedding, count: channels)
                } else if UnsafePointer(target) != x + row * channels {
                    target.update(from: x + row * channels, count: channels)
                }
            }
        }
    }

    /// `dx = dy` on unmasked frames and 0 on masked ones; `dEmbedding (+)= sum of dy over masked frames`.
    /// `dx` may be `dy`.
    public static func backward(
        dy: UnsafePointer<Float>, mask: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
        dEmbedding: UnsafeMutablePointer<Float>?, batch: Int, frames: Int, channels: Int, accumulate: Bool = false
    ) {
        let rows = batch * frames
        if let dEmbedding {
            Parallel.forChunks(channels, grain: 64) { range in
                if !accumulate { for c in range { dEmbedding[c] = 0 } }
                for row in 0..<rows where mask[row] != 0 {
                    let gradient = dy + row * channels
                    for c in range { dEmbedding[c] += gradient[c] }
                }
            }
        }
        guard let dx else { return }
        Parallel.forChunks(rows, grain: max(1, 16_384 / max(1, channels))) { range in
            for row in range {
                let target = dx + row * channels
                if mask[row] != 0 {
                    target.update(repeating: 0, count: channels)
                } else if UnsafePointer(target) != dy + row * channels {
                    target.update(from: dy + row * channels, count: channels)
                }
            }
        }
    }
}

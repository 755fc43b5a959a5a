/// Per-sequence lengths of padded batches: zeroing padded frames and the lengths after a strided window.
public enum SequenceMask {
    /// Sets frames `t >= lengths[b]` of `x: [batch, frames, width]` to 0, in place (lengths clamped into
    /// `0...frames`).
    public static func zeroPadding(
        _ x: UnsafeMutablePointer<Float>, lengths: UnsafePointer<Int32>, batch: Int, frames: Int, width: Int
    ) {
        for b in 0..<batch {
            let valid = Lengths.valid(lengths, b, frames: frames)
            if valid < frames { (x + (b * frames + valid) * width).update(repeating: 0, count: (frames - valid) * width) }
        }
    }

    /// `out[b] = max(0, floor((lengths[b] + 2 padding - kernel) / stride) + 1)`: the valid output frames of a
    /// convolution (transformers' `_get_feat_extract_output_lengths`). `out` may be `lengths`.
    public static func windowLengths(
        _ lengths: UnsafePointer<Int32>, into out: UnsafeMutablePointer<Int32>, batch: Int, kernel: Int, stride: Int,
        padding: Int
    ) {
        for b in 0..<batch {
            let span = Int(lengths[b]) + 2 * padding - kernel
            out[b] = span < 0 || stride < 1 ? 0 : Int32(clamping: span / stride + 1)
        }
    }
}

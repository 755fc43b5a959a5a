/// Per-sequence lengths of a padded batch (Int32 `[batch]`), as the kernels read them.
@usableFromInline
enum Lengths {
    /// `lengths[b]` clamped into `0...frames`: any value a user supplies is safe to index with. A nil `lengths`
    /// means every frame is valid.
    @inline(__always) @usableFromInline
    static func valid(_ lengths: UnsafePointer<Int32>?, _ b: Int, frames: Int) -> Int {
        guard let lengths else { return max(0, frames) }
        return min(max(Int(lengths[b]), 0), max(0, frames))
    }
}

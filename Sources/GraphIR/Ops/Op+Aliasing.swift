/// Which inputs an op's first output may share storage with: the kernels' alias rules ("`y` may be `x`") as data,
/// for the memory planner.
extension Op {
    public enum Aliasing: Equatable, Sendable {
        /// The output needs storage of its own.
        case none
        /// The output is a view of this input: the same bytes in another shape, no copy.
        case view(of: Int)
        /// The kernel may write the output over one of these inputs (of the output's size), when that input is read
        /// by nothing later.
        case inPlace(candidates: [Int])
    }

    public var aliasing: Aliasing {
        switch self {
        case .reshape: .view(of: 0)
        case .unary, .scale, .softmax, .logSoftmax, .layerNorm, .groupNorm, .dropout, .maskPadding, .timeMask:
            .inPlace(candidates: [0])
        // Binary ops could write over an operand of the output's full shape (never a broadcast one), but the
        // broadcasting kernel's loops then take the compiler's scalar fallback for overlapping pointers (3x slower).
        case .binary,
             .input, .parameter, .constant, .linear, .matmul, .conv1d, .weightNorm, .reduce, .transpose, .slice, .concat,
             .attention, .lstm, .maskedMeanPool, .windowLengths, .layerDrop, .crossEntropy, .amSoftmax, .cosineSimilarity,
             .kmeansAssign, .gradient:
            .none
        }
    }

    /// Outputs the runtime also keeps for the node's gradient node, beyond their last reader in the graph (the time
    /// mask): the memory planner leaves them out of the arena.
    public var outputsKeptForGradient: [Int] {
        if case .timeMask = self { [1] } else { [] }
    }
}

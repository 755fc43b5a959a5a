/// How an op combines with its neighbours, the table the compiler's fusion pass decides by (in the terms of TVM's
/// and XLA's fusers): which ops can run inside another's pass over memory, and which end one.
extension Op {
    public enum FusionCategory: String, Sendable, CaseIterable {
        /// Inputs, parameters, constants: nothing to compute.
        case source
        /// One output element from the same element of one input (GELU, scale, dropout).
        case elementwise
        /// One output element from the same element of several inputs, some broadcast (add, multiply).
        case broadcast
        /// Elements moved or selected, not combined (reshape, transpose, slice, concat, masking).
        case injective
        /// Elements combined along an axis (sums, softmax, norms, pooling): the output is complete only at the end.
        case reduction
        /// A product (GEMM, convolution) that can take an elementwise epilogue while its output tile is in registers.
        case product
        /// Kernels with their own loop structure (attention, LSTM, losses, k-means, gradients): nothing fuses into
        /// them from outside.
        case opaque
    }

    public var fusionCategory: FusionCategory {
        switch self {
        case .input, .parameter, .constant: .source
        case .unary, .scale, .dropout, .chain, .gradientChain: .elementwise
        case .binary: .broadcast
        case .reshape, .transpose, .slice, .concat, .maskPadding, .timeMask, .layerDrop: .injective
        case .reduce, .softmax, .logSoftmax, .layerNorm, .addLayerNorm, .groupNorm, .weightNorm, .maskedMeanPool: .reduction
        case .linear, .linearGroup, .matmul, .conv1d, .normalizedConv1d: .product
        case let .activated(op, _): op.fusionCategory
        case .attention, .lstm, .windowLengths, .crossEntropy, .amSoftmax, .cosineSimilarity, .kmeansAssign, .gradient:
            .opaque
        }
    }
}

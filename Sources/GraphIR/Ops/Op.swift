/// The operations of the graph IR: a closed set, each with its attributes.
///
/// Every concern that depends on the op is one exhaustive `switch` in its own file (`Op+Shape.swift` here, the
/// gradient rules in the compiler, the kernel calls in the runtime), so that adding a case makes the compiler point
/// at every place that must learn it. Each op maps onto the kernels of the `Kernels` module; the layouts are the
/// kernels' (row-major, channels last, PyTorch parameter layouts).
public indirect enum Op: Hashable, Sendable {
    /// The largest patch (kernel x input channels) a `normalizedConv1d` takes: its kernel's limit
    /// (`NormalizedConv1d.maximumPatch` in the Kernels module), which the fusion pass decides by.
    public static let normalizedConv1dMaximumPatch = 32

    // MARK: Sources

    /// A graph input, bound per call (`wave: f32[B, S]`).
    case input(name: String)
    /// A parameter or buffer from the parameter store, by its full name (`encoder.layers.3.attention.q_proj.weight`).
    case parameter(name: String, shape: [Dim])
    /// A scalar `f32[]` of this value (the seed of the backward pass: d loss / d loss = 1).
    case constant(Float)

    // MARK: Linear algebra

    /// `x W^T + b`: x `[..., in]`, weight `[out, in]`, optional bias `[out]` -> `[..., out]`.
    case linear
    /// An op (`linear`, `conv1d`, `group_norm`) and the pointwise activation that was its only reader, as one node:
    /// made by the compiler's fusion pass (never written in specs); inputs and output are the op's. The activation
    /// runs in the op's last pass over its output (a GEMM's epilogue while each tile is in registers, a norm's
    /// output loop), saving a write and a read of the pre-activation. Inference plans only: the activation's
    /// gradient would read the pre-activation.
    case activated(Op, UnaryFunction)
    /// `count` `linear` layers that read the same input, as one product over their weights side by side (the
    /// attention's q, k and v): made by the compiler's fusion pass (never written in specs). Inputs: x `[..., in]`,
    /// then each member's weight `[out_i, in]` and, when `bias`, its bias `[out_i]`; outputs: each member's
    /// `[..., out_i]`, in order. Every element is computed as the member's own `linear` computes it. Inference plans
    /// only: each member's gradient node is paired with its own forward node.
    case linearGroup(count: Int, bias: Bool)
    /// Pointwise ops applied one after the other (`gelu` then `dropout`), each a single-input op of the
    /// `elementwise` category (unary activations, `scale`, `dropout`): made by the compiler's elementwise-chain pass
    /// (never written in specs). One pass over memory, block by block while each block is in L1, instead of one pass
    /// per op; each element gets the ops' own operations in order (a dropout member draws its node's stream at the
    /// element's index). Input and output are the chain's first input and last output.
    case chain([Op])
    /// The gradient nodes of pointwise ops that feed one another in the backward pass (`dropout_grad` then
    /// `gelu_grad`), as one node: made by the elementwise-chain pass (never written in specs). `ops` are the forward
    /// ops in the order their gradients run (the last forward op's first). Inputs: each member's forward input `x`
    /// and output `y` in that order, then the incoming gradient `dy`; output: the gradient of the last member's `x`.
    /// One pass over memory, block by block, each block through every member's gradient kernel (a dropout member
    /// regenerates its mask from the node's stream).
    case gradientChain([Op])
    /// Batched matrix product over equal leading dimensions, optionally transposing the last two axes.
    case matmul(transposeA: Bool, transposeB: Bool)
    /// 1-D convolution, channels last: x `[B, T, Cin]`, weight `[Cout, Cin / groups, K]`, optional bias `[Cout]`
    /// -> `[B, floor((T + 2 padding - K) / stride) + 1, Cout]`.
    case conv1d(stride: Int, padding: Int, groups: Int)

    // MARK: Normalisation

    /// Over the last axis: x `[..., C]`, weight `[C]`, bias `[C]`.
    case layerNorm(eps: Float)
    /// `layer_norm(a + b)` in one pass over the rows: a residual `add` whose only reader was a `layer_norm`, fused
    /// by the compiler's fusion pass (never written in specs): a `[..., C]`, b the same shape, weight `[C]`, bias
    /// `[C]`. Each row's sum is made and normalised while it is in L1. Inference plans only.
    case addLayerNorm(eps: Float)
    /// Over time and each group's channels, valid frames only: x `[B, T, C]`, weight `[C]`, bias `[C]`, lengths
    /// i32 `[B]`.
    case groupNorm(groups: Int, eps: Float)
    /// A `conv1d` whose only reader is a `group_norm` over time (HuBERT's first layer), as one node: made by the
    /// compiler's fusion pass (never written in specs) for convolutions with one group and patches of at most 32
    /// values. Inputs: x `[B, T, Cin]`, weight `[Cout, Cin, K]`, the norm's weight `[Cout]` and bias `[Cout]`,
    /// lengths i32 `[B]` (of the output frames), then the convolution's optional bias `[Cout]`; output: the norm's.
    /// The norm's statistics come from the moments of the input patches (a convolution output's mean over time is the
    /// weight times the patches' mean, its variance the weight's quadratic form in their covariance), so the
    /// normalisation folds into the convolution's weight and bias and the output is written once. Inference plans
    /// only.
    case normalizedConv1d(stride: Int, padding: Int, groups: Int, normGroups: Int, eps: Float)
    /// `g * v / ||v||`, the norm over every axis but `axis`: v, g (`axis`'s length elements, any shape with that
    /// many) -> v's shape.
    case weightNorm(axis: Int)

    // MARK: Pointwise

    case unary(UnaryFunction)
    /// Broadcasting binary arithmetic (NumPy rules).
    case binary(BinaryFunction)
    /// `x * factor`.
    case scale(Float)
    /// Over the last axis.
    case softmax
    case logSoftmax

    // MARK: Shapes and reductions

    /// Sum or mean over axes (negative axes count from the end).
    case reduce(ReduceFunction, axes: [Int], keepDims: Bool)
    /// The same elements in a new shape with the same element count.
    case reshape([Dim])
    /// Axes permuted: output axis i is input axis `permutation[i]`.
    case transpose([Int])
    /// Elements `start ..< end` of `axis`; a negative `end` counts from the end (`-1` drops the last frame).
    case slice(axis: Int, start: Int, end: Int)
    /// Along `axis`; the other axes must agree.
    case concat(axis: Int)

    // MARK: Sequences

    /// Multi-head scaled dot-product attention with a key padding mask: q, k, v `[B, T, heads * d]`, lengths i32
    /// `[B]` -> `[B, T, heads * d]`; scores scaled by `d^-1/2`.
    case attention(heads: Int)
    /// Bidirectional one-layer LSTM over padded sequences: x `[B, T, In]`, lengths, then per direction
    /// (forward, reverse) weight_ih `[4H, In]`, weight_hh `[4H, H]`, bias_ih `[4H]`, bias_hh `[4H]` -> `[B, T, 2H]`.
    case lstm(hidden: Int)
    /// Mean over valid frames: x `[B, T, C]`, lengths -> `[B, C]`.
    case maskedMeanPool
    /// Frames at or beyond each sequence's length set to 0: x `[B, T, ...]`, lengths -> x's shape.
    case maskPadding
    /// Output lengths of a window over each sequence: lengths i32 `[B]` -> i32 `[B]`
    /// (`floor((n + 2 padding - kernel) / stride) + 1`, at least 0).
    case windowLengths(kernel: Int, stride: Int, padding: Int)

    // MARK: Training-time randomness (identity in evaluation)

    case dropout(probability: Float)
    /// LayerDrop (Fan et al. 2019; HuBERT's `layerdrop`): in training, with this probability per batch, the layer is
    /// skipped: the output is `skip` (the layer's input) instead of `layer` (its output). Evaluation: `layer`.
    case layerDrop(probability: Float)
    /// HuBERT's time-span masking: x `[B, T, C]`, lengths, embedding `[C]` -> x's shape, and the mask f32 `[B, T]`
    /// (1 where a frame was replaced; all 0 in evaluation), which losses over the masked frames read.
    case timeMask(probability: Float, spanLength: Int, minimumSpans: Int)

    // MARK: Losses (scalar `f32[]` outputs)

    /// Weighted mean cross-entropy: logits `[..., C]`, targets i32 `[...]` (the ignore index drops a row), optional
    /// class weights f32 `[C]`, optional frame mask f32 `[...]` (rows where it is 0 do not count).
    case crossEntropy(ignoreIndex: Int)
    /// Additive-margin softmax: features `[N, D]`, class weights `[C, D]`, targets i32 `[N]`.
    case amSoftmax(scale: Float, margin: Float)
    /// Cosine similarities of L2-normalised rows (AM-Softmax's prediction scores): features `[N, D]`, class
    /// weights `[C, D]` -> `[N, C]`.
    case cosineSimilarity

    // MARK: Pseudo-labels

    /// The nearest centroid of every frame (k-means pseudo-labels): features `[B, T, D]`, centroids `[K, D]` (fitted
    /// state, not trained) -> i32 `[B, T]`.
    case kmeansAssign

    // MARK: Gradients (made by the compiler's autodiff, never written in specs)

    /// The vector-Jacobian product of `forward`, fused into one node per forward node: inputs are the forward
    /// node's inputs, then its output, then the output's gradient; outputs are the gradients of the forward inputs
    /// flagged in `wrt` (in input order). `linear_grad(x, weight, bias, y, dy) -> dx, dweight, dbias`, say. The
    /// runtime pairs it with its forward node (the producer of the `y` input) to reuse what that node saved
    /// (layer-norm statistics, attention probabilities, the LSTM's gates, masks).
    case gradient(of: Op, wrt: [Bool])
}

/// Pointwise functions of one argument.
public enum UnaryFunction: String, Hashable, Sendable, CaseIterable {
    /// The exact GELU x Φ(x).
    case gelu
    case tanh
    case relu
    case sigmoid
}

/// Broadcasting functions of two arguments.
public enum BinaryFunction: String, Hashable, Sendable, CaseIterable {
    case add
    case subtract
    case multiply
}

/// Reductions over axes.
public enum ReduceFunction: String, Hashable, Sendable, CaseIterable {
    case sum
    case mean
}

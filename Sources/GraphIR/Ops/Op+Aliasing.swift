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
        case .unary, .scale, .softmax, .logSoftmax, .layerNorm, .groupNorm, .dropout, .maskPadding, .timeMask, .chain:
            .inPlace(candidates: [0])
        case .addLayerNorm: .inPlace(candidates: [0, 1])
        // A fused node writes its output as its op does (a norm in place; the activation reads what it overwrites).
        case let .activated(op, _): op.aliasing
        // Binary ops could write over an operand of the output's full shape (never a broadcast one), but the
        // broadcasting kernel's loops then take the compiler's scalar fallback for overlapping pointers (3x slower).
        case .binary,
             .input, .parameter, .constant, .linear, .linearGroup, .matmul, .conv1d, .normalizedConv1d, .weightNorm, .reduce, .transpose, .slice, .concat,
             .attention, .lstm, .maskedMeanPool, .windowLengths, .layerDrop, .crossEntropy, .amSoftmax, .cosineSimilarity,
             .kmeansAssign, .gradient, .gradientChain:
            .none
        }
    }

    /// Outputs the runtime also keeps for the node's gradient node, beyond their last reader in the graph (the time
    /// mask): the memory planner leaves them out of the arena.
    public var outputsKeptForGradient: [Int] {
        if case .timeMask = self { [1] } else { [] }
    }

    /// Which of a node's `inputCount` inputs its kernel reads the elements of (the others it reads for their shape
    /// at most): every input for a forward op; for a fused gradient node (inputs: the forward inputs, the forward
    /// output `y`, its gradient `dy`) what the backward kernel in the runtime's `Interpreter+Gradient.swift` reads.
    /// The memory planner ends a value's life at its last real read, so the two must agree: a read missing here is
    /// a read of memory another value may already hold.
    public func readsElements(inputCount: Int) -> [Bool] {
        if case let .gradientChain(ops) = self {
            // Per member (x, y): GELU and ReLU read x, tanh and sigmoid y, dropout and scale neither; then dy.
            var reads = [Bool](repeating: false, count: inputCount)
            for (index, op) in ops.enumerated() where 2 * index + 1 < inputCount {
                if case let .unary(function) = op {
                    switch function {
                    case .gelu, .relu: reads[2 * index] = true
                    case .tanh, .sigmoid: reads[2 * index + 1] = true
                    }
                }
            }
            if inputCount > 0 { reads[inputCount - 1] = true }
            return reads
        }
        guard case let .gradient(forward, wrt) = self else { return [Bool](repeating: true, count: inputCount) }
        let n = wrt.count, y = n
        var reads = [Bool](repeating: false, count: inputCount)
        func read(_ indices: some Sequence<Int>) { for index in indices where index < inputCount { reads[index] = true } }
        read([n + 1])  // dy
        switch forward {
        case .linear, .conv1d, .layerNorm, .weightNorm: read([0, 1])
        case .groupNorm: read([0, 1, 3])
        case let .unary(function):
            switch function {
            case .gelu, .relu: read([0])
            case .tanh, .sigmoid: read([y])
            }
        case .softmax, .logSoftmax: read([y])
        case let .binary(function):
            if function == .multiply { read([0, 1]) }
        case .reduce, .slice, .concat, .dropout, .layerDrop, .timeMask: break
        case .attention: read(0..<4)
        case .maskedMeanPool: read([1])
        case .lstm: read(0...y)
        case .crossEntropy, .amSoftmax: read(0..<n)
        // No fused gradient kernel (these differentiate through other ops): everything, to be safe.
        case .input, .parameter, .constant, .matmul, .scale, .reshape, .transpose, .maskPadding, .windowLengths,
             .cosineSimilarity, .kmeansAssign, .gradient, .activated, .addLayerNorm, .linearGroup, .chain, .gradientChain,
             .normalizedConv1d:
            read(0..<inputCount)
        }
        return reads
    }
}

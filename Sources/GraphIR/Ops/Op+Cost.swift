/// Floating-point operations of an op on concrete shapes: the multiply-adds of its products (counted as two), the
/// figure GFLOP/s are quoted in. Pointwise ops, norms and copies count 0: they are memory-bound, and leaving them
/// out keeps the count comparable with the usual model FLOP figures (HuBERT base: 56.9 GFLOP for 4 s).
extension Op {
    public func flops(inputs: [[Int]], outputs: [[Int]]) -> Double {
        func product(_ values: some Sequence<Int>) -> Double { values.reduce(1.0) { $0 * Double($1) } }
        switch self {
        case let .activated(product, _):
            return product.flops(inputs: inputs, outputs: outputs)
        case .linear:
            guard let x = inputs.first, let w = inputs.dropFirst().first, w.count == 2 else { return 0 }
            return 2 * product(x.dropLast()) * Double(w[0]) * Double(w[1])
        case let .linearGroup(_, bias):
            guard let x = inputs.first else { return 0 }
            let weights = inputs.dropFirst().enumerated().filter { !bias || $0.offset % 2 == 0 }.map(\.element)
            return weights.reduce(0) { $0 + (($1.count == 2) ? 2 * product(x.dropLast()) * Double($1[0]) * Double($1[1]) : 0) }
        case let .matmul(transposeA, _):
            guard let a = inputs.first, let out = outputs.first, a.count >= 2 else { return 0 }
            let k = transposeA ? a[a.count - 2] : a[a.count - 1]
            return 2 * product(out) * Double(k)
        case .conv1d, .normalizedConv1d:
            guard let w = inputs.dropFirst().first, let out = outputs.first, w.count == 3 else { return 0 }
            return 2 * product(out) * Double(w[1]) * Double(w[2])
        case let .attention(heads):
            guard let q = inputs.first, q.count == 3, heads > 0 else { return 0 }
            return 4 * Double(q[0]) * Double(q[1]) * Double(q[1]) * Double(q[2])
        case let .lstm(hidden):
            guard let x = inputs.first, x.count == 3 else { return 0 }
            let rows = Double(x[0] * x[1]), gates = Double(4 * hidden)
            return 2 * 2 * rows * gates * (Double(x[2]) + Double(hidden))
        case .kmeansAssign:
            guard let f = inputs.first, let c = inputs.dropFirst().first, f.count == 3, c.count == 2 else { return 0 }
            return 2 * Double(f[0] * f[1]) * Double(c[0]) * Double(c[1])
        case .cosineSimilarity, .amSoftmax:
            guard let f = inputs.first, let w = inputs.dropFirst().first, f.count == 2, w.count == 2 else { return 0 }
            return 2 * Double(f[0]) * Double(w[0]) * Double(f[1])
        case let .gradient(forward, wrt):
            // Each product of the forward op has one product per gradient it feeds (dx and dweight of a linear).
            let count = inputs.count - 2
            guard count >= 0, let y = inputs.last else { return 0 }
            let forwardFlops = forward.flops(inputs: Array(inputs.prefix(count)), outputs: [y])
            let products = wrt.prefix(2).filter { $0 }.count
            return forwardFlops * Double(products)
        case .input, .parameter, .constant, .layerNorm, .addLayerNorm, .groupNorm, .weightNorm, .unary, .binary, .scale, .softmax, .logSoftmax,
             .reduce, .reshape, .transpose, .slice, .concat, .maskedMeanPool, .maskPadding, .windowLengths, .dropout, .layerDrop,
             .timeMask, .crossEntropy, .chain, .gradientChain:
            return 0
        }
    }
}

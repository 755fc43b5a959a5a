import GraphIR
import Kernels

/// The kernel calls of the fused gradient nodes: one exhaustive switch over the forward op, so that a new op with
/// a gradient rule makes the compiler point here. Inputs are the forward inputs, the forward output `y` and its
/// gradient `dy`; outputs are the gradients of the forward inputs flagged in `wrt`, in order.
extension Interpreter {
    func executeGradient(
        _ forward: Op, wrt: [Bool], _ node: Node, _ x: [HostTensor], shapes: [[Int]], state: RunState, allocate: OutputAllocator,
        scratch: ScratchAllocator
    ) throws(RunError) -> [HostTensor] {
        let count = wrt.count
        let y = x[count], dy = x[count + 1]
        let forwardNode = try state.forwardNode(of: node)
        /// The gradient of forward input `index`, when flagged (zeros are not written: every kernel overwrites).
        var gradients = [Int: HostTensor]()
        for (position, index) in (0..<count).filter({ wrt[$0] }).enumerated() {
            gradients[index] = allocate(position, .f32, x[index].shape)
        }
        func d(_ index: Int) -> UnsafeMutablePointer<Float>? { gradients[index]?.floats }
        func saved() throws(RunError) -> [HostTensor] { try state.takeSaved(of: forwardNode) }
        /// The gradient of an input the rule always differentiates (the only float input of a unary op, the logits).
        func flagged(_ index: Int) throws(RunError) -> HostTensor {
            guard let gradient = gradients[index] else {
                throw RunError("internal: '\(node.name)' must compute the gradient of \(forward.name)'s input \(index)")
            }
            return gradient
        }

        switch forward {
        case .input, .parameter, .constant, .matmul, .scale, .reshape, .transpose, .maskPadding, .windowLengths,
             .cosineSimilarity, .kmeansAssign, .gradient, .activated, .addLayerNorm, .linearGroup, .chain, .gradientChain,
             .normalizedConv1d:
            throw RunError("internal: no fused gradient kernel for \(forward.name) (node '\(node.name)')")

        case .linear:
            let inFeatures = x[1].shape[1], outFeatures = x[1].shape[0]
            Linear.backward(x: x[0].floats, weight: x[1].floats, dy: dy.floats, dx: d(0), dWeight: d(1),
                            dBias: count > 2 ? d(2) : nil, rows: x[0].count / max(1, inFeatures),
                            inFeatures: inFeatures, outFeatures: outFeatures)

        case let .conv1d(stride, padding, groups):
            let geometry = Conv1d.Geometry(batch: x[0].shape[0], inChannels: x[0].shape[2], outChannels: x[1].shape[0],
                                           inLength: x[0].shape[1], kernel: x[1].shape[2], stride: stride, padding: padding, groups: groups)
            let workspace = scratch(geometry.workspaceCount)
            Conv1d.backward(geometry, x: x[0].floats, weight: x[1].floats, dy: dy.floats, dx: d(0), dWeight: d(1),
                            dBias: count > 2 ? d(2) : nil, workspace: workspace.floats)

        case .layerNorm:
            let stats = try saved()[0]
            let columns = x[0].shape.last ?? 1, rows = x[0].count / max(1, columns)
            LayerNorm.backward(x: x[0].floats, gamma: x[1].floats, dy: dy.floats, mean: stats.floats, rstd: stats.floats + rows,
                               dx: d(0), dGamma: d(1), dBeta: d(2), rows: rows, columns: columns)

        case let .groupNorm(groups, _):
            let stats = try saved()[0]
            let (batch, frames, channels) = (x[0].shape[0], x[0].shape[1], x[0].shape[2])
            let workspace = scratch(GroupNorm.workspaceCount(channels: channels))
            GroupNorm.backward(x: x[0].floats, gamma: x[1].floats, lengths: x[3].int32s, dy: dy.floats, mean: stats.floats,
                               rstd: stats.floats + batch * groups, dx: d(0), dGamma: d(1), dBeta: d(2),
                               workspace: workspace.floats, batch: batch, frames: frames, channels: channels, groups: groups)

        case let .weightNorm(axis):
            let norms = try saved()[0]
            let shape = x[0].shape
            let kept = axis < 0 ? axis + shape.count : axis
            let outer = shape[..<kept].reduce(1, *), size = shape[kept], inner = shape[(kept + 1)...].reduce(1, *)
            let dots = scratch(size)
            WeightNorm.backward(v: x[0].floats, g: x[1].floats, norms: norms.floats, dw: dy.floats, dv: d(0), dg: d(1),
                                dots: dots.floats, outer: outer, size: size, inner: inner)

        case let .unary(function):
            let activation = activation(function)
            activation.backward(saved: activation.backwardUsesOutput ? y.floats : x[0].floats, dy: dy.floats,
                                dx: try flagged(0).floats, count: y.count)

        case .softmax, .logSoftmax:
            let columns = y.shape.last ?? 1, rows = y.count / max(1, columns)
            if case .softmax = forward {
                Softmax.backward(y: y.floats, dy: dy.floats, dx: try flagged(0).floats, rows: rows, columns: columns)
            } else {
                Softmax.logBackward(y: y.floats, dy: dy.floats, dx: try flagged(0).floats, rows: rows, columns: columns)
            }

        case let .binary(function):
            // Each operand's gradient summed over the axes it was broadcast along.
            if let da = gradients[0] {
                if function == .multiply {
                    let product = scratch(y.count)
                    Elementwise.binary(.multiply, a: dy.floats, aShape: y.shape, b: x[1].floats, bShape: x[1].shape,
                                       out: product.floats, outShape: y.shape)
                    Reduce.sum(product.floats, shape: y.shape, into: da.floats, shape: x[0].shape)
                } else {
                    Reduce.sum(dy.floats, shape: y.shape, into: da.floats, shape: x[0].shape)
                }
            }
            if let db = gradients[1] {
                switch function {
                case .multiply:
                    let product = scratch(y.count)
                    Elementwise.binary(.multiply, a: dy.floats, aShape: y.shape, b: x[0].floats, bShape: x[0].shape,
                                       out: product.floats, outShape: y.shape)
                    Reduce.sum(product.floats, shape: y.shape, into: db.floats, shape: x[1].shape)
                case .add: Reduce.sum(dy.floats, shape: y.shape, into: db.floats, shape: x[1].shape)
                case .subtract: Reduce.sum(dy.floats, shape: y.shape, into: db.floats, shape: x[1].shape, scale: -1)
                }
            }

        case let .reduce(function, axes, _):
            // dy broadcast back over the reduced axes (divided by their size for a mean).
            let shape = x[0].shape
            let reduced = Set(axes.map { $0 < 0 ? $0 + shape.count : $0 })
            let keptShape = shape.indices.map { reduced.contains($0) ? 1 : shape[$0] }
            let reducedCount = shape.indices.filter { reduced.contains($0) }.map { shape[$0] }.reduce(1, *)
            var factor: Float = function == .mean ? 1 / Float(max(1, reducedCount)) : 1
            Elementwise.binary(.multiply, a: dy.floats, aShape: keptShape, b: &factor, bShape: [], out: try flagged(0).floats,
                               outShape: shape)

        case let .slice(axis, start, end):
            let shape = x[0].shape
            let kept = axis < 0 ? axis + shape.count : axis
            let length = shape[kept], stop = end < 0 ? length + end : end
            guard 0 <= start, start <= stop, stop <= length else {
                throw RunError("slice '\(forwardNode.name)' takes [\(start), \(stop)) of an axis of length \(length)")
            }
            let outer = shape[..<kept].reduce(1, *), inner = shape[(kept + 1)...].reduce(1, *)
            let dx = try flagged(0).floats
            dx.update(repeating: 0, count: x[0].count)
            let width = (stop - start) * inner
            for o in 0..<outer { (dx + (o * length + start) * inner).update(from: dy.floats + o * width, count: width) }

        case let .concat(axis):
            let shape = y.shape
            let kept = axis < 0 ? axis + shape.count : axis
            let outer = shape[..<kept].reduce(1, *), inner = shape[(kept + 1)...].reduce(1, *)
            var offset = 0
            for index in 0..<count {
                let length = x[index].shape[kept]
                if let dx = gradients[index] {
                    for o in 0..<outer {
                        (dx.floats + o * length * inner).update(from: dy.floats + (o * shape[kept] + offset) * inner, count: length * inner)
                    }
                }
                offset += length
            }

        case let .attention(heads):
            // The probabilities are recomputed per head from q and k (not kept from the forward pass).
            let (batch, frames, width) = (y.shape[0], y.shape[1], y.shape[2])
            let headDim = width / max(1, heads)
            let workspace = scratch(Attention.backwardWorkspaceCount(sequenceLength: frames, recomputing: true))
            // The kernel writes all three; unflagged ones go to scratch.
            let spare = (0..<3).map { gradients[$0] == nil ? scratch(y.count) : nil }
            func target(_ index: Int) -> UnsafeMutablePointer<Float> { gradients[index]?.floats ?? spare[index]?.floats ?? y.floats }
            Attention.backward(dOut: dy.floats, q: x[0].floats, k: x[1].floats, v: x[2].floats, probabilities: nil,
                               lengths: x[3].int32s, dQ: target(0), dK: target(1), dV: target(2), workspace: workspace.floats,
                               batch: batch, sequenceLength: frames, heads: heads, headDim: headDim,
                               scale: 1 / Float(headDim).squareRoot())

        case let .lstm(hidden):
            let lstmSaved = try saved()[0]
            let shape = LSTM.Shape(batch: y.shape[0], steps: y.shape[1], inputSize: x[0].shape[2], hiddenSize: hidden)
            let workspace = scratch(LSTM.backwardWorkspaceCount(shape))
            let spare = (0..<count).map { gradients[$0] == nil && $0 >= 2 ? scratch(x[$0].count) : nil }
            func target(_ index: Int) -> UnsafeMutablePointer<Float> { gradients[index]?.floats ?? spare[index]?.floats ?? y.floats }
            func weights(_ base: Int) -> LSTM.Weights {
                LSTM.Weights(weightIH: x[base].floats, weightHH: x[base + 1].floats, biasIH: x[base + 2].floats, biasHH: x[base + 3].floats)
            }
            func parameterGradients(_ base: Int) -> LSTM.Gradients {
                LSTM.Gradients(weightIH: target(base), weightHH: target(base + 1), biasIH: target(base + 2), biasHH: target(base + 3))
            }
            LSTM.backward(x: x[0].floats, lengths: x[1].int32s, weights: weights(2), reverseWeights: weights(6), y: y.floats,
                          saved: lstmSaved.floats, dy: dy.floats, dx: d(0), gradients: parameterGradients(2),
                          reverseGradients: parameterGradients(6), workspace: workspace.floats, shape: shape)

        case .maskedMeanPool:
            MaskedMeanPool.backward(dOut: dy.floats, lengths: x[1].int32s, dx: try flagged(0).floats, batch: x[0].shape[0],
                                    sequenceLength: x[0].shape[1], channels: x[0].shape[2])

        case let .dropout(probability):
            Dropout.backward(dy.floats, try flagged(0).floats, count: y.count, probability: probability,
                             stream: state.stream(for: forwardNode), offset: state.elementOffset(rows: y.shape.first ?? 1, count: y.count))

        case let .layerDrop(probability):
            // The gradient goes to the input that was the output; the other gets zeros.
            let skipped = state.skipsLayer(forwardNode, probability: probability)
            for (index, gradient) in gradients {
                if (index == 0) == skipped {
                    gradient.floats.update(from: dy.floats, count: gradient.count)
                } else {
                    gradient.floats.update(repeating: 0, count: gradient.count)
                }
            }

        case .timeMask:
            let mask = try saved()[0]
            TimeMask.backward(dy: dy.floats, mask: mask.floats, dx: d(0), dEmbedding: d(2), batch: y.shape[0],
                              frames: y.shape[1], channels: y.shape[2])

        case let .crossEntropy(ignoreIndex):
            let logSumExp = try saved()[0]
            let classes = x[0].shape.last ?? 1, rows = x[0].count / max(1, classes)
            CrossEntropy.backward(logits: x[0].floats, targets: x[1].int32s,
                                  classWeights: count > 2 ? UnsafePointer(x[2].floats) : nil,
                                  frameMask: count > 3 ? UnsafePointer(x[3].floats) : nil,
                                  ignoreIndex: Int32(clamping: ignoreIndex), logSumExp: logSumExp.floats, dLoss: dy.floats[0],
                                  dLogits: try flagged(0).floats, rows: rows, classes: classes)

        case let .amSoftmax(scale, margin):
            let intermediates = try saved()[0]
            let (rows, dimension, classes) = (x[0].shape[0], x[0].shape[1], x[1].shape[0])
            var cursor = intermediates.floats
            func take(_ count: Int) -> UnsafeMutablePointer<Float> { defer { cursor += count }; return cursor }
            let workspace = scratch(AMSoftmax.backwardWorkspaceCount(rows: rows, classes: classes))
            let spare = (0..<2).map { gradients[$0] == nil ? scratch(x[$0].count) : nil }
            func target(_ index: Int) -> UnsafeMutablePointer<Float> { gradients[index]?.floats ?? spare[index]?.floats ?? y.floats }
            AMSoftmax.backward(dLoss: dy.floats[0], targets: x[2].int32s, scale: scale, margin: margin,
                               cosine: take(rows * classes), normalizedFeatures: take(rows * dimension), featureNorms: take(rows),
                               normalizedWeight: take(classes * dimension), weightNorms: take(classes), logSumExp: take(rows),
                               dFeatures: target(0), dWeight: target(1), workspace: workspace.floats,
                               rows: rows, dimension: dimension, classes: classes)
        }
        return (0..<count).compactMap { gradients[$0] }
    }
}

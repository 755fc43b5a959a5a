import GraphIR
import Kernels

/// Where a node's output `position` of a dtype and shape is made: a view into the run's arena at its planned offset,
/// or a buffer from the pool.
typealias OutputAllocator = (_ position: Int, _ dtype: DType, _ shape: [Int]) -> HostTensor

/// Where a node's next scratch buffer of `count` floats is made (workspaces and what it saves for its gradient node,
/// in the order of `Interpreter.auxiliaryBuffers`): at its planned offset in the run's arena, or from the pool.
typealias ScratchAllocator = (_ count: Int) -> HostTensor

/// The kernel call of each op: one exhaustive switch, so that a new op makes the compiler point here.
extension Interpreter {
    func execute(
        _ node: Node, _ x: [HostTensor], shapes: [[Int]], inputs: [String: HostTensor], parameters: [String: HostTensor],
        state: RunState, allocate: OutputAllocator, scratch: ScratchAllocator
    ) throws(RunError) -> [HostTensor] {
        let shape = shapes[0]
        /// The node's first output: at its planned place in the run's arena, or from the pool.
        func output(_ dtype: DType = .f32) -> HostTensor { allocate(0, dtype, shape) }
        /// Kernels shared by an op and its fused form with an activation (`Op.activated`), which saves nothing for a
        /// gradient (fused nodes are inference only).
        func linear(_ function: UnaryFunction?) -> [HostTensor] {
            let out = output()
            let inFeatures = x[1].shape[1], outFeatures = x[1].shape[0]
            Linear.forward(x: x[0].floats, weight: x[1].floats, bias: x.count > 2 ? UnsafePointer(x[2].floats) : nil, y: out.floats,
                           rows: x[0].count / max(1, inFeatures), inFeatures: inFeatures, outFeatures: outFeatures,
                           activation: function.map(activation))
            return [out]
        }
        /// A convolution's sizes from its input `[B, T, Cin]` and weight `[Cout, Cin / groups, K]` (plain or fused).
        func convolutionGeometry(stride: Int, padding: Int, groups: Int) -> Conv1d.Geometry {
            Conv1d.Geometry(batch: x[0].shape[0], inChannels: x[0].shape[2], outChannels: x[1].shape[0],
                            inLength: x[0].shape[1], kernel: x[1].shape[2], stride: stride, padding: padding, groups: groups)
        }
        func convolution(stride: Int, padding: Int, groups: Int, _ function: UnaryFunction?) -> [HostTensor] {
            let out = output()
            let geometry = convolutionGeometry(stride: stride, padding: padding, groups: groups)
            let workspace = scratch(geometry.workspaceCount)
            // In inference, a constant weight is repacked once (per tensor and version), not on every call: tap-major
            // for the products, or as its spectrum for a long kernel (the FFT path).
            var packed: HostTensor?, spectrum: HostTensor?
            if state.mode == .inference, !geometry.usesDirectForward, state.readsConstant(node, input: 1) {
                if Conv1d.usesSpectral(geometry) {
                    spectrum = packedWeights.packed(of: node.name + " spectrum", weight: x[1],
                                                    count: Conv1d.spectralWeightCount(geometry)) { target in
                        Conv1d.spectralWeight(geometry, weight: x[1].floats, into: target.floats)
                    }
                } else {
                    packed = packedWeights.packed(of: node.name, weight: x[1], count: Conv1d.packedWeightCount(geometry)) { target in
                        Conv1d.packWeight(geometry, weight: x[1].floats, into: target.floats)
                    }
                }
            }
            Conv1d.forward(geometry, x: x[0].floats, weight: x[1].floats, bias: x.count > 2 ? UnsafePointer(x[2].floats) : nil,
                           y: out.floats, workspace: workspace.floats, activation: function.map(activation),
                           packedWeight: packed.map { UnsafePointer($0.floats) },
                           spectralWeight: spectrum.map { UnsafePointer($0.floats) })
            return [out]
        }
        func normalizedConvolution(
            stride: Int, padding: Int, groups: Int, normGroups: Int, eps: Float, _ function: UnaryFunction?
        ) throws(RunError) -> [HostTensor] {
            let geometry = convolutionGeometry(stride: stride, padding: padding, groups: groups)
            guard NormalizedConv1d.applies(geometry) else {
                throw RunError("internal: '\(node.name)' fuses a convolution with \(geometry.groups) groups and patches of "
                    + "\(geometry.patchSize) values into its norm; the fused kernel takes one group and at most \(NormalizedConv1d.maximumPatch)")
            }
            let out = output()
            let workspace = scratch(NormalizedConv1d.workspaceCount(geometry))
            NormalizedConv1d.forward(geometry, x: x[0].floats, weight: x[1].floats, bias: x.count > 5 ? UnsafePointer(x[5].floats) : nil,
                                     gamma: x[2].floats, beta: x[3].floats, lengths: x[4].int32s, groups: normGroups, eps: eps,
                                     y: out.floats, workspace: workspace.floats, activation: function.map(activation))
            return [out]
        }
        func groupNorm(groups: Int, eps: Float, _ function: UnaryFunction?) -> [HostTensor] {
            let out = output()
            let (batch, frames, channels) = (shape[0], shape[1], shape[2])
            let stats = scratch(2 * batch * groups)
            let workspace = scratch(GroupNorm.workspaceCount(channels: channels))
            GroupNorm.forward(x: x[0].floats, gamma: x[1].floats, beta: x[2].floats, lengths: x[3].int32s, y: out.floats,
                              mean: stats.floats, rstd: stats.floats + batch * groups, workspace: workspace.floats,
                              batch: batch, frames: frames, channels: channels, groups: groups, eps: eps,
                              activation: function.map(activation))
            if function == nil { state.save([stats], for: node) }
            return [out]
        }
        switch node.op {
        case let .input(name):
            guard let tensor = inputs[name] else { throw RunError("missing input '\(name)'") }
            return [tensor]

        case let .parameter(name, _):
            guard let tensor = parameters[name] else {
                throw RunError("missing parameter '\(name)' (f32\(shape))", hint: Suggestion.hint(for: name, in: parameters.keys))
            }
            guard tensor.dtype == .f32, tensor.shape == shape else {
                throw RunError("parameter '\(name)' must be f32\(shape), got \(tensor.typeDescription)")
            }
            return [tensor]

        case let .constant(value):
            let out = output()
            out.floats[0] = value
            return [out]

        case let .gradient(forward, wrt):
            return try executeGradient(forward, wrt: wrt, node, x, shapes: shapes, state: state, allocate: allocate,
                                        scratch: scratch)

        case .linear:
            return linear(nil)

        case let .conv1d(stride, padding, groups):
            return convolution(stride: stride, padding: padding, groups: groups, nil)

        case let .groupNorm(groups, eps):
            return groupNorm(groups: groups, eps: eps, nil)

        case .activated(.linear, let function):
            return linear(function)

        case let .activated(.conv1d(stride, padding, groups), function):
            return convolution(stride: stride, padding: padding, groups: groups, function)

        case let .activated(.groupNorm(groups, eps), function):
            return groupNorm(groups: groups, eps: eps, function)

        case let .normalizedConv1d(stride, padding, groups, normGroups, eps):
            return try normalizedConvolution(stride: stride, padding: padding, groups: groups, normGroups: normGroups, eps: eps, nil)

        case let .activated(.normalizedConv1d(stride, padding, groups, normGroups, eps), function):
            return try normalizedConvolution(stride: stride, padding: padding, groups: groups, normGroups: normGroups, eps: eps, function)

        case let .linearGroup(count, bias):
            let width = bias ? 2 : 1, inFeatures = x[0].shape.last ?? 1
            let outputs = (0..<count).map { allocate($0, .f32, shapes[$0]) }
            Linear.forwardGroup(x: x[0].floats, rows: x[0].count / max(1, inFeatures), inFeatures: inFeatures, layers: (0..<count).map {
                Linear.GroupMember(weight: x[1 + $0 * width].floats, bias: bias ? UnsafePointer(x[2 + $0 * width].floats) : nil,
                                   y: outputs[$0].floats, outFeatures: x[1 + $0 * width].shape[0])
            })
            return outputs

        case let .chain(ops):
            let out = output()
            let offset = state.elementOffset(rows: shape.first ?? 1, count: out.count)
            let steps: [PointwiseChain.Step] = try ops.map { op throws(RunError) in
                switch op {
                case let .unary(function): .activation(activation(function))
                case let .scale(factor): .scale(factor)
                // The node draws its dropout member's stream (`Node.randomStream`); outside training, the identity.
                case let .dropout(probability):
                    state.mode.isTraining ? .dropout(probability: probability, stream: state.stream(for: node), offset: offset) : .identity
                default: throw RunError("internal: '\(node.name)' chains \(op.name), which is not a single-input pointwise op")
                }
            }
            PointwiseChain.run(x[0].floats, out.floats, count: out.count, steps: steps)
            return [out]

        case let .gradientChain(ops):
            // Inputs: (x, y) per member in the order the gradients run, then dy.
            let out = output()
            let dy = x[x.count - 1]
            let offset = state.elementOffset(rows: shape.first ?? 1, count: out.count)
            let steps: [PointwiseChain.GradientStep] = try ops.enumerated().map { index, op throws(RunError) in
                switch op {
                case let .unary(function):
                    let kernel = activation(function)
                    return .activation(kernel, saved: UnsafePointer(x[2 * index + (kernel.backwardUsesOutput ? 1 : 0)].floats))
                case let .scale(factor): return .scale(factor)
                // The node draws its dropout member's forward stream (`Node.randomStream`).
                case let .dropout(probability):
                    return .dropout(probability: probability, stream: state.stream(for: node), offset: offset)
                default: throw RunError("internal: '\(node.name)' chains the gradient of \(op.name), which is not a single-input pointwise op")
                }
            }
            PointwiseChain.runGradients(dy: dy.floats, dx: out.floats, count: out.count, steps: steps)
            return [out]

        case let .activated(product, _):
            throw RunError("internal: no fused kernel for \(node.op.name) (node '\(node.name)'): the fusion pass fuses linear, conv1d and group_norm only, got \(product.name)")

        case let .matmul(transposeA, transposeB):
            let out = output()
            let a = x[0].shape, b = x[1].shape, rank = a.count
            let m = shape[rank - 2], n = shape[rank - 1], k = transposeA ? a[rank - 2] : a[rank - 1]
            let batch = shape.dropLast(2).reduce(1, *)
            Gemm.batched(count: batch, transA: transposeA, transB: transposeB, m: m, n: n, k: k,
                         a: x[0].floats, lda: a[rank - 1], strideA: a[rank - 2] * a[rank - 1],
                         b: x[1].floats, ldb: b[rank - 1], strideB: b[rank - 2] * b[rank - 1],
                         c: out.floats, ldc: n, strideC: m * n)
            return [out]

        case let .layerNorm(eps):
            let out = output()
            let columns = shape.last ?? 1, rows = x[0].count / max(1, columns)
            let stats = scratch(2 * rows)
            LayerNorm.forward(x: x[0].floats, gamma: x[1].floats, beta: x[2].floats, y: out.floats, mean: stats.floats,
                              rstd: stats.floats + rows, rows: rows, columns: columns, eps: eps)
            state.save([stats], for: node)
            return [out]

        case let .addLayerNorm(eps):
            let out = output()
            let columns = shape.last ?? 1, rows = x[0].count / max(1, columns)
            let stats = scratch(2 * rows)
            LayerNorm.forward(x: x[0].floats, residual: x[1].floats, gamma: x[2].floats, beta: x[3].floats, y: out.floats,
                              mean: stats.floats, rstd: stats.floats + rows, rows: rows, columns: columns, eps: eps)
            return [out]

        case let .weightNorm(axis):
            let out = output()
            let kept = axis < 0 ? axis + shape.count : axis
            let outer = shape[..<kept].reduce(1, *), size = shape[kept], inner = shape[(kept + 1)...].reduce(1, *)
            let norms = scratch(size)
            WeightNorm.forward(v: x[0].floats, g: x[1].floats, w: out.floats, norms: norms.floats, outer: outer, size: size, inner: inner)
            state.save([norms], for: node)
            return [out]

        case let .unary(function):
            let out = output()
            activation(function).forward(x[0].floats, out.floats, count: out.count)
            return [out]

        case let .binary(function):
            let out = output()
            let op: Elementwise.BinaryOp = switch function {
            case .add: .add
            case .subtract: .subtract
            case .multiply: .multiply
            }
            Elementwise.binary(op, a: x[0].floats, aShape: x[0].shape, b: x[1].floats, bShape: x[1].shape, out: out.floats, outShape: shape)
            return [out]

        case let .scale(factor):
            let out = output()
            Elementwise.scale(x[0].floats, by: factor, into: out.floats, count: out.count)
            return [out]

        case .softmax, .logSoftmax:
            let out = output()
            let columns = shape.last ?? 1, rows = out.count / max(1, columns)
            if case .softmax = node.op {
                Softmax.forward(x[0].floats, out.floats, rows: rows, columns: columns)
            } else {
                Softmax.logForward(x[0].floats, out.floats, rows: rows, columns: columns)
            }
            return [out]

        case let .reduce(function, axes, _):
            let out = output()
            let input = x[0].shape
            let reduced = Set(axes.map { $0 < 0 ? $0 + input.count : $0 })
            let keptShape = input.enumerated().map { reduced.contains($0.offset) ? 1 : $0.element }
            let count = input.enumerated().filter { reduced.contains($0.offset) }.map(\.element).reduce(1, *)
            let scale: Float = function == .mean ? 1 / Float(max(1, count)) : 1
            Reduce.sum(x[0].floats, shape: input, into: out.floats, shape: keptShape, scale: scale)
            return [out]

        case .reshape:
            let out = output(x[0].dtype)
            out.storage.copyMemory(from: x[0].storage, byteCount: out.count * 4)
            return [out]

        case let .transpose(permutation):
            let out = output(x[0].dtype)
            // Elements are 4 bytes whatever the dtype: move them as Float bit patterns.
            Permute.transpose(x[0].floats, shape: x[0].shape, permutation: permutation, into: out.floats)
            return [out]

        case let .slice(axis, start, end):
            let out = output(x[0].dtype)
            let input = x[0].shape
            let kept = axis < 0 ? axis + input.count : axis
            let length = input[kept], stop = end < 0 ? length + end : end
            guard 0 <= start, start <= stop, stop <= length else {
                throw RunError("slice '\(node.name)' takes [\(start), \(stop)) of an axis of length \(length)",
                               hint: "the input is shorter along axis \(axis) than the slice needs")
            }
            Permute.slice(x[0].floats, outer: input[..<kept].reduce(1, *), length: length,
                          inner: input[(kept + 1)...].reduce(1, *), start: start, end: stop, into: out.floats)
            return [out]

        case let .concat(axis):
            let out = output(x[0].dtype)
            let kept = axis < 0 ? axis + shape.count : axis
            let outer = shape[..<kept].reduce(1, *), inner = shape[(kept + 1)...].reduce(1, *)
            var offset = 0
            for part in x {
                let length = part.shape[kept]
                for o in 0..<outer {
                    (out.floats + (o * shape[kept] + offset) * inner).update(from: part.floats + o * length * inner, count: length * inner)
                }
                offset += length
            }
            return [out]

        case let .attention(heads):
            let out = output()
            let (batch, frames, width) = (shape[0], shape[1], shape[2])
            let headDim = width / max(1, heads)
            // The probabilities are not kept for the gradient (its backward recomputes them per head: a [B, H, T, T]
            // per layer less): one [T, T] plane per kernel thread.
            let workspace = scratch(Attention.forwardWorkspaceCount(sequenceLength: frames))
            Attention.forward(q: x[0].floats, k: x[1].floats, v: x[2].floats, lengths: x[3].int32s, workspace: workspace.floats,
                              out: out.floats, batch: batch, sequenceLength: frames, heads: heads, headDim: headDim,
                              scale: 1 / Float(headDim).squareRoot())
            return [out]

        case let .lstm(hidden):
            let out = output()
            let lstmShape = LSTM.Shape(batch: shape[0], steps: shape[1], inputSize: x[0].shape[2], hiddenSize: hidden)
            let saved = scratch(LSTM.savedCount(lstmShape))
            func weights(_ base: Int) -> LSTM.Weights {
                LSTM.Weights(weightIH: x[base].floats, weightHH: x[base + 1].floats, biasIH: x[base + 2].floats, biasHH: x[base + 3].floats)
            }
            LSTM.forward(x: x[0].floats, lengths: x[1].int32s, weights: weights(2), reverseWeights: weights(6), y: out.floats,
                         saved: saved.floats, shape: lstmShape)
            state.save([saved], for: node)
            return [out]

        case .maskedMeanPool:
            let out = output()
            MaskedMeanPool.forward(x: x[0].floats, lengths: x[1].int32s, out: out.floats, batch: x[0].shape[0],
                                   sequenceLength: x[0].shape[1], channels: x[0].shape[2])
            return [out]

        case .maskPadding:
            let out = output()
            out.storage.copyMemory(from: x[0].storage, byteCount: out.count * 4)
            SequenceMask.zeroPadding(out.floats, lengths: x[1].int32s, batch: shape[0], frames: shape[1],
                                     width: shape.dropFirst(2).reduce(1, *))
            return [out]

        case let .windowLengths(kernel, stride, padding):
            let out = output(.i32)
            SequenceMask.windowLengths(x[0].int32s, into: out.int32s, batch: out.count, kernel: kernel, stride: stride, padding: padding)
            return [out]

        case let .dropout(probability):
            // Inference: the identity (values are never written after they are made).
            guard state.mode.isTraining else { return [x[0]] }
            let out = output()
            Dropout.forward(x[0].floats, out.floats, count: out.count, probability: probability, stream: state.stream(for: node),
                            offset: state.elementOffset(rows: shape.first ?? 1, count: out.count))
            return [out]

        case let .layerDrop(probability):
            // A copy of the chosen input: the output has a place of its own in the memory plan. (When a training
            // step drops layers, the interpreter's LayerDropPlan makes dropped layers' outputs aliases instead.)
            let chosen = state.mode.isTraining && state.skipsLayer(node, probability: probability) ? x[0] : x[1]
            let out = output(chosen.dtype)
            out.storage.copyMemory(from: chosen.storage, byteCount: out.count * 4)
            return [out]

        case let .timeMask(probability, spanLength, minimumSpans):
            let (batch, frames, channels) = (shape[0], shape[1], shape[2])
            let mask = HostTensor(.f32, shape: [batch, frames], pool: pool)
            guard state.mode.isTraining else {
                // Evaluation masks nothing: the input as it is, and a mask of zeros.
                mask.floats.update(repeating: 0, count: mask.count)
                return [x[0], mask]
            }
            let out = output()
            TimeMask.spans(mask: mask.floats, lengths: x[1].int32s, batch: batch, frames: frames, probability: probability,
                           spanLength: spanLength, minimumSpans: minimumSpans, stream: state.stream(for: node), firstRow: state.firstRow)
            TimeMask.apply(x: x[0].floats, mask: mask.floats, embedding: x[2].floats, out: out.floats, batch: batch,
                           frames: frames, channels: channels)
            state.save([mask], for: node)
            return [out, mask]

        case let .crossEntropy(ignoreIndex):
            let out = output()
            let classes = x[0].shape.last ?? 1, rows = x[0].count / max(1, classes)
            let logSumExp = scratch(rows)
            let result = CrossEntropy.forward(
                logits: x[0].floats, targets: x[1].int32s, classWeights: x.count > 2 ? UnsafePointer(x[2].floats) : nil,
                frameMask: x.count > 3 ? UnsafePointer(x[3].floats) : nil, ignoreIndex: Int32(clamping: ignoreIndex),
                logSumExp: logSumExp.floats, rows: rows, classes: classes)
            guard result.invalidTargets == 0 else {
                throw RunError("'\(node.name)': \(result.invalidTargets) targets are outside 0..<\(classes) (and not the ignore index \(ignoreIndex))",
                               hint: "the labels and the scores disagree on the number of classes")
            }
            out.floats[0] = result.loss
            state.save([logSumExp], for: node)
            return [out]

        case let .amSoftmax(scale, margin):
            let out = output()
            let (rows, dimension, classes) = (x[0].shape[0], x[0].shape[1], x[1].shape[0])
            let intermediates = scratch(rows * classes + rows * dimension + rows + classes * dimension + classes + rows)
            var cursor = intermediates.floats
            func take(_ count: Int) -> UnsafeMutablePointer<Float> { defer { cursor += count }; return cursor }
            let result = AMSoftmax.forward(
                features: x[0].floats, weight: x[1].floats, targets: x[2].int32s, scale: scale, margin: margin,
                cosine: take(rows * classes), normalizedFeatures: take(rows * dimension), featureNorms: take(rows),
                normalizedWeight: take(classes * dimension), weightNorms: take(classes), logSumExp: take(rows),
                rows: rows, dimension: dimension, classes: classes)
            out.floats[0] = result.loss
            state.save([intermediates], for: node)
            return [out]

        case .kmeansAssign:
            let out = output(.i32)
            let (rows, dimension, k) = (x[0].shape[0] * x[0].shape[1], x[0].shape[2], x[1].shape[0])
            let workspace = scratch(KMeansAssign.workspaceCount(k: k))
            KMeansAssign.assign(x: x[0].floats, n: rows, d: dimension, centroids: x[1].floats, k: k, labels: out.int32s,
                                distances: nil, workspace: workspace.floats)
            return [out]

        case .cosineSimilarity:
            let out = output()
            let (rows, dimension, classes) = (x[0].shape[0], x[0].shape[1], x[1].shape[0])
            let workspace = scratch(CosineSimilarity.workspaceCount(rows: rows, classes: classes, dimension: dimension))
            CosineSimilarity.forward(features: x[0].floats, weight: x[1].floats, out: out.floats, workspace: workspace.floats,
                                     rows: rows, classes: classes, dimension: dimension)
            return [out]
        }
    }

    func activation(_ function: UnaryFunction) -> Activation {
        switch function {
        case .gelu: .gelu
        case .tanh: .tanh
        case .relu: .relu
        case .sigmoid: .sigmoid
        }
    }
}

import GraphIR
import Kernels
import Runtime

/// The error of exporting a graph: an op without an ONNX rule (named, with its node), a missing parameter.
public struct ExportError: DiagnosticError, CustomStringConvertible {
    public var diagnostics: [Diagnostic]
    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }
    public var description: String { Diagnostic.render(self) }
}

/// An inference graph lowered to ONNX (default domain, opset 17), one rule per op: each node of the graph becomes
/// the ONNX nodes that compute it, named after it; parameters become initializers under their own names (weight-
/// normalised weights are folded into one); graph inputs and the chosen outputs keep their names and symbolic dims.
/// An op without a rule is refused by name, with the node and its place in the spec.
public struct ONNXLowering {
    public private(set) var model: ONNX.Model
    private let graph: Graph
    private let parameters: [String: HostTensor]
    /// The ONNX name of each value: its node's name (with the output index past the first).
    private var names: [ValueID: String] = [:]
    private var constants = 0

    /// Lowers what `outputs` (graph outputs or taps) need of `graph`, which must be an inference form.
    public init(graph full: Graph, parameters: [String: HostTensor], outputs: [String], modelName: String, producerVersion: String) throws(ExportError) {
        let named = full.outputs + full.taps
        var wanted = [NamedValue]()
        for name in outputs {
            guard let value = named.first(where: { $0.name == name }) else {
                throw ExportError([Diagnostic("no output or tap '\(name)' to export", hint: Suggestion.hint(for: name, in: named.map(\.name)))])
            }
            wanted.append(value)
        }
        graph = full.subgraph(computing: wanted.map(\.value))
        self.parameters = parameters
        model = ONNX.Model(name: modelName, producerVersion: producerVersion)
        var problems = [Diagnostic]()
        for node in graph.nodes {
            do { try lower(node) } catch { problems += error.diagnostics }
        }
        guard problems.isEmpty else { throw ExportError(problems) }
        for value in wanted {
            let mapped = graph.outputs.first { $0.name == value.name } ?? graph.taps.first { $0.name == value.name }
            guard let mapped, let source = names[mapped.value] else { continue }
            if source != value.name { model.nodes.append(ONNX.Node("Identity", [source], [value.name], name: "output." + value.name)) }
            model.outputs.append(Self.valueInfo(value.name, graph[mapped.value].type))
        }
    }

    /// Adds an output `name`: the softmax of output `source` (already exported) times `scale`, the probabilities
    /// `gmptl predict` reports (AM-Softmax models: of the scaled cosine scores).
    public mutating func addProbabilities(of source: String, scale: Float, as name: String) throws(ExportError) {
        guard let info = model.outputs.first(where: { $0.name == source }) else {
            throw ExportError([Diagnostic("no exported output '\(source)' to turn into probabilities")])
        }
        var scores = source
        if scale != 1 {
            emit("Mul", [source, scalar(scale)], name + ".scores")
            scores = name + ".scores"
        }
        emit("Softmax", [scores], name, [.init("axis", .int(-1))])
        model.outputs.append(ONNX.ValueInfo(name: name, type: .float, dims: info.dims))
    }

    /// Adds a `key: value` entry to the model's metadata.
    public mutating func addMetadata(_ key: String, _ value: String) { model.metadata.append((key, value)) }

    static func elementType(_ dtype: DType) -> ONNX.ElementType { dtype == .i32 ? .int32 : .float }

    static func valueInfo(_ name: String, _ type: TensorType) -> ONNX.ValueInfo {
        ONNX.ValueInfo(name: name, type: elementType(type.dtype),
                       dims: type.shape.map { $0.constantValue.map(ONNX.ValueInfo.Dimension.size) ?? .name($0.description) })
    }

    /// A new scalar or vector constant initializer; returns its name.
    private mutating func constant(floats: [Float], dims: [Int]) -> String {
        constants += 1
        let name = "constant.\(constants)"
        model.initializers.append(ONNX.Tensor(name: name, floats: floats, dims: dims))
        return name
    }

    private mutating func constant(int64s: [Int64], scalar: Bool = false) -> String {
        constants += 1
        let name = "constant.\(constants)"
        model.initializers.append(ONNX.Tensor(name: name, int64s: int64s, dims: scalar ? [] : [int64s.count]))
        return name
    }

    private mutating func constant(int32: Int32) -> String {
        constants += 1
        let name = "constant.\(constants)"
        model.initializers.append(ONNX.Tensor(name: name, int32s: [int32], dims: []))
        return name
    }

    private mutating func scalar(_ value: Float) -> String { constant(floats: [value], dims: []) }

    /// The valid frames of `x` (`[B, T, ...]`) by `lengths` (i32 `[B]`): a float mask `[B, T]`, 1 for `t < length`.
    private mutating func frameMask(lengths: String, like x: String, prefix: String) -> String {
        emit("Shape", [x], prefix + ".shape")
        emit("Gather", [prefix + ".shape", constant(int64s: [1], scalar: true)], prefix + ".frames", [.init("axis", .int(0))])
        emit("Range", [constant(int64s: [0], scalar: true), prefix + ".frames", constant(int64s: [1], scalar: true)], prefix + ".steps")
        emit("Cast", [lengths], prefix + ".lengths64", [.init("to", .int(ONNX.ElementType.int64.rawValue))])
        emit("Unsqueeze", [prefix + ".lengths64", constant(int64s: [1])], prefix + ".column")
        emit("Less", [prefix + ".steps", prefix + ".column"], prefix + ".valid")
        emit("Cast", [prefix + ".valid"], prefix + ".mask", [.init("to", .int(ONNX.ElementType.float.rawValue))])
        return prefix + ".mask"
    }

    /// `mask` with size-1 axes added at `axes`.
    private mutating func unsqueeze(_ value: String, _ axes: [Int64], _ output: String) -> String {
        emit("Unsqueeze", [value, constant(int64s: axes)], output)
        return output
    }

    /// The trained tensors of parameter inputs, or a refusal.
    private func parameterTensors(_ node: Node, _ range: Range<Int>) throws(ExportError) -> [HostTensor] {
        var tensors = [HostTensor]()
        for index in range {
            guard let tensor = parameterTensor(node.inputs[index]) else { throw refuse(node, "reads input \(index) that is not a parameter") }
            tensors.append(tensor)
        }
        return tensors
    }

    private func refuse(_ node: Node, _ reason: String) -> ExportError {
        ExportError([Diagnostic("node '\(node.name)': op '\(node.op.name)' \(reason)", at: node.location,
                                hint: "the ONNX export covers linear, conv1d, norms, activations, arithmetic and shape ops so far")])
    }

    private mutating func lower(_ node: Node) throws(ExportError) {
        for (index, value) in node.outputs.enumerated() { names[value] = index == 0 ? node.name : "\(node.name).\(index)" }
        try lower(node.op, node: node, inputs: node.inputs.map { names[$0] ?? "" }, output: node.name)
    }

    /// Appends an ONNX node named after `output`.
    private mutating func emit(_ opType: String, _ inputs: [String], _ output: String, _ attributes: [ONNX.Attribute] = []) {
        model.nodes.append(ONNX.Node(opType, inputs, [output], name: output, attributes))
    }

    /// The nodes computing `op` (of `node`) from `inputs` into `output`.
    private mutating func lower(_ op: Op, node: Node, inputs: [String], output: String) throws(ExportError) {
        switch op {
        case let .input(name):
            model.inputs.append(Self.valueInfo(name, graph[node.outputs[0]].type))
            names[node.outputs[0]] = name
        case let .parameter(name, _):
            guard let tensor = parameters[name] else {
                throw ExportError([Diagnostic("parameter '\(name)' is not in the trained parameters", at: node.location)])
            }
            names[node.outputs[0]] = name
            // Parameters that only rules folding them read (weight norm, the LSTM's reordered gates) are not written.
            let readers = graph.nodes.filter { $0.inputs.contains(node.outputs[0]) }
            let folded = !readers.isEmpty && readers.allSatisfy { reader in
                switch reader.op {
                case .weightNorm, .lstm: true
                default: false
                }
            }
            if !folded { model.initializers.append(ONNX.Tensor(name: name, floats: tensor.floatArray, dims: tensor.shape)) }
        case let .constant(value):
            names[node.outputs[0]] = constant(floats: [value], dims: [])
        case .linear:
            // x W^T (+ b): the weight transposed in the graph (ONNX Runtime folds it once).
            emit("Transpose", [inputs[1]], output + ".weight_t", [.init("perm", .ints([1, 0]))])
            if inputs.count > 2 {
                emit("MatMul", [inputs[0], output + ".weight_t"], output + ".product")
                emit("Add", [output + ".product", inputs[2]], output)
            } else {
                emit("MatMul", [inputs[0], output + ".weight_t"], output)
            }
        case let .linearGroup(count, bias):
            // Each member as its own linear, into the names of the node's outputs.
            let width = bias ? 2 : 1
            for member in 0..<count {
                let first = 1 + member * width
                try lower(.linear, node: node, inputs: [inputs[0]] + inputs[first..<(first + width)],
                          output: member == 0 ? output : "\(output).\(member)")
            }
        case let .chain(ops):
            // Each member in turn, the last into the node's output.
            var source = inputs[0]
            for (index, member) in ops.enumerated() {
                let target = index == ops.count - 1 ? output : "\(output).step\(index)"
                try lower(member, node: node, inputs: [source], output: target)
                source = target
            }
        case let .matmul(transposeA, transposeB):
            var operands = [inputs[0], inputs[1]]
            for (index, flag) in [transposeA, transposeB].enumerated() where flag {
                let rank = graph[node.inputs[index]].type.rank
                operands[index] = output + (index == 0 ? ".a_t" : ".b_t")
                emit("Transpose", [inputs[index]], operands[index], [.init("perm", .ints(Array(0..<(rank - 2)) + [rank - 1, rank - 2]))])
            }
            emit("MatMul", operands, output)
        case let .conv1d(stride, padding, groups):
            // Channels last in the IR, channels first in ONNX: transposed around the convolution.
            emit("Transpose", [inputs[0]], output + ".ncw", [.init("perm", .ints([0, 2, 1]))])
            emit("Conv", [output + ".ncw"] + inputs.dropFirst(), output + ".conv",
                 [.init("strides", .ints([stride])), .init("pads", .ints([padding, padding])), .init("group", .int(groups))])
            emit("Transpose", [output + ".conv"], output, [.init("perm", .ints([0, 2, 1]))])
        case let .layerNorm(eps):
            emit("LayerNormalization", inputs, output, [.init("axis", .int(-1)), .init("epsilon", .float(eps))])
        case let .addLayerNorm(eps):
            emit("Add", [inputs[0], inputs[1]], output + ".sum")
            emit("LayerNormalization", [output + ".sum"] + inputs.dropFirst(2), output, [.init("axis", .int(-1)), .init("epsilon", .float(eps))])
        case let .normalizedConv1d(stride, padding, groups, normGroups, eps):
            try lower(.conv1d(stride: stride, padding: padding, groups: groups), node: node,
                      inputs: Array(inputs.prefix(2)) + inputs.dropFirst(5), output: output + ".conv")
            try lower(.groupNorm(groups: normGroups, eps: eps), node: node, inputs: [output + ".conv"] + inputs[2...4], output: output)
        case let .activated(inner, function):
            try lower(inner, node: node, inputs: inputs, output: output + ".pre")
            unary(function, input: output + ".pre", output: output)
        case let .unary(function):
            unary(function, input: inputs[0], output: output)
        case let .binary(function):
            emit(function == .add ? "Add" : function == .subtract ? "Sub" : "Mul", inputs, output)
        case let .scale(factor):
            emit("Mul", [inputs[0], constant(floats: [factor], dims: [])], output)
        case .softmax:
            emit("Softmax", inputs, output, [.init("axis", .int(-1))])
        case .logSoftmax:
            emit("LogSoftmax", inputs, output, [.init("axis", .int(-1))])
        case let .reduce(function, axes, keepDims):
            if function == .sum {
                emit("ReduceSum", [inputs[0], constant(int64s: axes.map(Int64.init))], output, [.init("keepdims", .int(keepDims ? 1 : 0))])
            } else {
                emit("ReduceMean", inputs, output, [.init("axes", .ints(axes)), .init("keepdims", .int(keepDims ? 1 : 0))])
            }
        case let .reshape(dims):
            // Sizes as constants; a symbolic size as 0 (the input's) where the input has it at the same axis, else
            // -1 (inferred), once.
            let source = graph[node.inputs[0]].type.shape
            var shape = [Int64]()
            for (axis, dim) in dims.enumerated() {
                if let size = dim.constantValue {
                    shape.append(Int64(size))
                } else {
                    shape.append(axis < source.count && source[axis] == dim ? 0 : -1)
                }
            }
            guard shape.filter({ $0 == -1 }).count <= 1 else { throw refuse(node, "reshapes to more than one size ONNX cannot infer (\(dims))") }
            emit("Reshape", [inputs[0], constant(int64s: shape)], output)
        case let .transpose(permutation):
            emit("Transpose", inputs, output, [.init("perm", .ints(permutation))])
        case let .slice(axis, start, end):
            emit("Slice", [inputs[0], constant(int64s: [Int64(start)]), constant(int64s: [Int64(end)]), constant(int64s: [Int64(axis)])], output)
        case let .concat(axis):
            emit("Concat", inputs, output, [.init("axis", .int(axis))])
        case .dropout:
            emit("Identity", [inputs[0]], output)
        case .layerDrop:
            // Evaluation: the layer's output.
            emit("Identity", [inputs[1]], output)
        case let .weightNorm(axis):
            // Parameters only in a trained model: folded into the weight it makes.
            guard let v = parameterTensor(node.inputs[0]), let g = parameterTensor(node.inputs[1]) else {
                throw refuse(node, "normalises values that are not parameters")
            }
            // v viewed as [outer, size, inner] around `axis`, the norm over outer and inner per index of `axis`.
            let size = v.shape[axis], inner = v.shape[(axis + 1)...].reduce(1, *), outer = v.count / max(1, size * inner)
            let out = HostTensor(.f32, shape: v.shape)
            var norms = [Float](repeating: 0, count: size)
            WeightNorm.forward(v: v.floats, g: g.floats, w: out.floats, norms: &norms, outer: outer, size: size, inner: inner)
            model.initializers.append(ONNX.Tensor(name: output, floats: out.floatArray, dims: v.shape))
        case let .windowLengths(kernel, stride, padding):
            // floor((n + 2 padding - kernel) / stride) + 1, and 0 where the window does not fit (integer division
            // truncates, which is the floor for the non-negative numerators kept).
            emit("Add", [inputs[0], constant(int32: Int32(2 * padding - kernel))], output + ".numerator")
            emit("Div", [output + ".numerator", constant(int32: Int32(stride))], output + ".quotient")
            emit("Add", [output + ".quotient", constant(int32: 1)], output + ".count")
            emit("Less", [output + ".numerator", constant(int32: 0)], output + ".short")
            emit("Where", [output + ".short", constant(int32: 0), output + ".count"], output)
        case .maskPadding:
            let mask = frameMask(lengths: inputs[1], like: inputs[0], prefix: output + ".frames")
            var expanded = mask
            for axis in 2..<max(2, graph[node.inputs[0]].type.rank) {
                expanded = unsqueeze(expanded, [Int64(axis)], output + ".mask\(axis)")
            }
            emit("Mul", [inputs[0], expanded], output)
        case .maskedMeanPool:
            let mask = frameMask(lengths: inputs[1], like: inputs[0], prefix: output + ".frames")
            let mask3 = unsqueeze(mask, [2], output + ".mask3")
            emit("Mul", [inputs[0], mask3], output + ".masked")
            emit("ReduceSum", [output + ".masked", constant(int64s: [1])], output + ".sum", [.init("keepdims", .int(0))])
            emit("ReduceSum", [mask, constant(int64s: [1])], output + ".count", [.init("keepdims", .int(1))])
            emit("Max", [output + ".count", scalar(1)], output + ".divisor")
            emit("Div", [output + ".sum", output + ".divisor"], output)
        case let .groupNorm(groups, eps):
            // Statistics over each sequence's valid frames and each group's channels; padded frames written as 0.
            // (The channels are the node's output's: a fused convolution's input has others.)
            guard let channels = graph[node.outputs[0]].type.shape.last?.constantValue, groups > 0, channels % groups == 0 else {
                throw refuse(node, "needs a constant channel count divisible by the groups")
            }
            let width = channels / groups
            let mask = frameMask(lengths: inputs[3], like: inputs[0], prefix: output + ".frames")
            let mask3 = unsqueeze(mask, [2], output + ".mask3"), mask4 = unsqueeze(mask, [2, 3], output + ".mask4")
            emit("Reshape", [inputs[0], constant(int64s: [0, 0, Int64(groups), Int64(width)])], output + ".grouped")
            emit("Mul", [output + ".grouped", mask4], output + ".masked")
            emit("ReduceSum", [output + ".masked", constant(int64s: [1, 3])], output + ".sum", [.init("keepdims", .int(1))])
            emit("ReduceSum", [mask4, constant(int64s: [1])], output + ".frames.count", [.init("keepdims", .int(1))])
            emit("Mul", [output + ".frames.count", scalar(Float(width))], output + ".count")
            emit("Max", [output + ".count", scalar(1)], output + ".divisor")
            emit("Div", [output + ".sum", output + ".divisor"], output + ".mean")
            emit("Sub", [output + ".grouped", output + ".mean"], output + ".centred")
            emit("Mul", [output + ".centred", mask4], output + ".deviation")
            emit("Mul", [output + ".deviation", output + ".deviation"], output + ".square")
            emit("ReduceSum", [output + ".square", constant(int64s: [1, 3])], output + ".squares", [.init("keepdims", .int(1))])
            emit("Div", [output + ".squares", output + ".divisor"], output + ".variance")
            emit("Add", [output + ".variance", scalar(eps)], output + ".variance_eps")
            emit("Sqrt", [output + ".variance_eps"], output + ".std")
            emit("Div", [output + ".deviation", output + ".std"], output + ".normalised")
            emit("Reshape", [output + ".normalised", constant(int64s: [0, 0, Int64(channels)])], output + ".flat")
            emit("Mul", [output + ".flat", inputs[1]], output + ".scaled")
            emit("Add", [output + ".scaled", inputs[2]], output + ".shifted")
            emit("Mul", [output + ".shifted", mask3], output)
        case let .attention(heads):
            // Per head: softmax(q k^T / sqrt(d)) v over the valid keys; a sequence without keys gives zeros.
            guard let width = graph[node.inputs[0]].type.shape.last?.constantValue, heads > 0, width % heads == 0 else {
                throw refuse(node, "needs a constant width divisible by the heads")
            }
            let size = Int64(width / heads)
            for (index, role) in ["q", "k", "v"].enumerated() {
                emit("Reshape", [inputs[index], constant(int64s: [0, 0, Int64(heads), size])], output + ".\(role).heads")
                emit("Transpose", [output + ".\(role).heads"], output + ".\(role).t", [.init("perm", .ints(role == "k" ? [0, 2, 3, 1] : [0, 2, 1, 3]))])
            }
            emit("MatMul", [output + ".q.t", output + ".k.t"], output + ".products")
            emit("Mul", [output + ".products", scalar(1 / Float(size).squareRoot())], output + ".scores")
            let mask = frameMask(lengths: inputs[3], like: inputs[1], prefix: output + ".keys")
            let keys = unsqueeze(mask, [1, 2], output + ".keys4")
            emit("Sub", [keys, scalar(1)], output + ".keys.off")
            emit("Mul", [output + ".keys.off", scalar(1e9)], output + ".keys.bias")
            emit("Add", [output + ".scores", output + ".keys.bias"], output + ".masked")
            emit("Softmax", [output + ".masked"], output + ".softmax", [.init("axis", .int(-1))])
            emit("Mul", [output + ".softmax", keys], output + ".probabilities")
            emit("MatMul", [output + ".probabilities", output + ".v.t"], output + ".context")
            emit("Transpose", [output + ".context"], output + ".rows", [.init("perm", .ints([0, 2, 1, 3]))])
            emit("Reshape", [output + ".rows", constant(int64s: [0, 0, Int64(width)])], output)
        case let .lstm(hidden):
            // ONNX's LSTM: time-major input, gates in the order i, o, f, c (PyTorch's: i, f, g, o), both directions'
            // weights stacked, the biases of a direction concatenated; padded steps come out as zeros.
            let tensors = try parameterTensors(node, 2..<10)
            let order = [0, 3, 1, 2]
            func gates(_ tensor: HostTensor) -> [Float] {
                let values = tensor.floatArray, block = values.count / 4
                return order.flatMap { values[($0 * block)..<(($0 + 1) * block)] }
            }
            let inputSize = tensors[0].shape.last ?? 0
            model.initializers.append(ONNX.Tensor(name: output + ".W", floats: gates(tensors[0]) + gates(tensors[4]), dims: [2, 4 * hidden, inputSize]))
            model.initializers.append(ONNX.Tensor(name: output + ".R", floats: gates(tensors[1]) + gates(tensors[5]), dims: [2, 4 * hidden, hidden]))
            model.initializers.append(ONNX.Tensor(name: output + ".B", floats: gates(tensors[2]) + gates(tensors[3]) + gates(tensors[6]) + gates(tensors[7]),
                                                  dims: [2, 8 * hidden]))
            emit("Transpose", [inputs[0]], output + ".time_major", [.init("perm", .ints([1, 0, 2]))])
            model.nodes.append(ONNX.Node("LSTM", [output + ".time_major", output + ".W", output + ".R", output + ".B", inputs[1]],
                                         [output + ".y"], name: output + ".y",
                                         [.init("hidden_size", .int(hidden)), .init("direction", .string("bidirectional"))]))
            emit("Transpose", [output + ".y"], output + ".batch_major", [.init("perm", .ints([2, 0, 1, 3]))])
            emit("Reshape", [output + ".batch_major", constant(int64s: [0, 0, Int64(2 * hidden)])], output)
        case .cosineSimilarity:
            for (index, role) in ["features", "classes"].enumerated() {
                emit("Mul", [inputs[index], inputs[index]], output + ".\(role).squares")
                emit("ReduceSum", [output + ".\(role).squares", constant(int64s: [-1])], output + ".\(role).sum", [.init("keepdims", .int(1))])
                emit("Sqrt", [output + ".\(role).sum"], output + ".\(role).norm")
                emit("Max", [output + ".\(role).norm", scalar(1e-12)], output + ".\(role).guarded")
                emit("Div", [inputs[index], output + ".\(role).guarded"], output + ".\(role).unit")
            }
            emit("Transpose", [output + ".classes.unit"], output + ".classes.t", [.init("perm", .ints([1, 0]))])
            emit("MatMul", [output + ".features.unit", output + ".classes.t"], output)
        case .timeMask:
            // Evaluation masks nothing: the input as it is. Its mask output (all zeros) has no reader in an
            // inference graph of the recipe's models; one that is read is refused.
            let maskRead = graph.nodes.contains { $0.inputs.contains(node.outputs[1]) }
                || (graph.outputs + graph.taps).contains { $0.value == node.outputs[1] }
            guard !maskRead else { throw refuse(node, "has its mask read in inference, which has no ONNX rule yet") }
            emit("Identity", [inputs[0]], output)
        case .kmeansAssign:
            throw refuse(node, "has no ONNX rule (pseudo-labels are a training-time tap)")
        case .crossEntropy, .amSoftmax, .gradient, .gradientChain:
            throw refuse(node, "belongs to training graphs, which are not exported")
        }
    }

    /// The trained tensor of a parameter value.
    private func parameterTensor(_ value: ValueID) -> HostTensor? {
        guard case let .parameter(name, _) = graph.producer(of: value).op else { return nil }
        return parameters[name]
    }

    private mutating func unary(_ function: UnaryFunction, input: String, output: String) {
        switch function {
        case .tanh: emit("Tanh", [input], output)
        case .relu: emit("Relu", [input], output)
        case .sigmoid: emit("Sigmoid", [input], output)
        case .gelu:
            // The exact GELU, x (1 + erf(x / sqrt 2)) / 2 (opset 17 has no Gelu).
            let root = constant(floats: [Float(2).squareRoot()], dims: []), one = constant(floats: [1], dims: [])
            let half = constant(floats: [0.5], dims: [])
            emit("Div", [input, root], output + ".scaled")
            emit("Erf", [output + ".scaled"], output + ".erf")
            emit("Add", [output + ".erf", one], output + ".plus")
            emit("Mul", [input, output + ".plus"], output + ".times")
            emit("Mul", [output + ".times", half], output)
        }
    }
}

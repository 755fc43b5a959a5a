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

    private mutating func constant(int64s: [Int64]) -> String {
        constants += 1
        let name = "constant.\(constants)"
        model.initializers.append(ONNX.Tensor(name: name, int64s: int64s, dims: [int64s.count]))
        return name
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
            model.initializers.append(ONNX.Tensor(name: name, floats: tensor.floatArray, dims: tensor.shape))
            names[node.outputs[0]] = name
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
        case .groupNorm, .attention, .lstm, .maskedMeanPool, .maskPadding, .windowLengths, .timeMask, .cosineSimilarity, .kmeansAssign:
            throw refuse(node, "has no ONNX rule yet")
        case .crossEntropy, .amSoftmax, .gradient:
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

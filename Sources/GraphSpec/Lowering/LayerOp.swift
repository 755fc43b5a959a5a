import GraphIR

/// Reads a node's attributes (`out: 768`, `kernel: "${features.kernels[i]}"`) with their types checked; every
/// problem becomes a diagnostic at the attribute's place. Implemented over the YAML tree and the expression
/// language by the lowering.
protocol AttributeReader {
    func int(_ key: String, default: Int?) -> Int?
    func double(_ key: String, default: Double?) -> Double?
    func bool(_ key: String, default: Bool?) -> Bool?
    func ints(_ key: String, default: [Int]?) -> [Int]?
    func dims(_ key: String) -> [Dim]?
    func string(_ key: String, default: String?) -> String?
    /// Reports a problem with an attribute's value (out of range, say).
    func invalid(_ key: String, _ message: String)
}

/// The ops of the graph language: what each accepts, which parameters it owns, and the IR it lowers to.
///
/// A spec op is one IR op plus, for layers, its parameters: `{op: linear, out: 768, params: attention.q_proj}`
/// makes the parameters `attention.q_proj.weight [768, in]` and `attention.q_proj.bias [768]` (PyTorch's names and
/// layouts) and an IR `linear` node. Parameter shapes follow from the input's type, so a spec never repeats a
/// size it can infer.
struct LayerOp: Sendable {
    /// A parameter the op owns: its name under the node's `params` scope and its shape.
    struct Parameter: Sendable {
        var suffix: String
        var shape: [Dim]
    }

    /// What lowering one node produces: the IR op and the parameters appended to its inputs, in order.
    struct Lowered: Sendable {
        var op: Op
        var parameters: [Parameter]
        /// A weight-normalised weight: (v, g, axis) made into the weight before the op.
        var weightNorm: (v: Parameter, g: Parameter, axis: Int)?
        /// Inputs of the op that come after the parameters (none so far; kept for symmetry).
        var trailingInputs = 0
    }

    var name: String
    /// Names of the inputs the spec gives in `in:`, in order (for messages and arity checks).
    var inputs: [String]
    /// Attribute keys the op accepts (besides the common `op`, `in`, `params`, `doc`).
    var attributes: [String]
    /// Whether the op needs a `params` scope.
    var needsParams: Bool
    /// Whether the parameters go right after the first input in the IR op's inputs (group norm: x, weight, bias,
    /// lengths; AM-Softmax: features, weight, targets) rather than after all of them.
    var parametersAfterFirstInput = false
    /// Lowers the node, given the types of its `in:` inputs; nil when an attribute was invalid (already reported).
    var lower: @Sendable (_ inputs: [TensorType], _ attributes: AttributeReader) -> Lowered?

    static func named(_ name: String) -> LayerOp? { catalog[name] }
    static var names: [String] { catalog.keys.sorted() }

    private static let catalog: [String: LayerOp] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    private static let all: [LayerOp] = [
        LayerOp(name: "linear", inputs: ["x"], attributes: ["out", "bias"], needsParams: true) { inputs, a in
            guard let out = a.int("out", default: nil), let inFeatures = inputs.first?.shape.last else { return nil }
            guard out >= 1 else { a.invalid("out", "out must be at least 1, got \(out)"); return nil }
            var parameters = [Parameter(suffix: "weight", shape: [Dim(out), inFeatures])]
            if a.bool("bias", default: true) ?? true { parameters.append(Parameter(suffix: "bias", shape: [Dim(out)])) }
            return Lowered(op: .linear, parameters: parameters)
        },
        LayerOp(name: "conv1d", inputs: ["x"],
                attributes: ["out", "kernel", "stride", "padding", "groups", "bias", "weight_norm"], needsParams: true) { inputs, a in
            guard let out = a.int("out", default: nil), let kernel = a.int("kernel", default: nil),
                  let stride = a.int("stride", default: 1), let padding = a.int("padding", default: 0),
                  let groups = a.int("groups", default: 1), let inChannels = inputs.first?.shape.last else { return nil }
            guard out >= 1, kernel >= 1, stride >= 1, padding >= 0, groups >= 1 else {
                a.invalid("kernel", "conv1d needs out, kernel, stride and groups of at least 1 and padding of at least 0")
                return nil
            }
            guard let channels = inChannels.constantValue, channels % groups == 0, out % groups == 0 else {
                a.invalid("groups", "groups (\(groups)) must divide the input channels (\(inChannels)) and out (\(out))")
                return nil
            }
            let weightShape: [Dim] = [Dim(out), Dim(channels / groups), Dim(kernel)]
            var lowered = Lowered(op: .conv1d(stride: stride, padding: padding, groups: groups), parameters: [])
            if let axis = a.int("weight_norm", default: -1), axis >= 0 {
                guard axis < 3 else { a.invalid("weight_norm", "weight_norm is the kept axis of the weight (0, 1 or 2), got \(axis)"); return nil }
                var gShape: [Dim] = [1, 1, 1]
                gShape[axis] = weightShape[axis]
                lowered.weightNorm = (Parameter(suffix: "weight_v", shape: weightShape), Parameter(suffix: "weight_g", shape: gShape), axis)
            } else {
                lowered.parameters.append(Parameter(suffix: "weight", shape: weightShape))
            }
            if a.bool("bias", default: true) ?? true { lowered.parameters.append(Parameter(suffix: "bias", shape: [Dim(out)])) }
            return lowered
        },
        LayerOp(name: "layer_norm", inputs: ["x"], attributes: ["eps"], needsParams: true) { inputs, a in
            guard let eps = a.double("eps", default: 1e-5), let channels = inputs.first?.shape.last else { return nil }
            return Lowered(op: .layerNorm(eps: Float(eps)), parameters: [
                Parameter(suffix: "weight", shape: [channels]), Parameter(suffix: "bias", shape: [channels])])
        },
        LayerOp(name: "group_norm", inputs: ["x", "lengths"], attributes: ["groups", "eps"], needsParams: true,
                parametersAfterFirstInput: true) { inputs, a in
            guard let groups = a.int("groups", default: nil), let eps = a.double("eps", default: 1e-5),
                  let channels = inputs.first?.shape.last else { return nil }
            return Lowered(op: .groupNorm(groups: groups, eps: Float(eps)), parameters: [
                Parameter(suffix: "weight", shape: [channels]), Parameter(suffix: "bias", shape: [channels])])
        },
        LayerOp(name: "lstm", inputs: ["x", "lengths"], attributes: ["hidden"], needsParams: true) { inputs, a in
            guard let hidden = a.int("hidden", default: nil), let inFeatures = inputs.first?.shape.last else { return nil }
            guard hidden >= 1 else { a.invalid("hidden", "hidden must be at least 1, got \(hidden)"); return nil }
            let gates = Dim(4 * hidden)
            let parameters = ["", "_reverse"].flatMap { suffix in
                [Parameter(suffix: "weight_ih_l0" + suffix, shape: [gates, inFeatures]),
                 Parameter(suffix: "weight_hh_l0" + suffix, shape: [gates, Dim(hidden)]),
                 Parameter(suffix: "bias_ih_l0" + suffix, shape: [gates]),
                 Parameter(suffix: "bias_hh_l0" + suffix, shape: [gates])]
            }
            return Lowered(op: .lstm(hidden: hidden), parameters: parameters)
        },
        LayerOp(name: "time_mask", inputs: ["x", "lengths"], attributes: ["p", "span", "min_spans"], needsParams: true) { inputs, a in
            guard let p = a.double("p", default: nil), let span = a.int("span", default: nil),
                  let minimum = a.int("min_spans", default: 0), let channels = inputs.first?.shape.last else { return nil }
            guard (0...1).contains(p), span >= 1, minimum >= 0 else {
                a.invalid("p", "time_mask needs p in [0, 1], span >= 1 and min_spans >= 0"); return nil
            }
            return Lowered(op: .timeMask(probability: Float(p), spanLength: span, minimumSpans: minimum),
                           parameters: [Parameter(suffix: "", shape: [channels])])
        },
        LayerOp(name: "parameter", inputs: [], attributes: ["shape"], needsParams: true) { _, a in
            guard let shape = a.dims("shape") else { return nil }
            return Lowered(op: .parameter(name: "", shape: shape), parameters: [])
        },
        LayerOp(name: "am_softmax", inputs: ["features", "targets"], attributes: ["classes", "s", "m"], needsParams: true,
                parametersAfterFirstInput: true) { inputs, a in
            guard let classes = a.int("classes", default: nil), let s = a.double("s", default: 30), let m = a.double("m", default: 0.35),
                  let width = inputs.first?.shape.last else { return nil }
            guard classes >= 1 else { a.invalid("classes", "classes must be at least 1, got \(classes)"); return nil }
            guard s > 0, (0...1).contains(m) else { a.invalid("s", "am_softmax needs s > 0 and m in [0, 1], got s = \(s), m = \(m)"); return nil }
            return Lowered(op: .amSoftmax(scale: Float(s), margin: Float(m)), parameters: [Parameter(suffix: "weight", shape: [Dim(classes), width])])
        },
        LayerOp(name: "cosine_similarity", inputs: ["features"], attributes: ["classes"], needsParams: true) { inputs, a in
            guard let classes = a.int("classes", default: nil), let width = inputs.first?.shape.last else { return nil }
            guard classes >= 1 else { a.invalid("classes", "classes must be at least 1, got \(classes)"); return nil }
            return Lowered(op: .cosineSimilarity, parameters: [Parameter(suffix: "weight", shape: [Dim(classes), width])])
        },
    ] + plainOps

    /// Ops without parameters.
    private static let plainOps: [LayerOp] = [
        simple("attention", ["q", "k", "v", "lengths"], ["heads"]) { a in a.int("heads", default: nil).map { .attention(heads: $0) } },
        simple("masked_mean_pool", ["x", "lengths"], []) { _ in .maskedMeanPool },
        simple("mask_padding", ["x", "lengths"], []) { _ in .maskPadding },
        simple("window_lengths", ["lengths"], ["kernel", "stride", "padding"]) { a in
            guard let k = a.int("kernel", default: nil), let s = a.int("stride", default: 1), let p = a.int("padding", default: 0) else { return nil }
            guard k >= 1, s >= 1, p >= 0 else { a.invalid("kernel", "window_lengths needs kernel and stride of at least 1 and padding of at least 0"); return nil }
            return .windowLengths(kernel: k, stride: s, padding: p)
        },
        simple("add", ["a", "b"], []) { _ in .binary(.add) },
        simple("subtract", ["a", "b"], []) { _ in .binary(.subtract) },
        simple("multiply", ["a", "b"], []) { _ in .binary(.multiply) },
        simple("scale", ["x"], ["factor"]) { a in a.double("factor", default: nil).map { .scale(Float($0)) } },
        simple("softmax", ["x"], []) { _ in .softmax },
        simple("log_softmax", ["x"], []) { _ in .logSoftmax },
        simple("reduce_sum", ["x"], ["axes", "keep_dims"]) { a in
            guard let axes = a.ints("axes", default: nil), let keep = a.bool("keep_dims", default: false) else { return nil }
            return .reduce(.sum, axes: axes, keepDims: keep)
        },
        simple("reduce_mean", ["x"], ["axes", "keep_dims"]) { a in
            guard let axes = a.ints("axes", default: nil), let keep = a.bool("keep_dims", default: false) else { return nil }
            return .reduce(.mean, axes: axes, keepDims: keep)
        },
        simple("reshape", ["x"], ["shape"]) { a in a.dims("shape").map { .reshape($0) } },
        simple("transpose", ["x"], ["permutation"]) { a in a.ints("permutation", default: nil).map { .transpose($0) } },
        simple("slice", ["x"], ["axis", "start", "end"]) { a in
            guard let axis = a.int("axis", default: nil), let start = a.int("start", default: 0), let end = a.int("end", default: nil) else { return nil }
            return .slice(axis: axis, start: start, end: end)
        },
        simple("concat", ["*x"], ["axis"]) { a in a.int("axis", default: nil).map { .concat(axis: $0) } },
        simple("dropout", ["x"], ["p"]) { a in
            guard let p = a.double("p", default: nil) else { return nil }
            guard (0..<1).contains(p) else { a.invalid("p", "dropout p must be in [0, 1), got \(p)"); return nil }
            return .dropout(probability: Float(p))
        },
        simple("layer_drop", ["skip", "layer"], ["p"]) { a in
            guard let p = a.double("p", default: nil) else { return nil }
            guard (0..<1).contains(p) else { a.invalid("p", "layer_drop p must be in [0, 1), got \(p)"); return nil }
            return .layerDrop(probability: Float(p))
        },
        simple("cross_entropy", ["logits", "targets", "class_weights?", "mask?"], ["ignore_index"]) { a in
            a.int("ignore_index", default: -100).map { .crossEntropy(ignoreIndex: $0) }
        },
        simple("matmul", ["a", "b"], ["transpose_a", "transpose_b"]) { a in
            guard let ta = a.bool("transpose_a", default: false), let tb = a.bool("transpose_b", default: false) else { return nil }
            return .matmul(transposeA: ta, transposeB: tb)
        },
    ] + UnaryFunction.allCases.map { function in simple(function.rawValue, ["x"], []) { _ in .unary(function) } }

    private static func simple(_ name: String, _ inputs: [String], _ attributes: [String], _ make: @escaping @Sendable (AttributeReader) -> Op?) -> LayerOp {
        LayerOp(name: name, inputs: inputs, attributes: attributes, needsParams: false) { _, a in
            make(a).map { Lowered(op: $0, parameters: []) }
        }
    }
}

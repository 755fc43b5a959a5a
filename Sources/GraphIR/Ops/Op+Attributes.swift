/// An op's attributes as (name, value) text pairs, for text dumps, DOT labels and error messages.
extension Op {
    public var attributes: [(name: String, value: String)] {
        switch self {
        case let .input(name): [("name", quoted(name))]
        case let .parameter(name, shape): [("name", quoted(name)), ("shape", shape.bracketed)]
        case let .constant(value): [("value", number(value))]
        case .linear, .softmax, .logSoftmax, .maskedMeanPool, .maskPadding, .cosineSimilarity, .unary, .binary, .kmeansAssign: []
        case let .activated(product, function): product.attributes + [("activation", function.rawValue)]
        case let .linearGroup(count, bias): [("count", "\(count)"), ("bias", "\(bias)")]
        case let .chain(ops), let .gradientChain(ops): ops.flatMap { op in op.attributes.map { (name: "\(op.name).\($0.name)", value: $0.value) } }
        case let .matmul(a, b): [("transpose_a", "\(a)"), ("transpose_b", "\(b)")]
        case let .conv1d(stride, padding, groups): [("stride", "\(stride)"), ("padding", "\(padding)"), ("groups", "\(groups)")]
        case let .layerNorm(eps), let .addLayerNorm(eps): [("eps", number(eps))]
        case let .groupNorm(groups, eps): [("groups", "\(groups)"), ("eps", number(eps))]
        case let .normalizedConv1d(stride, padding, groups, normGroups, eps):
            Op.conv1d(stride: stride, padding: padding, groups: groups).attributes
                + [("norm_groups", "\(normGroups)"), ("eps", number(eps))]
        case let .weightNorm(axis): [("axis", "\(axis)")]
        case let .scale(factor): [("factor", number(factor))]
        case let .reduce(_, axes, keepDims): [("axes", "\(axes)"), ("keep_dims", "\(keepDims)")]
        case let .reshape(shape): [("shape", shape.bracketed)]
        case let .transpose(permutation): [("permutation", "\(permutation)")]
        case let .slice(axis, start, end): [("axis", "\(axis)"), ("start", "\(start)"), ("end", "\(end)")]
        case let .concat(axis): [("axis", "\(axis)")]
        case let .attention(heads): [("heads", "\(heads)")]
        case let .lstm(hidden): [("hidden", "\(hidden)")]
        case let .windowLengths(kernel, stride, padding): [("kernel", "\(kernel)"), ("stride", "\(stride)"), ("padding", "\(padding)")]
        case let .dropout(probability), let .layerDrop(probability): [("p", number(probability))]
        case let .timeMask(probability, span, minimum):
            [("p", number(probability)), ("span", "\(span)"), ("min_spans", "\(minimum)")]
        case let .crossEntropy(ignoreIndex): [("ignore_index", "\(ignoreIndex)")]
        case let .amSoftmax(scale, margin): [("s", number(scale)), ("m", number(margin))]
        case let .gradient(forward, wrt):
            forward.attributes + [("wrt", "[" + zip(forward.inputNames, wrt).filter(\.1).map { $0.0.replacingSuffix("?") }.joined(separator: ", ") + "]")]
        }
    }
}

private func quoted(_ text: String) -> String { "\"\(text)\"" }

/// Shortest text that reads back as the same Float (Swift's description), without a trailing `.0` for integers.
private func number(_ value: Float) -> String {
    let text = "\(value)"
    return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
}

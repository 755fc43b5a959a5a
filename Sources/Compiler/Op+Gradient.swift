import GraphIR

/// The vector-Jacobian product of each op, as IR nodes: one exhaustive switch, so that a new op makes the compiler
/// point here.
///
/// Ops whose gradient is another forward op reuse it (a transpose's gradient is the inverse transpose, a matmul's
/// two matmuls, a scale a scale). The others get one fused `gradient` node per forward node, computing every needed
/// input gradient at once from the kernels' backward functions (`linear_grad -> dx, dweight, dbias`), which reads
/// what its forward node saved.
extension Autodiff {
    /// The gradient contributions of `node`'s inputs flagged in `wrt`, as (input index, gradient value).
    static func gradients(
        of node: Node, outputGradient dy: ValueID, wrt: [Bool], in builder: inout GraphBuilder
    ) throws(CompileError) -> [(Int, ValueID)] {
        let name = "grad.\(node.name)"
        func add(_ op: Op, _ inputs: [ValueID], _ suffix: String = "") -> ValueID {
            builder.add(op, inputs, name: name + suffix, scope: node.scope, at: node.location)[0]
        }
        /// One fused gradient node for every flagged input.
        func fused() -> [(Int, ValueID)] {
            let outputs = builder.add(.gradient(of: node.op, wrt: wrt), node.inputs + [node.outputs[0], dy], name: name,
                                      scope: node.scope, at: node.location)
            return Array(zip(wrt.indices.filter { wrt[$0] }, outputs))
        }
        func type(_ index: Int) -> TensorType { builder.graph[node.inputs[index]].type }

        switch node.op {
        case .input, .parameter, .constant, .windowLengths, .kmeansAssign:
            return []

        case .activated, .addLayerNorm, .linearGroup, .chain, .gradientChain, .normalizedConv1d:
            // Made by the fusion pass in inference plans only, after any differentiation.
            throw CompileError("internal: '\(node.name)' is a fused \(node.op.name), which has no gradient rule; "
                + "fusion runs on inference plans only")

        case .linear, .conv1d, .layerNorm, .groupNorm, .weightNorm, .unary, .softmax, .logSoftmax, .reduce, .slice,
             .concat, .attention, .lstm, .maskedMeanPool, .dropout, .layerDrop, .timeMask, .crossEntropy, .amSoftmax:
            return fused()

        case let .binary(function):
            // Same-shape addition passes the gradient through; broadcasting and products need the fused node.
            let outputType = builder.graph[node.outputs[0]].type
            if function == .add, type(0) == outputType, type(1) == outputType {
                return wrt.indices.filter { wrt[$0] }.map { ($0, dy) }
            }
            return fused()

        case let .scale(factor):
            return [(0, add(.scale(factor), [dy]))]

        case .reshape:
            return [(0, add(.reshape(type(0).shape), [dy]))]

        case let .transpose(permutation):
            var inverse = [Int](repeating: 0, count: permutation.count)
            for (axis, source) in permutation.enumerated() { inverse[source] = axis }
            return [(0, add(.transpose(inverse), [dy]))]

        case let .matmul(transposeA, transposeB):
            // C = op(A) op(B); each case's products follow from dC's shape and the transposes.
            let (a, b) = (node.inputs[0], node.inputs[1])
            var result = [(Int, ValueID)]()
            if wrt[0] {
                let dA = switch (transposeA, transposeB) {
                case (false, false): add(.matmul(transposeA: false, transposeB: true), [dy, b], ".a")
                case (false, true): add(.matmul(transposeA: false, transposeB: false), [dy, b], ".a")
                case (true, false): add(.matmul(transposeA: false, transposeB: true), [b, dy], ".a")
                case (true, true): add(.matmul(transposeA: true, transposeB: true), [b, dy], ".a")
                }
                result.append((0, dA))
            }
            if wrt[1] {
                let dB = switch (transposeA, transposeB) {
                case (false, false): add(.matmul(transposeA: true, transposeB: false), [a, dy], ".b")
                case (false, true): add(.matmul(transposeA: true, transposeB: false), [dy, a], ".b")
                case (true, false): add(.matmul(transposeA: false, transposeB: false), [a, dy], ".b")
                case (true, true): add(.matmul(transposeA: true, transposeB: true), [dy, a], ".b")
                }
                result.append((1, dB))
            }
            return result

        case .maskPadding:
            return [(0, add(.maskPadding, [dy, node.inputs[1]]))]

        case .cosineSimilarity:
            throw CompileError(
                "cosine_similarity '\(node.name)' has no gradient rule", at: node.location,
                hint: "train its scores through an am_softmax loss (`cosine: \(node.name)`), which differentiates the features and class weights")

        case .gradient:
            throw CompileError("'\(node.name)' is a gradient node: second derivatives are not supported", at: node.location)
        }
    }
}

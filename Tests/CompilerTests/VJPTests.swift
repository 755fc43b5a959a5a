import Compiler
import GraphIR
import Kernels
import Runtime
import Testing

/// Every op's gradient rule against central finite differences, on small shapes.
@Suite struct VJPTests {
    func lengths(_ values: [Int32]) -> HostTensor { HostTensor(int32s: values, shape: [values.count]) }

    @Test func linearWithAndWithoutBias() throws {
        var check = GradientCheck()
        var b = GraphBuilder(name: "t")
        let x = check.parameter("x", [2, 3, 4], in: &b)
        let w = check.parameter("w", [5, 4], in: &b)
        let bias = check.parameter("bias", [5], in: &b)
        let y = b.add(.linear, [x, w, bias], name: "linear")[0]
        let w2 = check.parameter("w2", [3, 5], in: &b)
        let output = b.add(.linear, [y, w2], name: "linear2")[0]
        try check.check(b, output: output)
    }

    @Test(arguments: [(1, 0, 1), (2, 1, 1), (1, 2, 2)])
    func conv1d(stride: Int, padding: Int, groups: Int) throws {
        var check = GradientCheck()
        var b = GraphBuilder(name: "t")
        let x = check.parameter("x", [2, 9, 4], in: &b)
        let w = check.parameter("w", [6, 4 / groups, 3], in: &b)
        let bias = check.parameter("bias", [6], in: &b)
        let output = b.add(.conv1d(stride: stride, padding: padding, groups: groups), [x, w, bias], name: "conv")[0]
        try check.check(b, output: output)
    }

    @Test func layerNormAndGroupNorm() throws {
        var check = GradientCheck()
        var b = GraphBuilder(name: "t")
        let x = check.parameter("x", [2, 5, 4], in: &b)
        let gamma = check.parameter("gamma", [4], offset: 1, in: &b)
        let beta = check.parameter("beta", [4], in: &b)
        let ln = b.add(.layerNorm(eps: 1e-5), [x, gamma, beta], name: "ln")[0]
        let l = check.input("lengths", lengths([5, 3]), in: &b)
        let gamma2 = check.parameter("gamma2", [4], offset: 1, in: &b)
        let beta2 = check.parameter("beta2", [4], in: &b)
        let gn = b.add(.groupNorm(groups: 2, eps: 1e-5), [ln, gamma2, beta2, l], name: "gn")[0]
        let output = b.add(.maskPadding, [gn, l], name: "masked")[0]
        try check.check(b, output: output)
    }

    @Test func weightNorm() throws {
        var check = GradientCheck()
        var b = GraphBuilder(name: "t")
        let v = check.parameter("v", [3, 2, 4], in: &b)
        let g = check.parameter("g", [1, 1, 4], offset: 1, in: &b)
        let output = b.add(.weightNorm(axis: 2), [v, g], name: "wn")[0]
        try check.check(b, output: output)
    }

    @Test(arguments: UnaryFunction.allCases)
    func unary(function: UnaryFunction) throws {
        var check = GradientCheck()
        var b = GraphBuilder(name: "t")
        let x = check.parameter("x", [3, 7], in: &b)
        let output = b.add(.unary(function), [x], name: "f")[0]
        try check.check(b, output: output)
    }

    @Test(arguments: BinaryFunction.allCases)
    func binaryWithBroadcasting(function: BinaryFunction) throws {
        var check = GradientCheck()
        var b = GraphBuilder(name: "t")
        let x = check.parameter("x", [2, 3, 4], in: &b)
        let row = check.parameter("row", [3, 1], in: &b)
        let same = check.parameter("same", [2, 3, 4], in: &b)
        let broadcast = b.add(.binary(function), [x, row], name: "broadcast")[0]
        let output = b.add(.binary(function), [broadcast, same], name: "same")[0]
        try check.check(b, output: output)
    }

    @Test func scaleSoftmaxAndLogSoftmax() throws {
        var check = GradientCheck()
        var b = GraphBuilder(name: "t")
        let x = check.parameter("x", [3, 5], in: &b)
        let scaled = b.add(.scale(1.5), [x], name: "scale")[0]
        let soft = b.add(.softmax, [scaled], name: "softmax")[0]
        let logSoft = b.add(.logSoftmax, [x], name: "log_softmax")[0]
        let output = b.add(.binary(.add), [soft, logSoft], name: "sum")[0]
        try check.check(b, output: output)
    }

    @Test(arguments: [ReduceFunction.sum, .mean])
    func reduce(function: ReduceFunction) throws {
        var check = GradientCheck()
        var b = GraphBuilder(name: "t")
        let x = check.parameter("x", [2, 3, 4], in: &b)
        let kept = b.add(.reduce(function, axes: [1], keepDims: true), [x], name: "kept")[0]
        let dropped = b.add(.reduce(function, axes: [0, -1], keepDims: false), [x], name: "dropped")[0]
        let both = b.add(.binary(.multiply), [kept, b.add(.reshape([1, 3, 1]), [dropped], name: "r")[0]], name: "both")[0]
        let output = both
        try check.check(b, output: output)
    }

    @Test func reshapeTransposeSliceConcat() throws {
        var check = GradientCheck()
        var b = GraphBuilder(name: "t")
        let x = check.parameter("x", [2, 3, 4], in: &b)
        let z = check.parameter("z", [2, 2, 4], in: &b)
        let reshaped = b.add(.reshape([2, 4, 3]), [x], name: "reshape")[0]
        let transposed = b.add(.transpose([0, 2, 1]), [reshaped], name: "transpose")[0]
        let sliced = b.add(.slice(axis: 1, start: 1, end: -1), [transposed], name: "slice")[0]
        let output = b.add(.concat(axis: 1), [sliced, z, x], name: "concat")[0]
        try check.check(b, output: output)
    }

    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func matmul(transposeA: Bool, transposeB: Bool) throws {
        var check = GradientCheck()
        var b = GraphBuilder(name: "t")
        let a = check.parameter("a", transposeA ? [2, 4, 3] : [2, 3, 4], in: &b)
        let c = check.parameter("c", transposeB ? [2, 5, 4] : [2, 4, 5], in: &b)
        let output = b.add(.matmul(transposeA: transposeA, transposeB: transposeB), [a, c], name: "matmul")[0]
        try check.check(b, output: output)
    }

    @Test func attentionWithPadding() throws {
        var check = GradientCheck()
        var b = GraphBuilder(name: "t")
        let q = check.parameter("q", [2, 5, 4], in: &b)
        let k = check.parameter("k", [2, 5, 4], in: &b)
        let v = check.parameter("v", [2, 5, 4], in: &b)
        let l = check.input("lengths", lengths([5, 3]), in: &b)
        let out = b.add(.attention(heads: 2), [q, k, v, l], name: "attention")[0]
        let output = b.add(.maskPadding, [out, l], name: "masked")[0]
        try check.check(b, output: output)
    }

    @Test func bidirectionalLSTMAndMaskedMeanPool() throws {
        var check = GradientCheck()
        var b = GraphBuilder(name: "t")
        let x = check.parameter("x", [2, 4, 3], in: &b)
        let l = check.input("lengths", lengths([4, 2]), in: &b)
        var weights = [ValueID]()
        for direction in ["", "_reverse"] {
            weights.append(check.parameter("w_ih\(direction)", [8, 3], std: 0.5, in: &b))
            weights.append(check.parameter("w_hh\(direction)", [8, 2], std: 0.5, in: &b))
            weights.append(check.parameter("b_ih\(direction)", [8], std: 0.5, in: &b))
            weights.append(check.parameter("b_hh\(direction)", [8], std: 0.5, in: &b))
        }
        let y = b.add(.lstm(hidden: 2), [x, l] + weights, name: "lstm")[0]
        let output = b.add(.maskedMeanPool, [y, l], name: "pool")[0]
        try check.check(b, output: output)
    }

    @Test func dropoutAndTimeMaskInTrainingMode() throws {
        var check = GradientCheck()
        var b = GraphBuilder(name: "t")
        let x = check.parameter("x", [2, 12, 3], in: &b)
        let embedding = check.parameter("embedding", [3], in: &b)
        let l = check.input("lengths", lengths([12, 9]), in: &b)
        let dropped = b.add(.dropout(probability: 0.3), [x], name: "dropout")[0]
        let output = b.add(.timeMask(probability: 0.3, spanLength: 2, minimumSpans: 1), [dropped, l, embedding], name: "mask")[0]
        try check.check(b, output: output)
    }

    /// In training the draw of (seed, step, node) picks one input; the gradient follows it (p = 0.5 over three
    /// nodes makes both outcomes likely).
    @Test func layerDrop() throws {
        var check = GradientCheck()
        var b = GraphBuilder(name: "t")
        var x = check.parameter("x", [2, 3], in: &b)
        for layer in 0..<3 {
            let w = check.parameter("w\(layer)", [3, 3], in: &b)
            let y = b.add(.unary(.tanh), [b.add(.linear, [x, w], name: "linear\(layer)")[0]], name: "tanh\(layer)")[0]
            x = b.add(.layerDrop(probability: 0.5), [x, y], name: "drop\(layer)")[0]
        }
        try check.check(b, output: x)
    }

    /// Nodes the fetched values do not need are left out of the run, which renumbers the rest: gradient nodes must
    /// still find their own forward node (its random stream, its saved tensors).
    @Test func randomNodesAfterAnUnusedBranch() throws {
        var check = GradientCheck()
        var b = GraphBuilder(name: "t")
        let x = check.parameter("x", [3, 8], in: &b)
        let gamma = check.parameter("gamma", [8], offset: 1, in: &b)
        let beta = check.parameter("beta", [8], in: &b)
        _ = b.add(.unary(.tanh), [x], name: "unused_a")
        _ = b.add(.unary(.sigmoid), [x], name: "unused_b")
        let dropped = b.add(.dropout(probability: 0.4), [x], name: "dropout")[0]
        let normed = b.add(.layerNorm(eps: 1e-5), [dropped, gamma, beta], name: "norm")[0]
        let output = b.add(.layerDrop(probability: 0.5), [dropped, normed], name: "drop")[0]
        try check.check(b, output: output)
    }

    @Test func crossEntropyWithClassWeightsAndMask() throws {
        var check = GradientCheck()
        var b = GraphBuilder(name: "t")
        let logits = check.parameter("logits", [2, 3, 4], in: &b)
        let targets = check.input("targets", HostTensor(int32s: [0, 3, -100, 2, 1, 1], shape: [2, 3]), in: &b)
        let weights = check.input("weights", HostTensor(floats: [0.5, 1, 2, 1.5], shape: [4]), in: &b)
        let mask = check.input("mask", HostTensor(floats: [1, 1, 1, 0, 1, 1], shape: [2, 3]), in: &b)
        let loss = b.add(.crossEntropy(ignoreIndex: -100), [logits, targets, weights, mask], name: "ce")[0]
        let output = b.add(.reshape([1]), [loss], name: "r")[0]
        try check.check(b, output: output)
    }

    @Test func amSoftmax() throws {
        var check = GradientCheck()
        var b = GraphBuilder(name: "t")
        let features = check.parameter("features", [3, 4], in: &b)
        let weight = check.parameter("weight", [5, 4], in: &b)
        let targets = check.input("targets", HostTensor(int32s: [4, 0, 2], shape: [3]), in: &b)
        let loss = b.add(.amSoftmax(scale: 5, margin: 0.2), [features, weight, targets], name: "am")[0]
        let output = b.add(.reshape([1]), [loss], name: "r")[0]
        try check.check(b, output: output)
    }

    /// A value read by three nodes gets the sum of their contributions.
    @Test func fanOutAccumulates() throws {
        var check = GradientCheck()
        var b = GraphBuilder(name: "t")
        let x = check.parameter("x", [3, 4], in: &b)
        let w = check.parameter("w", [4, 4], in: &b)
        let h = b.add(.linear, [x, w], name: "h")[0]
        let a = b.add(.unary(.tanh), [h], name: "a")[0]
        let c = b.add(.binary(.multiply), [h, a], name: "c")[0]
        let output = b.add(.binary(.add), [c, h], name: "out")[0]
        try check.check(b, output: output)
    }

    /// Frozen parameters and what only they feed get no backward nodes.
    @Test func frozenParametersAddNoBackwardNodes() throws {
        var b = GraphBuilder(name: "t")
        let x = b.input("x", .f32([2, 3]))
        let frozen = b.parameter("frozen.w", shape: [3, 3])
        let trained = b.parameter("trained.w", shape: [2, 3])
        let h = b.add(.linear, [x, frozen], name: "frozen_linear")[0]
        let y = b.add(.linear, [h, trained], name: "trained_linear")[0]
        let loss = b.add(.reduce(.sum, axes: [0, 1], keepDims: false), [y], name: "loss")[0]
        let gradients = try Autodiff.appendGradients(of: loss, to: &b) { $0.hasPrefix("trained") }
        #expect(gradients.map(\.name) == ["trained.w"])
        let graph = try b.finish()
        let backward = graph.nodes.filter(\.isBackward)
        #expect(backward.map(\.op.name).sorted() == ["constant", "linear_grad", "reduce_sum_grad"])
        let linearGrad = try #require(backward.first { $0.op.name == "linear_grad" })
        #expect(linearGrad.op == .gradient(of: .linear, wrt: [false, true]))
    }
}

/// Shape rules: the output types of an op from its input types, or why the inputs do not fit.
extension Op {
    /// A reason the inputs do not fit, naming the inputs involved (indices into the op's inputs).
    public struct ShapeIssue: Error, Hashable, Sendable {
        public var message: String
        public var inputs: [Int]

        public init(_ message: String, inputs: [Int] = []) {
            self.message = message
            self.inputs = inputs
        }
    }

    /// The output types for inputs of these types. The arity must already be checked (`arity`).
    public func outputTypes(_ inputs: [TensorType]) -> Result<[TensorType], ShapeIssue> {
        do {
            return .success(try rule(inputs))
        } catch {
            return .failure(error)
        }
    }

    private func rule(_ x: [TensorType]) throws(ShapeIssue) -> [TensorType] {
        switch self {
        case .input, .parameter:
            throw ShapeIssue("\(name) nodes have no inputs; their type is declared")

        case .constant:
            return [.f32([])]

        case let .activated(product, _):
            return try product.rule(x)

        case let .normalizedConv1d(stride, padding, groups, normGroups, eps):
            let convolved = try Op.conv1d(stride: stride, padding: padding, groups: groups)
                .rule(Array(x.prefix(2)) + (x.count > 5 ? [x[5]] : []))
            return try Op.groupNorm(groups: normGroups, eps: eps).rule(convolved + Array(x[2...4]))

        case let .chain(ops):
            var types = [x[0]]
            for op in ops { types = try op.rule(types) }
            return types

        case .gradientChain:
            // Pointwise members: every x and y has dy's type, which is the output's.
            guard let dy = x.last else { throw ShapeIssue("a gradient chain needs its incoming gradient") }
            for (index, type) in x.enumerated() where type != dy {
                throw ShapeIssue("a gradient chain's inputs share one type, got \(type) and \(dy)", inputs: [index, x.count - 1])
            }
            return [dy]

        case let .linearGroup(count, bias):
            // Each member as its own linear: x and the member's weight (and bias).
            let width = bias ? 2 : 1
            guard count >= 1, x.count == 1 + count * width else {
                throw ShapeIssue("linear_group of \(count) needs x and \(count * width) weights\(bias ? " and biases" : ""), got \(x.count) inputs")
            }
            var types = [TensorType]()
            for member in 0..<count {
                let first = 1 + member * width
                do { types += try Op.linear.rule([x[0]] + x[first..<(first + width)]) } catch {
                    throw ShapeIssue("member \(member + 1): " + error.message, inputs: error.inputs.map { $0 == 0 ? 0 : $0 - 1 + first })
                }
            }
            return types

        case .linear:
            let input = try x.float(0, rankAtLeast: 1, self), weight = try x.float(1, rank: 2, self)
            try same(input.shape.last, weight.shape[1], "the input's last axis", "the weight's input size", [0, 1])
            if x.count > 2 {
                let bias = try x.float(2, rank: 1, self)
                try same(bias.shape[0], weight.shape[0], "the bias length", "the weight's output size", [2, 1])
            }
            return [.f32(input.shape.dropLast() + [weight.shape[0]])]

        case let .matmul(transposeA, transposeB):
            let a = try x.float(0, rankAtLeast: 2, self), b = try x.float(1, rankAtLeast: 2, self)
            guard a.rank == b.rank else {
                throw ShapeIssue("matmul needs operands of equal rank, got \(a) and \(b)", inputs: [0, 1])
            }
            let batch = Array(a.shape.dropLast(2))
            try same(batch, Array(b.shape.dropLast(2)), "a's batch axes", "b's batch axes", [0, 1])
            let (m, ka) = transposeA ? (a.shape[a.rank - 1], a.shape[a.rank - 2]) : (a.shape[a.rank - 2], a.shape[a.rank - 1])
            let (kb, n) = transposeB ? (b.shape[b.rank - 1], b.shape[b.rank - 2]) : (b.shape[b.rank - 2], b.shape[b.rank - 1])
            try same(ka, kb, "a's inner size", "b's inner size", [0, 1])
            return [.f32(batch + [m, n])]

        case let .conv1d(stride, padding, groups):
            let input = try x.float(0, rank: 3, self), weight = try x.float(1, rank: 3, self)
            guard stride >= 1, padding >= 0, groups >= 1 else {
                throw ShapeIssue("conv1d needs stride >= 1, padding >= 0 and groups >= 1, got \(stride), \(padding), \(groups)")
            }
            guard let kernel = weight.shape[2].constantValue, let inChannels = input.shape[2].constantValue,
                  let outChannels = weight.shape[0].constantValue else {
                throw ShapeIssue("conv1d needs constant channel counts and kernel size, got input \(input) and weight \(weight)", inputs: [0, 1])
            }
            guard inChannels % groups == 0, outChannels % groups == 0 else {
                throw ShapeIssue("conv1d groups (\(groups)) must divide the input channels (\(inChannels)) and output channels (\(outChannels))", inputs: [0, 1])
            }
            try same(weight.shape[1], Dim(inChannels / groups), "the weight's input channels per group", "input channels / groups", [1, 0])
            if x.count > 2 {
                let bias = try x.float(2, rank: 1, self)
                try same(bias.shape[0], weight.shape[0], "the bias length", "the output channels", [2, 1])
            }
            guard let frames = input.shape[1].windowed(kernel: kernel, stride: stride, padding: padding) else {
                throw ShapeIssue("conv1d stride must be at least 1")
            }
            return [.f32([input.shape[0], frames, weight.shape[0]])]

        case let .addLayerNorm(eps):
            let a = try x.float(0, rankAtLeast: 1, self), b = try x.float(1, rankAtLeast: 1, self)
            guard a == b else { throw ShapeIssue("add_layer_norm adds operands of one shape, got \(a) and \(b)", inputs: [0, 1]) }
            return try Op.layerNorm(eps: eps).rule([a, x[2], x[3]])

        case .layerNorm:
            let input = try x.float(0, rankAtLeast: 1, self)
            for index in 1...2 {
                let parameter = try x.float(index, rank: 1, self)
                try same(parameter.shape[0], input.shape[input.rank - 1], "the \(inputNames[index]) length", "the normalised axis", [index, 0])
            }
            return [input]

        case let .groupNorm(groups, _):
            let input = try x.float(0, rank: 3, self)
            guard let channels = input.shape[2].constantValue, groups >= 1, channels % groups == 0 else {
                throw ShapeIssue("group_norm needs a constant channel count divisible by groups (\(groups)), got \(input)", inputs: [0])
            }
            for index in 1...2 {
                let parameter = try x.float(index, rank: 1, self)
                try same(parameter.shape[0], input.shape[2], "the \(inputNames[index]) length", "the channels", [index, 0])
            }
            try lengths(x, 3, batch: input.shape[0])
            return [input]

        case let .weightNorm(axis):
            let v = try x.float(0, rankAtLeast: 1, self), g = try x.float(1, rankAtLeast: 1, self)
            let kept = try resolve(axis, rank: v.rank, 0)
            try same(g.elementCount, v.shape[kept], "g's element count", "v's length along axis \(axis)", [1, 0])
            return [v]

        case .unary, .scale, .softmax, .logSoftmax, .dropout:
            return [try x.float(0, rankAtLeast: 0, self)]

        case .layerDrop:
            let skip = try x.float(0, rankAtLeast: 0, self), layer = try x.float(1, rankAtLeast: 0, self)
            try same(skip.shape, layer.shape, "the skipped layer's input", "its output", [0, 1])
            return [layer]

        case .binary:
            let a = try x.float(0, rankAtLeast: 0, self), b = try x.float(1, rankAtLeast: 0, self)
            return [.f32(try broadcast(a.shape, b.shape))]

        case let .reduce(_, axes, keepDims):
            let input = try x.float(0, rankAtLeast: 0, self)
            var reduced = Set<Int>()
            for axis in axes { reduced.insert(try resolve(axis, rank: input.rank, 0)) }
            var shape = [Dim]()
            for (index, dim) in input.shape.enumerated() {
                if !reduced.contains(index) { shape.append(dim) } else if keepDims { shape.append(1) }
            }
            return [.f32(shape)]

        case let .reshape(shape):
            let input = x[0]
            guard input.elementCount == shape.reduce(Dim(1), *) else {
                throw ShapeIssue("reshape to \(shape.bracketed) changes the element count of \(input)", inputs: [0])
            }
            return [TensorType(input.dtype, shape)]

        case let .transpose(permutation):
            let input = x[0]
            guard permutation.sorted() == Array(0..<input.rank) else {
                throw ShapeIssue("transpose permutation \(permutation) is not a permutation of the \(input.rank) axes of \(input)", inputs: [0])
            }
            return [TensorType(input.dtype, permutation.map { input.shape[$0] })]

        case let .slice(axis, start, end):
            let input = x[0]
            let index = try resolve(axis, rank: input.rank, 0)
            let length = input.shape[index]
            let stop = end < 0 ? length + Dim(end) : Dim(end)
            guard start >= 0 else { throw ShapeIssue("slice start must be at least 0, got \(start)", inputs: [0]) }
            if let known = length.constantValue, let last = stop.constantValue, !(start <= last && last <= known) {
                throw ShapeIssue("slice \(start)..<\(end) is outside axis \(axis) of \(input)", inputs: [0])
            }
            var shape = input.shape
            shape[index] = stop - Dim(start)
            return [TensorType(input.dtype, shape)]

        case let .concat(axis):
            let first = x[0]
            let index = try resolve(axis, rank: first.rank, 0)
            var total = Dim(0)
            for (position, type) in x.enumerated() {
                guard type.dtype == first.dtype, type.rank == first.rank else {
                    throw ShapeIssue("concat needs inputs of one dtype and rank, got \(first) and \(type)", inputs: [0, position])
                }
                for axis in 0..<first.rank where axis != index {
                    try same(type.shape[axis], first.shape[axis], "input \(position) axis \(axis)", "input 0 axis \(axis)", [position, 0])
                }
                total = total + type.shape[index]
            }
            var shape = first.shape
            shape[index] = total
            return [TensorType(first.dtype, shape)]

        case let .attention(heads):
            let q = try x.float(0, rank: 3, self)
            for index in 1...2 {
                try same(try x.float(index, rank: 3, self).shape, q.shape, "\(inputNames[index])'s shape", "q's shape", [index, 0])
            }
            guard heads >= 1, let width = q.shape[2].constantValue, width % heads == 0 else {
                throw ShapeIssue("attention needs a constant width divisible by heads (\(heads)), got \(q)", inputs: [0])
            }
            try lengths(x, 3, batch: q.shape[0])
            return [q]

        case let .lstm(hidden):
            let input = try x.float(0, rank: 3, self)
            try lengths(x, 1, batch: input.shape[0])
            let gates = Dim(4 * hidden)
            for direction in 0..<2 {
                let base = 2 + 4 * direction
                try same(try x.float(base, rank: 2, self).shape, [gates, input.shape[2]], inputNames[base], "[4 * hidden, input size]", [base, 0])
                try same(try x.float(base + 1, rank: 2, self).shape, [gates, Dim(hidden)], inputNames[base + 1], "[4 * hidden, hidden]", [base + 1])
                try same(try x.float(base + 2, rank: 1, self).shape, [gates], inputNames[base + 2], "[4 * hidden]", [base + 2])
                try same(try x.float(base + 3, rank: 1, self).shape, [gates], inputNames[base + 3], "[4 * hidden]", [base + 3])
            }
            return [.f32([input.shape[0], input.shape[1], Dim(2 * hidden)])]

        case .maskedMeanPool:
            let input = try x.float(0, rank: 3, self)
            try lengths(x, 1, batch: input.shape[0])
            return [.f32([input.shape[0], input.shape[2]])]

        case .maskPadding:
            let input = try x.float(0, rankAtLeast: 2, self)
            try lengths(x, 1, batch: input.shape[0])
            return [input]

        case .windowLengths:
            let input = x[0]
            guard input.dtype == .i32, input.rank == 1 else {
                throw ShapeIssue("window_lengths needs lengths of type i32[B], got \(input)", inputs: [0])
            }
            return [input]

        case .timeMask:
            let input = try x.float(0, rank: 3, self)
            try lengths(x, 1, batch: input.shape[0])
            try same(try x.float(2, rank: 1, self).shape[0], input.shape[2], "the embedding length", "the channels", [2, 0])
            return [input, .f32(Array(input.shape.prefix(2)))]

        case .crossEntropy:
            let logits = try x.float(0, rankAtLeast: 1, self)
            let targets = x[1]
            guard targets.dtype == .i32 else { throw ShapeIssue("cross_entropy targets must be i32, got \(targets)", inputs: [1]) }
            try same(targets.shape, Array(logits.shape.dropLast()), "the targets' shape", "the logits' leading axes", [1, 0])
            if x.count > 2 {
                try same(try x.float(2, rank: 1, self).shape[0], logits.shape[logits.rank - 1], "the class weights' length", "the classes", [2, 0])
            }
            if x.count > 3 {
                try same(try x.float(3, rankAtLeast: 0, self).shape, targets.shape, "the mask's shape", "the targets' shape", [3, 1])
            }
            return [.f32([])]

        case .amSoftmax:
            let features = try x.float(0, rank: 2, self), weight = try x.float(1, rank: 2, self)
            try same(weight.shape[1], features.shape[1], "the class weights' width", "the feature size", [1, 0])
            let targets = x[2]
            guard targets.dtype == .i32, targets.shape == [features.shape[0]] else {
                throw ShapeIssue("am_softmax targets must be i32[\(features.shape[0])], got \(targets)", inputs: [2])
            }
            return [.f32([])]

        case .cosineSimilarity:
            let features = try x.float(0, rank: 2, self), weight = try x.float(1, rank: 2, self)
            try same(weight.shape[1], features.shape[1], "the class weights' width", "the feature size", [1, 0])
            return [.f32([features.shape[0], weight.shape[0]])]

        case .kmeansAssign:
            let features = try x.float(0, rank: 3, self), centroids = try x.float(1, rank: 2, self)
            try same(centroids.shape[1], features.shape[2], "the centroids' width", "the feature size", [1, 0])
            return [TensorType(.i32, Array(features.shape.prefix(2)))]

        case let .gradient(forward, wrt):
            // The forward rule must hold for the forward inputs, and y and dy must both be its output.
            let forwardInputs = Array(x.prefix(wrt.count))
            let outputs = try forward.rule(forwardInputs)
            guard let output = outputs.first, x[wrt.count] == output, x[wrt.count + 1] == output else {
                throw ShapeIssue("\(name) needs y and dy of the forward output's type (\(outputs.first.map(\.description) ?? "none")), got \(x[wrt.count]) and \(x[wrt.count + 1])",
                                 inputs: [wrt.count, wrt.count + 1])
            }
            var gradients = [TensorType]()
            for index in wrt.indices where wrt[index] {
                guard forwardInputs[index].dtype == .f32 else {
                    throw ShapeIssue("\(name) cannot differentiate with respect to \(forwardInputs[index]) (not f32)", inputs: [index])
                }
                gradients.append(forwardInputs[index])
            }
            guard !gradients.isEmpty else { throw ShapeIssue("\(name) computes no gradient (wrt is all false)") }
            return gradients
        }
    }

    // MARK: - Helpers

    private func same(_ a: Dim?, _ b: Dim, _ what: String, _ other: String, _ inputs: [Int]) throws(ShapeIssue) {
        guard let a, a == b else {
            throw ShapeIssue("\(what) (\(a.map(\.description) ?? "none")) does not match \(other) (\(b))", inputs: inputs)
        }
    }

    private func same(_ a: [Dim], _ b: [Dim], _ what: String, _ other: String, _ inputs: [Int]) throws(ShapeIssue) {
        guard a == b else { throw ShapeIssue("\(what) \(a.bracketed) does not match \(other) \(b.bracketed)", inputs: inputs) }
    }

    private func lengths(_ x: [TensorType], _ index: Int, batch: Dim) throws(ShapeIssue) {
        let type = x[index]
        guard type.dtype == .i32, type.shape == [batch] else {
            throw ShapeIssue("\(name) needs lengths of type i32[\(batch)], got \(type)", inputs: [index])
        }
    }

    private func resolve(_ axis: Int, rank: Int, _ input: Int) throws(ShapeIssue) -> Int {
        let index = axis < 0 ? axis + rank : axis
        guard index >= 0, index < rank else {
            throw ShapeIssue("axis \(axis) is out of range for rank \(rank)", inputs: [input])
        }
        return index
    }

    /// NumPy broadcasting of two shapes; symbolic dims must be equal or 1.
    private func broadcast(_ a: [Dim], _ b: [Dim]) throws(ShapeIssue) -> [Dim] {
        let rank = max(a.count, b.count)
        var shape = [Dim]()
        for axis in 0..<rank {
            let x = axis - (rank - a.count) >= 0 ? a[axis - (rank - a.count)] : Dim(1)
            let y = axis - (rank - b.count) >= 0 ? b[axis - (rank - b.count)] : Dim(1)
            if x == y || y == Dim(1) { shape.append(x) } else if x == Dim(1) { shape.append(y) } else {
                throw ShapeIssue("shapes \(a.bracketed) and \(b.bracketed) do not broadcast (\(x) against \(y))", inputs: [0, 1])
            }
        }
        return shape
    }
}

extension [TensorType] {
    /// Input `index` as an f32 tensor of exactly `rank` axes.
    fileprivate func float(_ index: Int, rank: Int, _ op: Op) throws(Op.ShapeIssue) -> TensorType {
        let type = self[index]
        guard type.dtype == .f32, type.rank == rank else {
            let names = op.inputNames
            let name = index < names.count ? names[index].trimmingSuffix("?") : "input \(index)"
            throw Op.ShapeIssue("\(op.name) needs \(name) of rank \(rank) (f32), got \(type)", inputs: [index])
        }
        return type
    }

    fileprivate func float(_ index: Int, rankAtLeast rank: Int, _ op: Op) throws(Op.ShapeIssue) -> TensorType {
        let type = self[index]
        guard type.dtype == .f32, type.rank >= rank else {
            let names = op.inputNames
            let name = index < names.count ? names[index].trimmingSuffix("?") : "input \(index)"
            throw Op.ShapeIssue("\(op.name) needs \(name) of rank \(rank) or more (f32), got \(type)", inputs: [index])
        }
        return type
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}

extension [Dim] {
    /// `[B, T, 768]`.
    public var bracketed: String { "[" + map(\.description).joined(separator: ", ") + "]" }
}

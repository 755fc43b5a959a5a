import Foundation
import Runtime
import Testing

/// The Float64 reference of one optimiser, element by element, written from the PyTorch documentation's pseudocode.
private struct ReferenceOptimizer {
    enum Kind { case adamW, adam, sgd(momentum: Double, nesterov: Bool) }
    var kind: Kind
    var lr: Double, weightDecay: Double, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8
    var m: [Double] = [], v: [Double] = [], t = 0

    mutating func step(_ p: inout [Double], _ g: [Double]) {
        if m.isEmpty { m = Array(repeating: 0, count: p.count); v = m }
        t += 1
        for i in p.indices {
            switch kind {
            case .adamW, .adam:
                var grad = g[i]
                if case .adamW = kind { p[i] -= lr * weightDecay * p[i] } else { grad += weightDecay * p[i] }
                m[i] = beta1 * m[i] + (1 - beta1) * grad
                v[i] = beta2 * v[i] + (1 - beta2) * grad * grad
                let mHat = m[i] / (1 - pow(beta1, Double(t))), vHat = v[i] / (1 - pow(beta2, Double(t)))
                p[i] -= lr * mHat / (vHat.squareRoot() + epsilon)
            case let .sgd(momentum, nesterov):
                let grad = g[i] + weightDecay * p[i]
                m[i] = momentum * m[i] + grad
                p[i] -= lr * (nesterov ? grad + momentum * m[i] : m[i])
            }
        }
    }
}

/// The test problem: 6 parameters from -0.75 to 0.75 and the gradient `0.5 sin(0.7 i + 1.3 t)` at update t.
private func initialValues(_ n: Int = 6) -> [Float] { (0..<n).map { Float((Double($0) - 2.5) * 0.3) } }
private func gradient(_ t: Int, _ n: Int = 6, phase: Double = 0) -> [Float] {
    (0..<n).map { Float(sin(Double($0) * 0.7 + Double(t) * 1.3 + phase) * 0.5) }
}

/// Runs `optimizer` and the reference for `steps` updates of the test problem; returns both final parameters.
private func compare(
    _ optimizer: Optimizer, _ reference: ReferenceOptimizer, name: String = "w", steps: Int = 5, n: Int = 6, lr: Double
) throws -> (actual: [Float], expected: [Double]) {
    var reference = reference
    let parameter = HostTensor(floats: initialValues(n), shape: [n])
    var expected = initialValues(n).map(Double.init)
    for t in 1...steps {
        let g = gradient(t, n)
        try optimizer.step(parameters: [name: parameter], gradients: [name: HostTensor(floats: g, shape: [n])], learningRate: lr)
        reference.step(&expected, g.map(Double.init))
    }
    return (parameter.floatArray, expected)
}

private func close(_ a: [Float], _ b: [Double], tolerance: Double = 2e-6) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs(Double($0) - $1) <= tolerance * max(1, abs($1)) }
}

@Suite("Learning rate schedule")
struct LearningRateScheduleTests {
    @Test("linear: warmup from 0, decay to 0 at the end, 0 beyond")
    func linear() {
        // 100 steps, warmup 0.1 -> 10 steps.
        let schedule = LearningRateSchedule(peak: 1e-3, totalSteps: 100, warmupFraction: 0.1, decay: .linear)
        #expect(schedule.warmupSteps == 10)
        #expect(schedule.rate(at: 0) == 0)
        #expect(abs(schedule.rate(at: 1) - 1e-4) < 1e-15)
        #expect(abs(schedule.rate(at: 5) - 5e-4) < 1e-15)
        #expect(schedule.rate(at: 10) == 1e-3)
        #expect(abs(schedule.rate(at: 55) - 5e-4) < 1e-15) // (100 - 55) / 90
        #expect(abs(schedule.rate(at: 99) - 1e-3 / 90) < 1e-15)
        #expect(schedule.rate(at: 100) == 0)
        #expect(schedule.rate(at: 1000) == 0)
        #expect(schedule.rate(at: -3) == 0)
    }

    @Test("cosine: the midpoint of the decay is half the peak, the end 0; constant stays at the peak")
    func cosineAndConstant() {
        let cosine = LearningRateSchedule(peak: 2.0, totalSteps: 110, warmupFraction: 0.1 / 1.1, decay: .cosine)
        #expect(cosine.warmupSteps == 10)
        #expect(cosine.rate(at: 5) == 1.0)
        #expect(cosine.rate(at: 10) == 2.0)
        #expect(abs(cosine.rate(at: 60) - 1.0) < 1e-12) // progress 0.5
        #expect(abs(cosine.rate(at: 35) - (1 + cos(Double.pi / 4))) < 1e-12) // progress 0.25
        #expect(cosine.rate(at: 110) == 0)
        #expect(cosine.rate(at: 500) == 0)
        let constant = LearningRateSchedule(peak: 3.0, totalSteps: 10, warmupFraction: 0.2, decay: .constant)
        #expect(constant.rate(at: 1) == 1.5)
        #expect(constant.rate(at: 2) == 3.0)
        #expect(constant.rate(at: 9) == 3.0)
        #expect(constant.rate(at: 50) == 3.0)
        #expect(constant.withPeak(6).rate(at: 1) == 3.0)
    }

    @Test("no warmup starts at the peak; zero total steps and odd fractions divide by nothing")
    func degenerate() {
        let noWarmup = LearningRateSchedule(peak: 1.0, totalSteps: 4, warmupFraction: 0, decay: .linear)
        #expect([0, 1, 2, 3, 4, 5].map(noWarmup.rate(at:)) == [1.0, 0.75, 0.5, 0.25, 0, 0])
        for decay in LearningRateSchedule.Decay.allCases {
            let empty = LearningRateSchedule(peak: 1.0, totalSteps: 0, warmupFraction: 0.5, decay: decay)
            #expect(empty.rate(at: 0) == (decay == .constant ? 1 : 0))
            #expect(empty.rate(at: 7).isFinite)
            let allWarmup = LearningRateSchedule(peak: 1.0, totalSteps: 4, warmupFraction: 3, decay: decay)
            #expect(allWarmup.warmupSteps == 4)
            #expect([0, 1, 2, 3].map(allWarmup.rate(at:)) == [0, 0.25, 0.5, 0.75])
            #expect(LearningRateSchedule(peak: 1, totalSteps: 10, warmupFraction: .nan, decay: decay).warmupSteps == 0)
        }
        // 0.25 * 10 = 2.5 rounds away from zero.
        #expect(LearningRateSchedule(peak: 1, totalSteps: 10, warmupFraction: 0.25, decay: .linear).warmupSteps == 3)
    }
}

@Suite("Optimizer")
struct OptimizerTests {
    @Test("AdamW matches a Float64 reference over 5 steps, with and without weight decay")
    func adamWReference() throws {
        // 6 elements (the one-by-one loop) and 21 (two 8-lane blocks and the rest).
        for decay in [0.0, 0.1] { for n in [6, 21] {
            let (actual, expected) = try compare(
                Optimizer(.adamW, weightDecay: decay), ReferenceOptimizer(kind: .adamW, lr: 1e-2, weightDecay: decay), n: n, lr: 1e-2)
            #expect(close(actual, expected), "weight decay \(decay): \(actual) vs \(expected)")
        } }
    }

    /// Numbers from PyTorch 2 (`/work/refenv/bin/python`), computed once:
    ///
    /// ```python
    /// import math, torch
    /// def run(make, steps=5, n=6):
    ///     p = torch.nn.Parameter(torch.tensor([(i - 2.5) * 0.3 for i in range(n)], dtype=torch.float32))
    ///     opt = make([p])
    ///     for t in range(1, steps + 1):
    ///         p.grad = torch.tensor([math.sin(i * 0.7 + t * 1.3) * 0.5 for i in range(n)], dtype=torch.float32)
    ///         opt.step()
    ///     return [float(x) for x in p.detach()]
    /// print(run(lambda ps: torch.optim.AdamW(ps, lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)))
    /// print(run(lambda ps: torch.optim.AdamW(ps, lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)))
    /// print(run(lambda ps: torch.optim.Adam(ps, lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)))
    /// print(run(lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01)))
    /// print(run(lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True)))
    /// ```
    @Test("AdamW, Adam and SGD match torch.optim over 5 steps")
    func torchNumbers() throws {
        let cases: [(Optimizer, Double, [Double])] = [
            (Optimizer(.adamW, weightDecay: 0.1), 1e-2,
             [-0.7664921283721924, -0.4585752487182617, -0.14753767848014832, 0.17668616771697998, 0.47140905261039734, 0.7621787190437317]),
            (Optimizer(.adamW), 1e-2,
             [-0.7703068852424622, -0.46086981892585754, -0.14830070734024048, 0.17751942574977875, 0.473734050989151, 0.7659832835197449]),
            (Optimizer(.adam, weightDecay: 0.1, betas: (0.8, 0.99), epsilon: 1e-6), 1e-2,
             [-0.7610549926757812, -0.4541856050491333, -0.146575927734375, 0.17423158884048462, 0.4670746624469757, 0.7565141916275024]),
            (Optimizer(.sgd(momentum: 0.9), weightDecay: 0.01), 0.1,
             [-0.8588501214981079, -0.4721764624118805, -0.07229764759540558, 0.2919616401195526, 0.5885290503501892, 0.8171688914299011]),
            (Optimizer(.sgd(momentum: 0.9, nesterov: true), weightDecay: 0.01), 0.1,
             [-0.8495334386825562, -0.4762491285800934, -0.08707214146852493, 0.27369144558906555, 0.5750985145568848, 0.8141223788261414]),
        ]
        for (optimizer, lr, torch) in cases {
            let parameter = HostTensor(floats: initialValues(), shape: [6])
            for t in 1...5 {
                try optimizer.step(
                    parameters: ["p": parameter], gradients: ["p": HostTensor(floats: gradient(t), shape: [6])], learningRate: lr)
            }
            #expect(close(parameter.floatArray, torch, tolerance: 1e-6), "\(optimizer.algorithm): \(parameter.floatArray)")
        }
    }

    @Test("Adam (L2 decay) and SGD with momentum match the Float64 reference")
    func adamAndSGDReference() throws {
        var adam = ReferenceOptimizer(kind: .adam, lr: 3e-3, weightDecay: 0.05)
        adam.beta1 = 0.8
        adam.beta2 = 0.95
        adam.epsilon = 1e-6
        let (adamActual, adamExpected) = try compare(
            Optimizer(.adam, weightDecay: 0.05, betas: (0.8, 0.95), epsilon: 1e-6), adam, lr: 3e-3)
        #expect(close(adamActual, adamExpected))
        for nesterov in [false, true] {
            let (actual, expected) = try compare(
                Optimizer(.sgd(momentum: 0.9, nesterov: nesterov), weightDecay: 0.01),
                ReferenceOptimizer(kind: .sgd(momentum: 0.9, nesterov: nesterov), lr: 0.05, weightDecay: 0.01), lr: 0.05)
            #expect(close(actual, expected))
        }
        let (plain, plainExpected) = try compare(
            Optimizer(.sgd(momentum: 0)), ReferenceOptimizer(kind: .sgd(momentum: 0, nesterov: false), lr: 0.05, weightDecay: 0), lr: 0.05)
        #expect(close(plain, plainExpected))
    }

    @Test("scope learning rates: the longest matching prefix at a component boundary sets the scale")
    func scopes() throws {
        let groups = ParameterGroups(scopeScales: ParameterGroups.scales(
            base: 1e-4, scopeRates: ["heads": 1e-3, "heads.emotion": 2e-3, "encoder.layers.1": 0]))
        #expect(groups.scale(of: "heads.gender.weight") == 10)
        #expect(groups.scale(of: "heads.emotion.weight") == 20)
        #expect(groups.scale(of: "heads2.weight") == 1)
        #expect(groups.scale(of: "encoder.layers.1.fc.weight") == 0)
        #expect(groups.scale(of: "encoder.layers.10.fc.weight") == 1)
        #expect(groups.scope(of: "heads") == "heads")

        // Through the optimiser: SGD without momentum moves each parameter by its own rate times the gradient.
        let optimizer = Optimizer(.sgd(momentum: 0), groups: groups)
        let names = ["heads.emotion.weight", "heads.gender.weight", "encoder.layers.1.fc.weight", "backbone.weight"]
        let parameters = Dictionary(uniqueKeysWithValues: names.map { ($0, HostTensor(floats: [1], shape: [1])) })
        let gradients = Dictionary(uniqueKeysWithValues: names.map { ($0, HostTensor(floats: [1], shape: [1])) })
        try optimizer.step(parameters: parameters, gradients: gradients, learningRate: 1e-2)
        #expect(parameters["heads.emotion.weight"]?.floatArray == [1 - Float(0.2)])
        #expect(parameters["heads.gender.weight"]?.floatArray == [1 - Float(0.1)])
        #expect(parameters["encoder.layers.1.fc.weight"]?.floatArray == [1])
        #expect(parameters["backbone.weight"]?.floatArray == [1 - Float(0.01)])
    }

    @Test("weight decay skips biases, norm weights, masked_spec_embed and weight_g by default, or by a given rule")
    func noDecay() throws {
        let rule = ParameterGroups.defaultNoDecay
        for name in ["fc.bias", "encoder.layer_norm.weight", "encoder.layers.0.final_layer_norm.weight",
                     "masked_spec_embed", "encoder.pos_conv_embed.conv.weight_g"] {
            #expect(rule(name), "\(name)")
        }
        for name in ["fc.weight", "encoder.pos_conv_embed.conv.weight_v", "norm.bias_scale"] { #expect(!rule(name), "\(name)") }

        // A zero gradient isolates the decay: AdamW's step is then `p *= 1 - lr wd` exactly.
        let names = ["fc.weight", "fc.bias", "layer_norm.weight"]
        let optimizer = Optimizer(.adamW, weightDecay: 0.5)
        let parameters = Dictionary(uniqueKeysWithValues: names.map { ($0, HostTensor(floats: [2], shape: [1])) })
        let gradients = Dictionary(uniqueKeysWithValues: names.map { ($0, HostTensor(floats: [0], shape: [1])) })
        try optimizer.step(parameters: parameters, gradients: gradients, learningRate: 0.1)
        #expect(parameters["fc.weight"]?.floatArray == [2 * Float(1 - 0.05)])
        #expect(parameters["fc.bias"]?.floatArray == [2])
        #expect(parameters["layer_norm.weight"]?.floatArray == [2])

        let custom = Optimizer(.adamW, weightDecay: 0.5, groups: ParameterGroups(noDecay: { $0 == "fc.weight" }))
        try custom.step(parameters: parameters, gradients: gradients, learningRate: 0.1)
        #expect(parameters["fc.weight"]?.floatArray == [2 * Float(1 - 0.05)])
        #expect(parameters["fc.bias"]?.floatArray == [2 * Float(1 - 0.05)])
    }

    @Test("gradients that do not match the parameters are reported and nothing is updated")
    func mismatches() {
        let parameters = ["a": HostTensor(floats: [1, 2], shape: [2])]
        let gradients = ["a": HostTensor(floats: [1, 1, 1], shape: [3]), "b": HostTensor(floats: [1], shape: [1])]
        #expect(throws: OptimizerError.self) {
            try Optimizer(.adamW).step(parameters: parameters, gradients: gradients, learningRate: 0.1)
        }
        #expect(parameters["a"]?.floatArray == [1, 2])
    }

    @Test("clipping by global norm: the Float64 norm before clipping, gradients scaled as PyTorch scales them")
    func clipping() {
        let gradients = ["b": HostTensor(floats: [3, 0], shape: [2]), "a": HostTensor(floats: [0, 4], shape: [1, 2])]
        #expect(GradientClipping.globalNorm(gradients) == 5)
        #expect(GradientClipping.clipGlobalNorm(gradients, maxNorm: 10) == 5)
        #expect(gradients["b"]?.floatArray == [3, 0])
        #expect(GradientClipping.clipGlobalNorm(gradients, maxNorm: 1) == 5)
        let factor = Float(1 / (5 + 1e-6))
        #expect(gradients["b"]?.floatArray == [3 * factor, 0])
        #expect(gradients["a"]?.floatArray == [0, 4 * factor])
        #expect(abs(GradientClipping.globalNorm(gradients) - 1) < 1e-6)

        // Many elements: the 8-way partial sums agree with a plain Float64 sum.
        let values = (0..<1001).map { Float(sin(Double($0))) }
        let expected = values.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        #expect(abs(GradientClipping.globalNorm(["x": HostTensor(floats: values, shape: [1001])]) - expected) < 1e-12)

        let broken = ["x": HostTensor(floats: [.nan, 1], shape: [2])]
        #expect(GradientClipping.clipGlobalNorm(broken, maxNorm: 1).isNaN)
        #expect(broken["x"]?.floatArray[1] == 1)
    }

    @Test("state saved to safetensors and loaded into a new optimiser continues bit for bit")
    func stateRoundTrip() throws {
        let folder = TemporaryDirectory()
        let path = folder.file("optimizer.safetensors")
        for algorithm: Optimizer.Algorithm in [.adamW, .adam, .sgd(momentum: 0.9)] {
            func makeOptimizer() -> Optimizer {
                Optimizer(algorithm, weightDecay: 0.01, groups: ParameterGroups(scopeScales: ["head": 3]))
            }
            func gradients(_ t: Int) -> [String: HostTensor] {
                var g = ["body.weight": HostTensor(floats: gradient(t, 300), shape: [3, 100])]
                if t != 2 { g["head.bias"] = HostTensor(floats: gradient(t, 4, phase: 1), shape: [4]) } // misses step 2
                return g
            }
            func freshParameters() -> [String: HostTensor] {
                ["body.weight": HostTensor(floats: initialValues(300), shape: [3, 100]),
                 "head.bias": HostTensor(floats: initialValues(4), shape: [4])]
            }
            let schedule = LearningRateSchedule(peak: 1e-2, totalSteps: 6, warmupFraction: 0.3, decay: .cosine)

            let straight = makeOptimizer(), straightParameters = freshParameters()
            for t in 0..<6 { try straight.step(parameters: straightParameters, gradients: gradients(t + 1), learningRate: schedule.rate(at: t)) }

            let first = makeOptimizer(), parameters = freshParameters()
            for t in 0..<3 { try first.step(parameters: parameters, gradients: gradients(t + 1), learningRate: schedule.rate(at: t)) }
            try first.saveState(to: path)
            #expect(try Safetensors.readMetadata(path)["state.head.bias.step"] == "2")
            let resumed = makeOptimizer()
            try resumed.loadState(from: path)
            #expect(resumed.stepCount == 3)
            #expect(resumed.updates(of: "head.bias") == 2)
            for t in 3..<6 { try resumed.step(parameters: parameters, gradients: gradients(t + 1), learningRate: schedule.rate(at: resumed.stepCount)) }

            for name in ["body.weight", "head.bias"] {
                #expect(parameters[name]?.floatArray.map(\.bitPattern) == straightParameters[name]?.floatArray.map(\.bitPattern),
                        "\(algorithm) \(name)")
            }
            #expect(throws: CheckpointError.self) {
                try Optimizer(algorithm == .adam ? .adamW : .adam).loadState(from: path)
            }
        }
    }
}

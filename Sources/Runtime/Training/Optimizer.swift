import GraphIR

/// An optimiser over named Float32 parameters: AdamW (decoupled weight decay), Adam (L2 weight decay) or SGD with
/// momentum, with per-scope learning rates and a no-decay rule (`ParameterGroups`).
///
/// Updates are PyTorch's (`torch.optim.AdamW`, `Adam`, `SGD` with dampening 0) on Float32 state; see
/// `UpdateRules`. Each parameter keeps its own state (first and second moments, or the momentum buffer, and its
/// step count `t`), created as zeros at its first update: a parameter with no gradient in a step (frozen, or not
/// reached) is left alone and its `t` does not advance, as PyTorch skips parameters whose gradient is None.
///
/// The state saves to and loads from safetensors (`Optimizer+State.swift`), so a resumed run continues bit for bit.
public final class Optimizer {
    /// The update rule.
    public enum Algorithm: Hashable, Sendable {
        /// Adam with decoupled weight decay (Loshchilov & Hutter): `p *= 1 - lr wd` before the Adam update.
        case adamW
        /// Adam with L2 weight decay: `wd p` added to the gradient.
        case adam
        /// SGD with momentum (dampening 0; 0 momentum keeps no buffer) and L2 weight decay.
        case sgd(momentum: Double, nesterov: Bool = false)

        /// Whether the state holds a first moment or momentum buffer (`m`), and a second moment (`v`).
        var keepsM: Bool { if case let .sgd(momentum, _) = self { momentum != 0 } else { true } }
        var keepsV: Bool { if case .sgd = self { false } else { true } }

        /// `adamw`, `adam`, `sgd` (as the spec's `optimizer.name` and the saved state spell it).
        public var name: String {
            switch self {
            case .adamW: "adamw"
            case .adam: "adam"
            case .sgd: "sgd"
            }
        }
    }

    /// One parameter's state.
    final class State {
        /// Adam's first moment, or SGD's momentum buffer (nil: plain SGD).
        var m: HostTensor?
        /// Adam's second moment.
        var v: HostTensor?
        /// Updates made to the parameter.
        var t: Int

        init(m: HostTensor?, v: HostTensor?, t: Int) {
            self.m = m
            self.v = v
            self.t = t
        }
    }

    public let algorithm: Algorithm
    public let weightDecay: Double
    public let beta1: Double
    public let beta2: Double
    public let epsilon: Double
    public let groups: ParameterGroups
    /// Calls of `step` made (including those restored by `loadState`).
    public internal(set) var stepCount = 0
    var states: [String: State] = [:]

    /// - Parameters:
    ///   - betas: Adam's moment decay rates (PyTorch's defaults 0.9 and 0.999); unused by SGD.
    ///   - epsilon: added to Adam's denominator; unused by SGD.
    public init(
        _ algorithm: Algorithm, weightDecay: Double = 0, betas: (Double, Double) = (0.9, 0.999), epsilon: Double = 1e-8,
        groups: ParameterGroups = ParameterGroups()
    ) {
        self.algorithm = algorithm
        self.weightDecay = weightDecay
        beta1 = betas.0
        beta2 = betas.1
        self.epsilon = epsilon
        self.groups = groups
    }

    /// The learning rate `name` gets when the base schedule gives `base`.
    public func learningRate(of name: String, base: Double) -> Double { base * groups.scale(of: name) }

    /// The updates made to `name` so far (0 before its first).
    public func updates(of name: String) -> Int { states[name]?.t ?? 0 }

    /// Updates each parameter that has a gradient, with the base learning rate `learningRate` (the schedule's value
    /// for this step) times the parameter's scope scale.
    ///
    /// Every gradient must name a Float32 parameter of its shape, and the parameter's saved state (if loaded) must
    /// have its shape; otherwise nothing is updated and every mismatch is reported.
    public func step(
        parameters: ParameterStore, gradients: [String: HostTensor], learningRate: Double
    ) throws(OptimizerError) {
        let names = gradients.keys.sorted()
        var problems: [Diagnostic] = []
        var work: [(name: String, parameter: HostTensor, gradient: HostTensor)] = []
        for name in names {
            guard let gradient = gradients[name] else { continue }
            guard let parameter = parameters[name] else {
                problems.append(Diagnostic("optimizer: gradient '\(name)' has no parameter"))
                continue
            }
            guard parameter.dtype == .f32, gradient.dtype == .f32, parameter.shape == gradient.shape else {
                problems.append(Diagnostic(
                    "optimizer: parameter '\(name)' is \(parameter.typeDescription) but its gradient is \(gradient.typeDescription)"))
                continue
            }
            if let state = states[name] {
                for (label, tensor) in [("m", state.m), ("v", state.v)] {
                    if let tensor, tensor.shape != parameter.shape {
                        problems.append(Diagnostic(
                            "optimizer: state '\(name).\(label)' is \(tensor.typeDescription) but the parameter is \(parameter.typeDescription)"))
                    }
                }
            }
            work.append((name, parameter, gradient))
        }
        guard problems.isEmpty else { throw OptimizerError(problems) }

        for (name, parameter, gradient) in work {
            let state = self.state(for: name, shape: parameter.shape)
            state.t += 1
            let lr = self.learningRate(of: name, base: learningRate)
            let decay = groups.decays(name) ? weightDecay : 0
            switch algorithm {
            case .adamW, .adam:
                guard let m = state.m, let v = state.v else { continue }
                let scalars = UpdateRules.AdamScalars(
                    lr: lr, weightDecay: decay, decoupled: algorithm == .adamW, beta1: beta1, beta2: beta2,
                    epsilon: epsilon, t: state.t)
                UpdateRules.adam(
                    parameter: parameter.floats, gradient: gradient.floats, m: m.floats, v: v.floats,
                    count: parameter.count, scalars)
            case let .sgd(momentum, nesterov):
                UpdateRules.sgd(
                    parameter: parameter.floats, gradient: gradient.floats, buffer: state.m?.floats,
                    count: parameter.count, lr: lr, weightDecay: decay, momentum: momentum, nesterov: nesterov)
            }
            parameter.markModified()
        }
        stepCount += 1
    }

    /// `step` over a dictionary of parameters (updated in place: the tensors are shared, not copied).
    public func step(
        parameters: [String: HostTensor], gradients: [String: HostTensor], learningRate: Double
    ) throws(OptimizerError) {
        try step(parameters: ParameterStore(parameters), gradients: gradients, learningRate: learningRate)
    }

    /// The state of `name`, created as zeros on first use.
    private func state(for name: String, shape: [Int]) -> State {
        if let state = states[name] { return state }
        let state = State(
            m: algorithm.keepsM ? HostTensor(.f32, shape: shape) : nil,
            v: algorithm.keepsV ? HostTensor(.f32, shape: shape) : nil, t: 0)
        states[name] = state
        return state
    }
}

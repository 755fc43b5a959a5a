import GraphIR

/// Saving and restoring an optimiser's state, so that a resumed run continues bit for bit.
///
/// A safetensors file with, for each parameter updated so far, `state.<param>.m` (Adam's first moment or SGD's
/// momentum buffer) and `state.<param>.v` (Adam's second moment), in Float32 as held; and metadata `algorithm`
/// (`adamw`, `adam`, `sgd`), `step` (calls of `step`) and `state.<param>.step` (the parameter's update count `t`,
/// which differs from `step` for parameters that missed updates). Hyperparameters are not saved: they come from the
/// spec on resume.
extension Optimizer {
    /// Writes the state to `path` (atomically).
    public func saveState(to path: String) throws(CheckpointError) {
        var tensors: [(String, HostTensor)] = []
        var metadata = ["algorithm": algorithm.name, "step": String(stepCount)]
        for name in states.keys.sorted() {
            guard let state = states[name] else { continue }
            metadata["state.\(name).step"] = String(state.t)
            if let m = state.m { tensors.append(("state.\(name).m", m)) }
            if let v = state.v { tensors.append(("state.\(name).v", v)) }
        }
        try Safetensors.write(tensors, metadata: metadata, to: path)
    }

    /// Replaces the state with the one saved at `path`, which must be of this optimiser's algorithm and hold the
    /// tensors the algorithm keeps for every parameter it lists. Shapes are checked against the parameters at the
    /// next `step`.
    public func loadState(from path: String) throws(CheckpointError) {
        let metadata = try Safetensors.readMetadata(path)
        let tensors = try Safetensors.read(path)
        guard metadata["algorithm"] == algorithm.name else {
            throw CheckpointError(
                "the optimizer state is for '\(metadata["algorithm"] ?? "?")', not '\(algorithm.name)'", file: path)
        }
        guard let step = metadata["step"].flatMap({ Int($0) }), step >= 0 else {
            throw CheckpointError("the metadata has no valid 'step'", file: path)
        }
        var problems: [Diagnostic] = []
        var loaded: [String: State] = [:]
        for key in metadata.keys.sorted() where key.hasPrefix("state.") && key.hasSuffix(".step") {
            let name = String(key.dropFirst("state.".count).dropLast(".step".count))
            guard let t = metadata[key].flatMap({ Int($0) }), t >= 0 else {
                problems += CheckpointError("metadata '\(key)' is not a step count", file: path).diagnostics
                continue
            }
            let m = tensors["state.\(name).m"], v = tensors["state.\(name).v"]
            if (algorithm.keepsM && m == nil) || (algorithm.keepsV && v == nil) {
                problems += CheckpointError("the state of parameter '\(name)' is incomplete", file: path).diagnostics
                continue
            }
            if let m, let v, m.shape != v.shape {
                problems += CheckpointError("the moments of parameter '\(name)' differ in shape", file: path).diagnostics
                continue
            }
            if [m, v].contains(where: { $0 != nil && $0?.dtype != .f32 }) {
                problems += CheckpointError("the state of parameter '\(name)' is not Float32", file: path).diagnostics
                continue
            }
            loaded[name] = State(m: algorithm.keepsM ? m : nil, v: algorithm.keepsV ? v : nil, t: t)
        }
        guard problems.isEmpty else { throw CheckpointError(problems) }
        states = loaded
        stepCount = step
    }
}

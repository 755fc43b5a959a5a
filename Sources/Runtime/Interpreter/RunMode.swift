import Compiler

/// How a graph runs.
public enum RunMode: Hashable, Sendable {
    /// Dropout and time masking are identities; results of nodes that read parameters only (the weight-normalised
    /// positional conv weight) are cached while the same parameter tensors are passed in.
    case inference
    /// As inference, but nothing is cached: for parameters updated in place between runs (validation during
    /// training).
    case evaluation
    /// Dropout and time masking are on, their random draws a function of (seed, step, node); gradient nodes run.
    case training(seed: UInt64, step: UInt64)

    var isTraining: Bool { if case .training = self { true } else { false } }

    /// The compiled plan a run in this mode executes: training, or the inference form (evaluation shares it).
    var planMode: ExecutionPlan.Mode { isTraining ? .training : .inference }
}

import Compiler

/// How a graph runs.
public enum RunMode: Hashable, Sendable {
    /// Dropout and time masking are identities; results of nodes that read parameters only (the weight-normalised
    /// positional conv weight) are cached while the same parameter tensors are passed in.
    case inference
    /// As inference, but nothing is cached: for parameters updated in place between runs (validation during
    /// training).
    case evaluation
    /// Dropout and time masking are on, their random draws a function of (seed, step, node) and of each row's place
    /// in the batch; gradient nodes run. `firstRow` is the place of the batch's first row in a larger batch that
    /// several processes share (data-parallel training): row `b` draws what row `firstRow + b` of the whole batch
    /// draws, when the tensors are padded alike.
    case training(seed: UInt64, step: UInt64, firstRow: Int = 0)

    var isTraining: Bool { if case .training = self { true } else { false } }

    /// The compiled plan a run in this mode executes: training, or the inference form (evaluation shares it).
    var planMode: ExecutionPlan.Mode { isTraining ? .training : .inference }
}

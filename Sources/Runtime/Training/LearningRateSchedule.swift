import Foundation

/// The learning rate of each optimiser step: a linear warmup from 0 to a peak, then a linear or cosine decay to 0,
/// or a constant peak.
///
/// The values are those of HuggingFace transformers' `get_linear_schedule_with_warmup`,
/// `get_cosine_schedule_with_warmup` (half a cosine cycle) and `get_constant_schedule_with_warmup`, with `step`
/// the number of updates made before this one (0 for the first update; transformers' `LambdaLR` gives the first
/// update the rate of step 0, which is 0 when there is a warmup):
///
/// - warmup (`step < warmupSteps`): `peak * step / warmupSteps`;
/// - linear: `peak * (totalSteps - step) / (totalSteps - warmupSteps)`;
/// - cosine: `peak * 0.5 * (1 + cos(pi * progress))`, `progress = (step - warmupSteps) / (totalSteps - warmupSteps)`;
/// - constant: `peak`.
///
/// `warmupSteps` is `warmupFraction * totalSteps` rounded to the nearest integer (halves away from zero), the
/// fraction clamped to 0...1. Steps at or beyond `totalSteps` keep the final value (0 for linear and cosine, the
/// peak for constant); negative steps count as 0. No denominator is ever 0: a schedule with no warmup starts at the
/// peak, and one of 0 total steps is at its final value from the start.
public struct LearningRateSchedule: Hashable, Sendable {
    /// How the rate falls after the warmup.
    public enum Decay: String, Hashable, Sendable, CaseIterable { case linear, cosine, constant }

    public private(set) var peak: Double
    public let totalSteps: Int
    public let warmupSteps: Int
    public let decay: Decay

    public init(peak: Double, totalSteps: Int, warmupFraction: Double, decay: Decay) {
        self.peak = peak
        self.totalSteps = max(0, totalSteps)
        let fraction = warmupFraction.isFinite ? min(1, max(0, warmupFraction)) : 0
        warmupSteps = min(self.totalSteps, Int((fraction * Double(self.totalSteps)).rounded()))
        self.decay = decay
    }

    /// The same schedule shape (warmup and decay steps) with another peak: a parameter group's own learning rate.
    public func withPeak(_ peak: Double) -> LearningRateSchedule {
        var copy = self
        copy.peak = peak
        return copy
    }

    /// The rate for the update made after `step` earlier updates.
    public func rate(at step: Int) -> Double { peak * factor(at: step) }

    /// The rate relative to the peak (0...1).
    public func factor(at step: Int) -> Double {
        let step = max(0, step)
        if step >= totalSteps { return decay == .constant ? 1 : 0 }
        if step < warmupSteps { return Double(step) / Double(warmupSteps) }
        let span = Double(max(1, totalSteps - warmupSteps))
        switch decay {
        case .constant:
            return 1
        case .linear:
            return max(0, Double(totalSteps - step) / span)
        case .cosine:
            let progress = min(1, Double(step - warmupSteps) / span)
            return max(0, 0.5 * (1 + cos(Double.pi * progress)))
        }
    }
}

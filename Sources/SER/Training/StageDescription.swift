import Foundation
import GraphSpec

/// What a training stage trains, in words for the training log: each loss term with its weight and settings, the
/// scopes trained and frozen, the optimizer and the schedule.
extension TrainStage {
    /// `stage2: AM-Softmax (s 30, m 0.35) on emotion_cosine against emotion`, then indented details.
    public func description(stage name: String) -> [String] {
        let losses = self.losses.filter(\.enabled)
        var lines = [String]()
        if losses.count == 1, let loss = losses.first {
            lines.append("\(name): \(Self.describe(loss))")
        } else {
            lines.append("\(name): \(losses.count) losses, summed")
            for loss in losses { lines.append("  \(loss.name): \(Self.describe(loss))") }
        }
        lines.append("  trains \(train.isEmpty ? "nothing" : train.joined(separator: ", "))"
                     + (freeze.isEmpty ? "" : "; frozen: \(freeze.joined(separator: ", "))"))
        var optimizerText = "\(optimizer.name.rawValue) lr \(Self.number(optimizer.learningRate))"
        if !optimizer.scopeLearningRates.isEmpty {
            optimizerText += " (" + optimizer.scopeLearningRates.sorted { $0.key < $1.key }
                .map { "\($0.key) \(Self.number($0.value))" }.joined(separator: ", ") + ")"
        }
        optimizerText += ", weight decay \(Self.number(optimizer.weightDecay))"
        if optimizer.warmup > 0 { optimizerText += ", warmup \(Self.number(optimizer.warmup))" }
        optimizerText += ", \(optimizer.decay.rawValue) decay"
        if let clip = optimizer.clipNorm { optimizerText += ", clip norm \(Self.number(clip))" }
        lines.append("  \(optimizerText); \(epochs) epoch\(epochs == 1 ? "" : "s"), batch \(batchSize)"
                     + (accumulate > 1 ? " x \(accumulate) accumulated" : "")
                     + (maxSeconds.map { ", crops of at most \(Self.number($0)) s" } ?? ""))
        return lines
    }

    /// `0.3 x cross-entropy on gender_logits against gender` with its class weights and frames.
    static func describe(_ loss: Loss) -> String {
        var text = loss.weight == 1 ? "" : "\(number(loss.weight)) x "
        switch loss.kind {
        case .crossEntropy: text += "cross-entropy"
        case let .amSoftmax(scale, margin): text += "AM-Softmax (s \(number(scale)), m \(number(margin)))"
        }
        text += " on \(loss.input) against \(loss.target)"
        switch loss.classWeights {
        case .none: break
        case .balanced: text += ", balanced class weights"
        case let .explicit(values): text += ", class weights [\(values.map(number).joined(separator: ", "))]"
        }
        switch loss.frames {
        case .masked?: text += ", over the time-masked frames"
        case .valid?: text += ", over every valid frame"
        case nil: break
        }
        return text
    }

    /// `30`, `0.35`, `5e-05`.
    static func number(_ value: Double) -> String { String(format: "%g", value) }
}

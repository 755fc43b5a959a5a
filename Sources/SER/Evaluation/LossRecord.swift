/// One logged loss value of a training run: where in training it was taken, which loss, and the learning rate.
public struct LossRecord: Hashable, Sendable, Codable {
    /// The optimizer step (global across epochs within the run).
    public var step: Int
    public var epoch: Int
    /// The training stage (`pretrain`, `finetune`, ...).
    public var stage: String
    /// The loss's name (`total`, `ce`, `commitment`, ...): the chart draws one curve per name.
    public var name: String
    public var value: Double
    /// The learning rate at this step; nil when not logged.
    public var learningRate: Double?

    public init(step: Int, epoch: Int, stage: String, name: String, value: Double, learningRate: Double? = nil) {
        self.step = step
        self.epoch = epoch
        self.stage = stage
        self.name = name
        self.value = value
        self.learningRate = learningRate
    }
}

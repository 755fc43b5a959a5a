import Collectives
import GraphIR
import Kernels
import Runtime

/// Predictions of a model over utterances, in evaluation mode (no dropout, no time masking): the emotion as the
/// argmax of a score output (`emotion_logits`, or `emotion_cosine` for AM-Softmax), the gender as the argmax of
/// `gender_logits` when the model has it.
public struct Evaluator {
    public struct Prediction: Hashable, Sendable {
        public var id: String
        public var emotion: Int
        /// Softmax of the scores (for cosine scores: of `scale * cosine`, the AM-Softmax posterior without margin).
        public var probabilities: [Float]
        public var gender: Int?
    }

    public let interpreter: Interpreter
    /// The output whose argmax is the emotion.
    public let emotionOutput: String
    /// Multiplies the scores before the softmax of `probabilities` (AM-Softmax's scale for cosine scores).
    public let scoreScale: Float

    public init(graph: Graph, emotionOutput: String, scoreScale: Float = 1, optimize: Bool = true) {
        interpreter = Interpreter(graph: graph, optimize: optimize)
        self.emotionOutput = emotionOutput
        self.scoreScale = scoreScale
    }

    /// The predictions for one padded batch.
    public func predict(_ batch: Batch, parameters: [String: HostTensor]) throws(RunError) -> [Prediction] {
        let hasGender = interpreter.graph.outputs.contains { $0.name == "gender_logits" }
        let fetch = [emotionOutput] + (hasGender ? ["gender_logits"] : [])
        let results = try interpreter.runFinite(inputs: ["wave": batch.waves, "lengths": batch.lengths], parameters: parameters,
                                                fetch: fetch, source: batch.described, mode: .evaluation)
        guard let scores = results[emotionOutput] else { throw RunError("the model did not produce '\(emotionOutput)'") }
        let classes = scores.shape.last ?? 1
        var predictions = [Prediction]()
        for row in 0..<batch.ids.count {
            let values = (0..<classes).map { scores.floats[row * classes + $0] * scoreScale }
            let top = values.max() ?? 0
            let exponentials = values.map { FastMath.exp($0 - top) }
            let total = exponentials.reduce(0, +)
            var gender: Int?
            if let genders = results["gender_logits"] {
                let width = genders.shape.last ?? 1
                gender = Self.argmax(Array(UnsafeBufferPointer(start: genders.floats + row * width, count: width)))
            }
            predictions.append(Prediction(id: batch.ids[row], emotion: Self.argmax(values), probabilities: exponentials.map { $0 / total },
                                          gender: gender))
        }
        return predictions
    }

    /// The confusion matrix over every utterance of `batching` (its evaluation plan). With a communicator of several
    /// processes, each evaluates every `size`-th batch from its rank on and the counts are summed: every rank gets
    /// the whole matrix.
    public func confusion(_ batching: Batching, parameters: [String: HostTensor], communicator: Communicator = .single) throws -> ConfusionMatrix {
        var matrix = ConfusionMatrix(classes: batching.classes)
        for (index, items) in batching.evaluationPlan().enumerated() where index % communicator.size == communicator.rank {
            let batch = try batching.load(items)
            let predictions = try predict(batch, parameters: parameters)
            for (row, prediction) in predictions.enumerated() {
                let truth = Int(batch.labels.int32s[row])
                if truth >= 0 { try matrix.add(true: truth, predicted: prediction.emotion) }
            }
        }
        guard communicator.isDistributed else { return matrix }
        var counts = matrix.counts.flatMap { $0.map(Double.init) }
        try communicator.sum(&counts)
        let width = batching.classes.count
        return try ConfusionMatrix(classes: batching.classes,
                                   counts: (0..<width).map { row in (0..<width).map { Int(counts[row * width + $0]) } })
    }

    static func argmax(_ values: [Float]) -> Int {
        var best = 0
        for index in values.indices where values[index] > values[best] { best = index }
        return best
    }
}

/// Counts of test utterances by true class (rows) and predicted class (columns), and the metrics read from them.
///
/// Definitions (all metrics are `Double`, and nil where they would be 0/0, never NaN):
/// - **WAR** (weighted average recall) is plain accuracy: the trace over the total. Each class weighs by its number of
///   test utterances, hence "weighted".
/// - **UAR** (unweighted average recall) is the mean of the per-class recalls over the classes that have at least
///   one true example. A class absent from the test set has no recall (0/0); it is left out of the mean rather than
///   counted as 0 or 1, and `absentClasses` names it so that a report can say so.
/// - **Precision** of a class is nil when the class is never predicted; **F1** is `2 TP / (2 TP + FP + FN)`, nil only
///   when the class is neither a true nor a predicted class of any utterance (so a class with true examples that is
///   never predicted has F1 0). **Macro F1** is the mean of the defined F1s (the classes seen in the truth or the
///   predictions, as scikit-learn's default).
public struct ConfusionMatrix: Hashable, Sendable {
    /// The class names in the classifier's output order; row and column `i` are `classes[i]`.
    public let classes: [String]
    /// `counts[t][p]`: utterances of true class `t` predicted as `p`. Always `classes.count` square.
    public private(set) var counts: [[Int]]

    /// An empty matrix over `classes`.
    public init(classes: [String]) {
        self.classes = classes
        counts = Array(repeating: Array(repeating: 0, count: classes.count), count: classes.count)
    }

    /// A matrix from its counts; throws unless they are `classes.count` square and not negative.
    public init(classes: [String], counts: [[Int]]) throws(EvaluationError) {
        guard counts.count == classes.count, counts.allSatisfy({ $0.count == classes.count }) else {
            throw EvaluationError("a confusion matrix over \(classes.count) classes needs \(classes.count) rows of \(classes.count) counts, got \(counts.map(\.count))")
        }
        guard counts.allSatisfy({ $0.allSatisfy { $0 >= 0 } }) else {
            throw EvaluationError("a confusion matrix cannot hold negative counts")
        }
        self.classes = classes
        self.counts = counts
    }

    /// The sum of several matrices over the same classes (the folds of a protocol pooled); `classes` when the list
    /// is empty.
    public init(summing matrices: [ConfusionMatrix], classes: [String]) throws(EvaluationError) {
        self.init(classes: classes)
        for matrix in matrices { try merge(matrix) }
    }

    /// Counts `count` utterances of class index `trueClass` predicted as `predicted`; throws for an index outside the
    /// classes or a negative count.
    public mutating func add(true trueClass: Int, predicted: Int, count: Int = 1) throws(EvaluationError) {
        guard counts.indices.contains(trueClass), counts.indices.contains(predicted) else {
            throw EvaluationError("class index out of range: true \(trueClass), predicted \(predicted), with \(classes.count) classes")
        }
        guard count >= 0 else { throw EvaluationError("cannot add a negative count (\(count))") }
        counts[trueClass][predicted] += count
    }

    /// Adds another matrix's counts; throws unless it has the same classes in the same order.
    public mutating func merge(_ other: ConfusionMatrix) throws(EvaluationError) {
        guard other.classes == classes else {
            throw EvaluationError("cannot merge confusion matrices over different classes: [\(classes.joined(separator: ", "))] and [\(other.classes.joined(separator: ", "))]")
        }
        for t in counts.indices {
            for p in counts.indices { counts[t][p] += other.counts[t][p] }
        }
    }

    /// All counted utterances.
    public var total: Int { counts.reduce(0) { $0 + $1.reduce(0, +) } }

    /// The correctly classified utterances (the trace).
    public var correct: Int { counts.indices.reduce(0) { $0 + counts[$1][$1] } }

    /// Utterances whose true class is `index` (the row sum); 0 for an index outside the classes.
    public func trueCount(_ index: Int) -> Int {
        counts.indices.contains(index) ? counts[index].reduce(0, +) : 0
    }

    /// Utterances predicted as `index` (the column sum); 0 for an index outside the classes.
    public func predictedCount(_ index: Int) -> Int {
        counts.indices.contains(index) ? counts.reduce(0) { $0 + $1[index] } : 0
    }

    /// The classes with no true example, in class order: they have no recall and are left out of the UAR.
    public var absentClasses: [String] {
        classes.indices.filter { trueCount($0) == 0 }.map { classes[$0] }
    }

    /// Weighted average recall, which is accuracy: trace / total; nil for an empty matrix.
    public var war: Double? { Self.ratio(correct, total) }

    /// Unweighted average recall: the mean recall over classes with at least one true example; nil when none has.
    public var uar: Double? { Self.mean(classes.indices.compactMap { recall($0) }) }

    /// Recall of class `index`: correct / true examples; nil when it has no true example.
    public func recall(_ index: Int) -> Double? {
        guard counts.indices.contains(index) else { return nil }
        return Self.ratio(counts[index][index], trueCount(index))
    }

    /// Precision of class `index`: correct / predicted; nil when it is never predicted.
    public func precision(_ index: Int) -> Double? {
        guard counts.indices.contains(index) else { return nil }
        return Self.ratio(counts[index][index], predictedCount(index))
    }

    /// F1 of class `index`: 2 TP / (2 TP + FP + FN); nil when the class is neither true nor predicted anywhere.
    public func f1(_ index: Int) -> Double? {
        guard counts.indices.contains(index) else { return nil }
        let truePositives = counts[index][index]
        return Self.ratio(2 * truePositives, trueCount(index) + predictedCount(index))
    }

    /// Per-class recalls in class order (nil for absent classes).
    public var recalls: [Double?] { classes.indices.map { recall($0) } }

    /// Per-class precisions in class order (nil for classes never predicted).
    public var precisions: [Double?] { classes.indices.map { precision($0) } }

    /// Per-class F1 in class order (nil for classes neither true nor predicted).
    public var f1Scores: [Double?] { classes.indices.map { f1($0) } }

    /// The mean of the defined per-class F1 scores; nil for an empty matrix.
    public var macroF1: Double? { Self.mean(f1Scores.compactMap { $0 }) }

    static func ratio(_ numerator: Int, _ denominator: Int) -> Double? {
        denominator > 0 ? Double(numerator) / Double(denominator) : nil
    }

    static func mean(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }
}

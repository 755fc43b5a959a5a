/// The test results of every fold of a protocol, summarised both ways that papers report them.
///
/// - **Mean ± std over folds**: WAR and UAR computed per fold, then their mean and sample standard deviation
///   (divided by n - 1; nil for a single fold). Folds with no test utterances (or, for UAR, no class present) are
///   left out of these.
/// - **Pooled**: WAR and UAR of the sum of the folds' confusion matrices, i.e. as if all test utterances were one
///   test set. Pooled WAR weighs folds by size; pooled UAR is not the mean of the folds' UARs.
///
/// The two differ whenever folds differ in size or class balance; a report states both, with which is which.
public struct FoldSummary: Sendable {
    /// One fold's test confusion matrix and its figures.
    public struct FoldResult: Sendable {
        /// The fold's name (`Session1`, the held-out speaker).
        public let name: String
        public let confusion: ConfusionMatrix
        /// The fold's test utterances.
        public var count: Int { confusion.total }
        public var war: Double? { confusion.war }
        public var uar: Double? { confusion.uar }
    }

    /// The class names, the order of every matrix's rows and columns.
    public let classes: [String]
    /// The folds in the order given.
    public let folds: [FoldResult]
    /// The sum of the folds' matrices.
    public let pooled: ConfusionMatrix

    /// A summary of named fold matrices; throws when the classes are empty or repeated, a fold's matrix has other
    /// classes, or two folds share a name.
    public init(classes: [String], folds: [(name: String, confusion: ConfusionMatrix)]) throws(EvaluationError) {
        guard !classes.isEmpty else { throw EvaluationError("a fold summary needs at least one class") }
        guard Set(classes).count == classes.count else {
            throw EvaluationError("the classes are repeated: \(classes.joined(separator: ", "))")
        }
        var names = Set<String>()
        for fold in folds where !names.insert(fold.name).inserted {
            throw EvaluationError("fold \(fold.name) is listed twice")
        }
        self.classes = classes
        self.folds = folds.map { FoldResult(name: $0.name, confusion: $0.confusion) }
        pooled = try ConfusionMatrix(summing: folds.map(\.confusion), classes: classes)
    }

    /// Mean and sample standard deviation of the folds' WAR.
    public var war: Spread { Spread(folds.compactMap(\.war)) }

    /// Mean and sample standard deviation of the folds' UAR.
    public var uar: Spread { Spread(folds.compactMap(\.uar)) }

    /// WAR of the pooled matrix.
    public var pooledWAR: Double? { pooled.war }

    /// UAR of the pooled matrix.
    public var pooledUAR: Double? { pooled.uar }
}

/// The mean and sample standard deviation of some values (one figure over folds).
public struct Spread: Hashable, Sendable {
    /// How many values.
    public let count: Int
    /// The mean; nil for no values.
    public let mean: Double?
    /// The sample standard deviation (n - 1 in the denominator); nil for fewer than two values.
    public let standardDeviation: Double?

    /// The spread of `values`; non-finite values are left out.
    public init(_ values: [Double]) {
        let finite = values.filter(\.isFinite)
        count = finite.count
        guard !finite.isEmpty else {
            mean = nil
            standardDeviation = nil
            return
        }
        let mean = finite.reduce(0, +) / Double(finite.count)
        self.mean = mean
        if finite.count >= 2 {
            let squares = finite.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
            standardDeviation = (squares / Double(finite.count - 1)).squareRoot()
        } else {
            standardDeviation = nil
        }
    }
}

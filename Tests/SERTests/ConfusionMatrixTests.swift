@testable import SER
import Testing

/// Whether two optional figures are both nil or within 1e-12 of each other.
func close(_ a: Double?, _ b: Double?) -> Bool {
    switch (a, b) {
    case (nil, nil): true
    case let (x?, y?): abs(x - y) < 1e-12
    default: false
    }
}

@Suite("ConfusionMatrix")
struct ConfusionMatrixTests {
    @Test("WAR is accuracy and UAR the mean recall on a small matrix built with add(true:predicted:)")
    func warAndUAR() throws {
        var matrix = ConfusionMatrix(classes: ["neutral", "angry"])
        for (t, p, n) in [(0, 0, 3), (0, 1, 1), (1, 0, 2), (1, 1, 4)] {
            for _ in 0..<n { try matrix.add(true: t, predicted: p) }
        }
        #expect(matrix.counts == [[3, 1], [2, 4]])
        #expect(matrix.total == 10 && matrix.correct == 7)
        #expect(close(matrix.war, 0.7))
        #expect(close(matrix.recall(0), 0.75) && close(matrix.recall(1), 4.0 / 6))
        #expect(close(matrix.uar, (0.75 + 4.0 / 6) / 2))
        #expect(matrix.absentClasses.isEmpty)
    }

    @Test("an imbalanced test set: always predicting the majority class gives WAR 0.9 but UAR 0.5")
    func imbalanced() throws {
        let matrix = try ConfusionMatrix(classes: ["neutral", "sad"], counts: [[90, 0], [10, 0]])
        #expect(close(matrix.war, 0.9))
        #expect(close(matrix.uar, 0.5))
        #expect(close(matrix.recall(1), 0))
        #expect(matrix.precision(1) == nil)     // never predicted
        #expect(close(matrix.f1(1), 0))        // true examples, none found
        #expect(close(matrix.precision(0), 0.9))
    }

    @Test("a class absent from the test set is left out of the UAR and listed in absentClasses")
    func absentClass() throws {
        let matrix = try ConfusionMatrix(classes: ["neutral", "happy", "angry"], counts: [[2, 1, 0], [0, 0, 0], [1, 0, 3]])
        #expect(close(matrix.war, 5.0 / 7))
        #expect(matrix.recall(1) == nil)
        #expect(close(matrix.uar, (2.0 / 3 + 3.0 / 4) / 2))
        #expect(matrix.absentClasses == ["happy"])
        // Predicted once though absent: precision 0, F1 0, counted in macro F1 (scikit-learn's default labels).
        #expect(close(matrix.precision(1), 0) && close(matrix.f1(1), 0))
    }

    @Test("per-class precision, recall and F1 and macro F1 against hand-computed values")
    func precisionRecallF1() throws {
        let matrix = try ConfusionMatrix(classes: ["x", "y", "z"], counts: [[5, 2, 1], [1, 6, 1], [0, 2, 7]])
        // Rows (true) 8, 8, 9; columns (predicted) 6, 10, 9.
        let precisions: [Double?] = [5.0 / 6, 6.0 / 10, 7.0 / 9]
        let recalls: [Double?] = [5.0 / 8, 6.0 / 8, 7.0 / 9]
        let f1: [Double?] = [10.0 / 14, 12.0 / 18, 14.0 / 18]
        for i in 0..<3 {
            #expect(close(matrix.precisions[i], precisions[i]))
            #expect(close(matrix.recalls[i], recalls[i]))
            #expect(close(matrix.f1Scores[i], f1[i]))
            // F1 is the harmonic mean of precision and recall.
            if let p = precisions[i], let r = recalls[i] { #expect(close(matrix.f1(i), 2 * p * r / (p + r))) }
        }
        #expect(close(matrix.macroF1, (10.0 / 14 + 12.0 / 18 + 14.0 / 18) / 3))
        #expect(close(matrix.war, 18.0 / 25))
    }

    @Test("an empty matrix gives nil metrics, not NaN; bad indices and classes throw instead of trapping")
    func emptyAndErrors() throws {
        var matrix = ConfusionMatrix(classes: ["a", "b"])
        #expect(matrix.war == nil && matrix.uar == nil && matrix.macroF1 == nil)
        #expect(matrix.recalls == [nil, nil] && matrix.precisions == [nil, nil] && matrix.f1Scores == [nil, nil])
        #expect(matrix.recall(7) == nil && matrix.trueCount(-1) == 0)
        #expect(throws: EvaluationError.self) { try matrix.add(true: 2, predicted: 0) }
        #expect(throws: EvaluationError.self) { try matrix.add(true: 0, predicted: -1) }
        #expect(throws: EvaluationError.self) { try matrix.add(true: 0, predicted: 0, count: -1) }
        #expect(throws: EvaluationError.self) { try matrix.merge(ConfusionMatrix(classes: ["b", "a"])) }
        #expect(throws: EvaluationError.self) { try ConfusionMatrix(classes: ["a", "b"], counts: [[1, 2]]) }
        #expect(throws: EvaluationError.self) { try ConfusionMatrix(classes: ["a"], counts: [[-1]]) }
        #expect(matrix.total == 0)
    }

    @Test("merging sums counts")
    func merging() throws {
        let a = try ConfusionMatrix(classes: ["a", "b"], counts: [[1, 2], [3, 4]])
        let b = try ConfusionMatrix(classes: ["a", "b"], counts: [[10, 20], [30, 40]])
        #expect(try ConfusionMatrix(summing: [a, b], classes: ["a", "b"]).counts == [[11, 22], [33, 44]])
        #expect(try ConfusionMatrix(summing: [], classes: ["a", "b"]).counts == [[0, 0], [0, 0]])
    }
}

@Suite("FoldSummary")
struct FoldSummaryTests {
    /// Fold WARs (and UARs) 0.5, 0.75 and 1.0: mean 0.75, sample std 0.25.
    static func threeFolds() throws -> FoldSummary {
        let classes = ["a", "b"]
        return try FoldSummary(classes: classes, folds: [
            ("F1", ConfusionMatrix(classes: classes, counts: [[1, 1], [1, 1]])),
            ("F2", ConfusionMatrix(classes: classes, counts: [[3, 1], [0, 0]])),
            ("F3", ConfusionMatrix(classes: classes, counts: [[1, 0], [0, 1]])),
        ])
    }

    @Test("mean and sample standard deviation over folds against hand-computed values")
    func meanAndStd() throws {
        let summary = try Self.threeFolds()
        #expect(summary.folds.map(\.war) == [0.5, 0.75, 1.0])
        #expect(summary.folds.map(\.uar) == [0.5, 0.75, 1.0])
        #expect(close(summary.war.mean, 0.75) && close(summary.war.standardDeviation, 0.25))
        #expect(close(summary.uar.mean, 0.75) && close(summary.uar.standardDeviation, 0.25))
        #expect(summary.war.count == 3)
    }

    @Test("pooled figures differ from the mean over folds")
    func pooledDiffersFromMean() throws {
        let summary = try Self.threeFolds()
        #expect(summary.pooled.counts == [[5, 2], [1, 2]])
        #expect(close(summary.pooledWAR, 0.7))                     // 7 / 10, not the mean 0.75
        #expect(close(summary.pooledUAR, (5.0 / 7 + 2.0 / 3) / 2))  // 0.690..., not 0.75
        #expect(!close(summary.pooledWAR, summary.war.mean) && !close(summary.pooledUAR, summary.uar.mean))
    }

    @Test("one fold has no standard deviation; no folds have no figures; bad input throws")
    func edgeCases() throws {
        let one = try FoldSummary(classes: ["a"], folds: [("S", ConfusionMatrix(classes: ["a"], counts: [[2]]))])
        #expect(one.war.mean == 1 && one.war.standardDeviation == nil)
        let none = try FoldSummary(classes: ["a", "b"], folds: [])
        #expect(none.war.mean == nil && none.uar.standardDeviation == nil && none.pooledWAR == nil)
        #expect(Spread([0.5, .nan, 0.7]).count == 2)
        #expect(throws: EvaluationError.self) { try FoldSummary(classes: [], folds: []) }
        #expect(throws: EvaluationError.self) { try FoldSummary(classes: ["a", "a"], folds: []) }
        #expect(throws: EvaluationError.self) {
            try FoldSummary(classes: ["a"], folds: [("S", ConfusionMatrix(classes: ["a"])), ("S", ConfusionMatrix(classes: ["a"]))])
        }
        #expect(throws: EvaluationError.self) { try FoldSummary(classes: ["a"], folds: [("S", ConfusionMatrix(classes: ["b"]))]) }
    }
}

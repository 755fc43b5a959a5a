import Foundation
@testable import SER
import Testing

/// Folds trained as separate processes merge into the report one process would have written.
@Suite("Report merging")
struct ReportMergeTests {
    @Test("merging two one-fold reports gives the two-fold report's figures and files")
    func mergeEqualsOneProcess() throws {
        let run = FileManager.default.temporaryDirectory.appendingPathComponent("gmptl-merge-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: run) }
        let classes = ["neutral", "happy", "angry", "sad"]
        let first = try ConfusionMatrix(classes: classes, counts: [[5, 1, 0, 0], [1, 4, 1, 0], [0, 0, 6, 0], [2, 0, 0, 3]])
        let second = try ConfusionMatrix(classes: classes, counts: [[3, 0, 0, 1], [0, 2, 2, 0], [0, 1, 4, 0], [0, 0, 0, 5]])
        let losses = [LossRecord(step: 1, epoch: 1, stage: "multitask", name: "total", value: 1.5, learningRate: 1e-4)]
        try Report.write(FoldSummary(classes: classes, folds: [("Session1", first)]), losses: losses, to: run + "/Session1/report")
        try Report.write(FoldSummary(classes: classes, folds: [("Session2", second)]), losses: losses, to: run + "/Session2/report")

        let merged = try Report.merge(run: run)
        let together = try FoldSummary(classes: classes, folds: [("Session1", first), ("Session2", second)])
        #expect(merged.summary.folds.map(\.name) == ["Session1", "Session2"])
        #expect(merged.summary.war == together.war && merged.summary.uar == together.uar)
        #expect(merged.summary.pooled == together.pooled)
        #expect(merged.losses.count == 2)
        let written = try String(contentsOfFile: run + "/report/metrics.json", encoding: .utf8)
        #expect(written == Report.metricsJSON(together))

        // A folder without fold reports says what to do.
        let empty = run + "/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        #expect(throws: EvaluationError.self) { try Report.merge(run: empty) }
    }
}

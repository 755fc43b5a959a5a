import Foundation
import FileSystem

/// Merging per-fold reports: folds trained as separate processes (`gmptl train --folds 3`) each write
/// `<run>/<fold>/report`; `merge` reads their confusion matrices and loss logs and writes `<run>/report` with the
/// mean ± std over folds and the pooled figures, as one process running every fold would.
extension Report {
    public struct Merged {
        public var summary: FoldSummary
        public var losses: [LossRecord]
        public var folder: String
        public var files: [String]
    }

    /// Reads `<run>/*/report/metrics.json` (each a one-fold report), writes `<run>/report`.
    public static func merge(run: String) throws(EvaluationError) -> Merged {
        let files = FileManager.default
        let root = run.hasSuffix("/") && run.count > 1 ? String(run.dropLast()) : run
        let folders: [String]
        do { folders = try Folder.names(in: root).sorted() } catch {
            throw EvaluationError(error.message, file: root)
        }
        // Merged only while no process trains a fold of the run (each holds the run folder shared).
        let lock: FolderLock
        do { lock = try FolderLock(root, mode: .exclusive) } catch {
            throw EvaluationError(error.message, file: root,
                                  hint: error.errorNumber == EWOULDBLOCK ? "merge the reports when the folds' trainings have finished" : nil)
        }
        defer { withExtendedLifetime(lock) {} }
        var classes: [String]?
        var folds = [(name: String, confusion: ConfusionMatrix)]()
        var losses = [LossRecord]()
        for folder in folders where folder != "report" {
            let metrics = "\(root)/\(folder)/report/metrics.json"
            guard files.fileExists(atPath: metrics) else { continue }
            guard let data = files.contents(atPath: metrics),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let names = object["classes"] as? [String], let perFold = object["per_fold"] as? [[String: Any]],
                  perFold.count == 1, let fold = perFold[0]["fold"] as? String,
                  let pooled = object["pooled"] as? [String: Any], let rows = pooled["confusion"] as? [[Int]] else {
                throw EvaluationError("not a one-fold report of gmptl train (classes, per_fold, pooled.confusion)", file: metrics)
            }
            if let classes, classes != names {
                throw EvaluationError("its classes \(names) differ from the other folds' \(classes)", file: metrics)
            }
            classes = names
            folds.append((fold, try ConfusionMatrix(classes: names, counts: rows)))
            losses += try readLosses("\(root)/\(folder)/report/losses.csv")
        }
        guard let classes, !folds.isEmpty else {
            throw EvaluationError("no fold reports (<fold>/report/metrics.json) in the run folder", file: root,
                                  hint: "train folds with gmptl train --out \(root) first")
        }
        let summary = try FoldSummary(classes: classes, folds: folds)
        let folder = root + "/report"
        let written = try write(summary, losses: losses, to: folder)
        return Merged(summary: summary, losses: losses, folder: folder, files: written)
    }

    /// The records of a `losses.csv` this module wrote.
    static func readLosses(_ path: String) throws(EvaluationError) -> [LossRecord] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        var records = [LossRecord]()
        for (number, line) in text.split(separator: "\n").enumerated() where number > 0 {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 6, let step = Int(fields[0]), let epoch = Int(fields[1]), let value = Double(fields[4]) else {
                throw EvaluationError("line \(number + 1) is not step,epoch,stage,loss,value,learning_rate", file: path)
            }
            records.append(LossRecord(step: step, epoch: epoch, stage: fields[2], name: fields[3], value: value, learningRate: Double(fields[5])))
        }
        return records
    }
}

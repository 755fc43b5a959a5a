import ArgumentParser
import FileSystem
import Foundation
import GraphIR
import Kernels
import SER

/// `gmptl eval`: the test folds of a run evaluated again with its trained parameters.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a trained run on its test folds (leave-one-session-out) and print WAR and UAR.",
        discussion: "Uses each fold's last finished stage; the corpus is the run's unless --data names another one.")

    @Argument(help: "The run folder of gmptl train.")
    var runFolder: String

    @Option(help: "The corpus (default: the one the run trained on).")
    var data: String?

    @Option(help: "Kernel threads (default: all cores).")
    var threads: Int?

    func run() throws {
        if let threads { KernelThreads.set(threads) }
        do {
            // Fold folders: those with a report of gmptl train.
            let names: [String]
            do { names = try Folder.names(in: runFolder) } catch {
                throw EvaluationError(error.message, file: runFolder, hint: "give the --out folder of gmptl train")
            }
            let folds = names.filter {
                $0 != "report" && FileManager.default.fileExists(atPath: runFolder + "/" + $0 + "/report/metrics.json")
            }.sorted()
            var confusions = [(name: String, confusion: ConfusionMatrix)]()
            var classes = [String]()
            // Every fold of a run reads the same corpus: read it once.
            var corpora = [String: Corpus]()
            for fold in folds {
                // Not while a process trains this fold (it holds the fold's folder exclusively).
                let lock = try FolderLock(runFolder + "/" + fold, mode: .shared)
                defer { withExtendedLifetime(lock) {} }
                let model = try TrainedModel.load(runFolder + "/" + fold)
                classes = model.classes
                let corpusPath = data ?? model.dataPath
                guard let settings = model.spec.data else { throw TrainingError("the run's spec has no config.data") }
                let corpus = try corpora[corpusPath] ?? CorpusFormat.detect(corpusPath)
                    .read(corpusPath, labels: LabelMap(settings.labels, classes: settings.classes))
                corpora[corpusPath] = corpus
                let test = corpus.utterances.filter { Report.safeName($0.session ?? "") == fold }
                let batching = try Batching.readingLengths(test, classes: model.classes, options: Batching.Options(batchSize: 8))
                let confusion = try model.evaluator.confusion(batching, parameters: model.parameters)
                print("\(fold) (stage \(model.stage.name)): WAR \(String(format: "%.3f", confusion.war ?? 0))  UAR \(String(format: "%.3f", confusion.uar ?? 0))  (\(confusion.total) utterances)")
                confusions.append((fold, confusion))
            }
            guard !confusions.isEmpty else { throw TrainingError("\(runFolder) has no fold with a report: not a finished run of gmptl train") }
            let summary = try FoldSummary(classes: classes, folds: confusions)
            if confusions.count > 1 {
                func figure(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "-" }
                print("mean over folds: WAR \(figure(summary.war.mean)) ± \(figure(summary.war.standardDeviation))  UAR \(figure(summary.uar.mean)) ± \(figure(summary.uar.standardDeviation))")
                print("pooled: WAR \(figure(summary.pooledWAR))  UAR \(figure(summary.pooledUAR))")
            }
        } catch let error as any DiagnosticError {
            printError(Diagnostic.render(error))
            throw ExitCode(1)
        } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }
}

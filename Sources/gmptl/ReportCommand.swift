import ArgumentParser
import GraphIR
import SER

/// `gmptl report`: the folds of a run, trained as separate processes, merged into one report.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Merge the fold reports of a run (folds trained separately) into <run>/report: mean ± std over folds and pooled.")

    @Argument(help: "The run folder of gmptl train.")
    var runFolder: String

    func run() throws {
        do {
            let merged = try Report.merge(run: runFolder)
            let summary = merged.summary
            func figure(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "-" }
            for fold in summary.folds { print("\(fold.name): WAR \(figure(fold.war))  UAR \(figure(fold.uar))  (\(fold.count) utterances)") }
            print("mean over \(summary.folds.count) folds: WAR \(figure(summary.war.mean)) ± \(figure(summary.war.standardDeviation))  UAR \(figure(summary.uar.mean)) ± \(figure(summary.uar.standardDeviation))")
            print("pooled: WAR \(figure(summary.pooledWAR))  UAR \(figure(summary.pooledUAR))")
            print("report: \(merged.folder)")
        } catch {
            printError(Diagnostic.render(error))
            throw ExitCode(1)
        }
    }
}

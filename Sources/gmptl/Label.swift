import ArgumentParser
import Collectives
import Foundation
import GraphIR
import Kernels
import SER

/// `gmptl label`: the k-means stage alone, from a run whose earlier stage has finished.
struct Label: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a spec's k-means stage: pseudo-labels and centroids of each fold's training utterances.",
        discussion: """
            The stage taps the model of the training stage it names (its final.safetensors in the run folder, so \
            train that stage first with the same --out) over each fold's training utterances only, fits k-means at \
            every K and labels every training frame. Labels and centroids go to <out>/<fold>/<stage>/labels.safetensors; \
            a second run with the same model, taps, K and utterances reuses them and says so.
            """)

    @Argument(help: "The spec (graphs/gmp_tl.yaml).")
    var spec: String

    @Option(help: "The corpus the run trains on.")
    var data: String

    @Option(help: "The corpus format (default: detected).")
    var format: CorpusFormat?

    @Option(help: "The run folder of gmptl train.")
    var out: String

    @Option(help: "Folds: all, or comma-separated 1-based indices or session names.")
    var folds: String = "all"

    @Option(help: "The k-means stage (default: every k-means stage of the spec).")
    var stage: String?

    @Option(help: "The run's seed (its validation split depends on it).")
    var seed: UInt64 = 0

    @Option(help: "Kernel threads (default: all cores).")
    var threads: Int?

    @Option(name: .customLong("set"), help: "Override a config value of the spec (key=value); repeatable.")
    var overrides: [String] = []

    func run() throws {
        let world = try JobProcesses.world(threads: threads)
        let progress = ProgressBar(enabled: world.rank == 0)
        let options = TrainingRun.Options(
            specPath: spec, overrides: overrides, dataPath: data, format: format,
            folds: folds.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) },
            stages: stage.map { [$0] } ?? [], layout: RunLayout(root: out),
            runner: StageRunner.Options(seed: seed, progress: progress, communicator: world))
        do {
            let clock = ContinuousClock()
            let start = clock.now
            let results = try TrainingRun(options: options).label()
            guard world.rank == 0 else { return }
            for result in results {
                let frames = result.labels.offsets.last ?? 0
                print("\(result.fold) \(result.stage): \(result.labels.ids.count) utterances, \(frames) frames, targets \(result.labels.labels.keys.sorted().joined(separator: ", "))")
            }
            let elapsed = clock.now - start
            print("time \(String(format: "%.2f", Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)) s")
        } catch let error as any DiagnosticError {
            try JobProcesses.fail(error, world: world)
        } catch {
            guard world.isDistributed else { throw error }
            try JobProcesses.fail(error, world: world)
        }
    }
}

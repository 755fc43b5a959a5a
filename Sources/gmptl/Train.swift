import ArgumentParser
import Collectives
import Foundation
import GraphIR
import Kernels
import SER

/// `gmptl train`: the spec's stages on the chosen leave-one-session-out folds, with a report.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a spec's stages on a corpus (leave-one-session-out) and report WAR and UAR on the test folds.",
        discussion: """
            Each fold trains the stages in order (or those given with --stages), keeps the parameters of the epoch \
            with the best validation UAR (a speaker-disjoint tenth of the training sessions), and evaluates the \
            held-out session. Checkpoints are written as the run goes; --resume continues a killed run from them \
            and ends with the same parameters as an uninterrupted run with the same seed and thread count.
            """)

    @Argument(help: "The spec (graphs/gmp_tl.yaml).")
    var spec: String

    @Option(help: "The corpus: an IEMOCAP folder, a .csv/.tsv manifest, or a RAVDESS or CREMA-D folder.")
    var data: String

    @Option(help: "The corpus format (default: detected).")
    var format: CorpusFormat?

    @Option(help: "Folds to run: all, or comma-separated 1-based indices or session names.")
    var folds: String = "all"

    @Option(help: "Stages to run, comma-separated (default: all, in the spec's order).")
    var stages: String?

    @Option(help: "A HuggingFace HuBERT checkpoint for stages that start pretrained (without one the backbone starts at random).")
    var checkpoint: String?

    @Option(help: "The run folder (checkpoints, best parameters, reports).")
    var out: String

    @Option(help: "The seed of initialisation, data order, dropout and masking.")
    var seed: UInt64 = 0

    @Option(help: "Kernel threads (default: all cores; under mpirun, the cores shared among the processes on the machine). Results are reproducible for a given thread count and OpenBLAS core (gmptl info).")
    var threads: Int?

    @Option(help: "Optimizer steps between checkpoints (0: only at the end of each epoch).")
    var checkpointEvery: Int = 50

    @Option(name: .customLong("set"), help: "Override a config value of the spec (key=value); repeatable.")
    var overrides: [String] = []

    @Flag(help: "Continue the run in --out from its checkpoints.")
    var resume = false

    @Flag(help: "No progress output.")
    var quiet = false

    @Flag(name: .customLong("no-optimize"), help: "Run the unoptimised plans (no simplification), for comparison.")
    var noOptimize = false

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        guard checkpointEvery >= 0 else { throw ValidationError("--checkpoint-every must be 0 or more, got \(checkpointEvery)") }
    }

    func run() throws {
        // Under mpirun: one process of a data-parallel job; rank 0 alone prints and writes.
        let world = try JobProcesses.world(threads: threads)
        let progress = ProgressBar(enabled: !quiet && world.rank == 0)
        let options = TrainingRun.Options(
            specPath: spec, overrides: overrides, dataPath: data, format: format,
            folds: folds.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) },
            stages: stages?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } ?? [],
            pretrained: checkpoint, layout: RunLayout(root: out),
            runner: StageRunner.Options(seed: seed, checkpointEvery: checkpointEvery, resume: resume, progress: progress,
                                        optimize: !noOptimize, communicator: world))
        do {
            if world.isDistributed {
                progress.message("data-parallel: \(world.size) processes share each batch, \(KernelThreads.count) kernel thread\(KernelThreads.count == 1 ? "" : "s") each (rank 0 writes the run folder)")
            }
            let result = try TrainingRun(options: options).run()
            progress.finishLine()
            guard world.rank == 0 else { return }
            for note in result.notes { print(note) }
            let summary = result.summary
            func figure(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "-" }
            if summary.folds.count == 1 {
                print("test \(summary.folds[0].name): WAR \(figure(summary.pooledWAR))  UAR \(figure(summary.pooledUAR))")
            } else {
                print("test over \(summary.folds.count) folds: WAR \(figure(summary.war.mean)) ± \(figure(summary.war.standardDeviation))  UAR \(figure(summary.uar.mean)) ± \(figure(summary.uar.standardDeviation))  (pooled WAR \(figure(summary.pooledWAR)), UAR \(figure(summary.pooledUAR)))")
            }
            print("report: \(result.reportFolder)")
        } catch let error as any DiagnosticError {
            progress.finishLine()
            try JobProcesses.fail(error, world: world)
        } catch {
            guard world.isDistributed else { throw error }
            try JobProcesses.fail(error, world: world)
        }
    }
}

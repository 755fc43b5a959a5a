import ArgumentParser
import Foundation
import Kernels
import SER

/// `gmptl bench scaling`: the demo recipe's multi-task stage trained by 1 process and by N under mpirun.
struct BenchScaling: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scaling",
        abstract: "Training throughput of data-parallel processes (mpirun) against one process.",
        discussion: """
            Trains the multi-task stage of graphs/gmp_tl.yaml with the demo's tiny backbone (as make demo) on fold 1 \
            of a corpus (default: the synthetic demo corpus, written to a temporary folder) with each process count \
            of --processes: 1 as a plain process, more under mpirun (--oversubscribe --bind-to none), each process \
            with --threads kernel threads. Utterances per second are the epochs' training utterances over the whole \
            command's wall time (start-up, validation and the test evaluation included), so the figure is what a \
            user waits for. The runs alternate configurations --repeats times and report the median.
            """)

    @Option(help: "Process counts, comma-separated (1 runs without mpirun).")
    var processes: String = "1,2"

    @Option(help: "Kernel threads of each process.")
    var threads: Int = 1

    @Option(help: "Epochs of the multi-task stage.")
    var epochs: Int = 6

    @Option(help: "Global batch size.")
    var batch: Int = 8

    @Option(help: "Runs of each configuration (alternated); the median is reported.")
    var repeats: Int = 3

    @Option(help: "A corpus folder (default: the demo corpus, synthesized for the run).")
    var data: String?

    @Option(help: "The spec.")
    var spec: String = "graphs/gmp_tl.yaml"

    @Option(help: "mpirun to start the processes with.")
    var mpirun: String = "mpirun"

    /// The demo's tiny backbone (make demo).
    static let demoModel = [
        "backbone.features.channels=32", "backbone.encoder.hidden=64", "backbone.encoder.heads=4", "backbone.encoder.intermediate=128",
        "backbone.encoder.layers=2", "backbone.encoder.pos_kernel=16", "backbone.encoder.pos_groups=4", "gmp_layers=[1, 2]",
        "lstm_hidden=32", "projection=32", "frame_head_hidden=32", "frozen=[]", "lr_backbone=5e-4", "lr_heads=5e-4",
    ]

    var counts: [Int] { processes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func validate() throws {
        guard !counts.isEmpty, counts.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--processes lists counts of at least 1") }
        guard threads >= 1, epochs >= 1, batch >= 1, repeats >= 1 else {
            throw ValidationError("--threads, --epochs, --batch and --repeats must be at least 1")
        }
        guard FileManager.default.fileExists(atPath: spec) else { throw ValidationError("no spec at \(spec); run from the checkout or give --spec") }
    }

    func run() throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("gmptl-bench-scaling-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let corpus = data ?? scratch + "/corpus"
        if data == nil { _ = try DemoCorpus.write(to: corpus, utterancesPerClass: 100, seed: 0) }
        print("machine: \(CPUIdentity.current.description), OpenBLAS core \(BLASCore.selection.core), \(ProcessInfo.processInfo.activeProcessorCount) cores")
        print("multi-task stage of \(spec), demo backbone, batch \(batch), \(epochs) epochs, fold 1 of \(corpus)")

        var seconds = [Int: [Double]](), trained = [Int: Int]()
        for round in 0..<repeats {
            for count in counts {
                let out = scratch + "/run-\(count)-\(round)"
                var arguments = ["train", spec, "--data", corpus, "--folds", "1", "--stages", "multitask", "--out", out,
                                 "--threads", String(threads), "--seed", "1"]
                arguments += (Self.demoModel + ["epochs=\(epochs)", "batch=\(batch)"]).flatMap { ["--set", $0] }
                let (elapsed, log) = try time(count == 1 ? [binary] + arguments
                                                : [mpirun, "--oversubscribe", "--bind-to", "none", "-np", String(count), binary] + arguments)
                seconds[count, default: []].append(elapsed)
                if let match = log.firstMatch(of: #/fold \S+: (\d+) training/#), let utterances = Int(match.1) {
                    trained[count] = utterances * epochs
                }
            }
        }
        var table = TextTable(header: ["processes", "threads each", "wall s (median)", "utterances/s", "speed-up"])
        let base = counts.first.flatMap { seconds[$0].map(Self.median) }
        for count in counts {
            guard let samples = seconds[count] else { continue }
            let median = Self.median(samples)
            let rate = trained[count].map { Double($0) / median }
            table.add([String(count), String(threads), String(format: "%.2f", median), rate.map { String(format: "%.1f", $0) } ?? "-",
                       base.map { String(format: "%.2fx", $0 / median) } ?? "-"])
        }
        print(table.render())
    }

    static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    /// Runs a command (the first element, looked up in PATH when it has no slash); returns its wall time and stderr.
    func time(_ command: [String]) throws -> (Double, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        var environment = ProcessInfo.processInfo.environment
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = environment["OMPI_ALLOW_RUN_AS_ROOT"] ?? "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] ?? "1"
        // Containers often forbid the cross-memory attach of Open MPI's shared-memory transport: copy through buffers.
        environment["OMPI_MCA_btl_vader_single_copy_mechanism"] = environment["OMPI_MCA_btl_vader_single_copy_mechanism"] ?? "none"
        process.environment = environment
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        let clock = ContinuousClock()
        let start = clock.now
        try process.run()
        let log = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let elapsed = clock.now - start
        guard process.terminationStatus == 0 else {
            throw ValidationError("\(command.prefix(8).joined(separator: " ")) ... failed:\n\(log.suffix(2_000))")
        }
        return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18, log)
    }
}

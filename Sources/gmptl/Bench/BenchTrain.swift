import ArgumentParser
import Compiler
import Foundation
import GraphIR
import GraphSpec
import Kernels
import Runtime

/// `gmptl bench train`: one training step's forward and backward pass of HuBERT base with the CNN frozen.
struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Median time and peak memory of HuBERT base's forward + backward pass, the CNN frozen (random weights).",
        discussion: """
            The loss is the sum of last_hidden_state; gradients are computed for every parameter but the \
            feature_extractor's (frozen, so it gets no backward nodes). Dropout, LayerDrop and time masking are off, so the \
            work equals scripts/bench_training_reference.py's. Peak memory is the process's maximum resident set.
            """)

    @OptionGroup var options: BackboneBenchOptions

    @Option(help: "Minimum seconds spent timing.")
    var time: Double = 5

    func run() throws {
        let path = try options.prepare()
        let model = try compileOrExit(path, overrides: ["dropout=0", "layerdrop=0", "mask_time_prob=0", "mask_time_min_masks=0"] + options.overrides).graph
        var builder = GraphBuilder(extending: model)
        guard let hidden = model.outputs.first(where: { $0.name == "last_hidden_state" })?.value else {
            throw ValidationError("\(path) has no output last_hidden_state")
        }
        let rank = model[hidden].type.rank
        let loss = builder.add(.reduce(.sum, axes: Array(0..<rank), keepDims: false), [hidden], name: "loss")[0]
        let gradients = try Autodiff.appendGradients(of: loss, to: &builder) { !$0.hasPrefix("feature_extractor.") }
        builder.setOutputs(model.outputs + [NamedValue("loss", loss)] + gradients.map { NamedValue("grad.\($0.name)", $0.gradient) },
                           taps: [])
        let graph = try builder.finish()

        let parameters = BenchForward.randomParameters(graph)
        let (samples, batch) = (options.samples, options.batch)
        let inputs = options.inputs()
        let interpreter = Interpreter(graph: graph, optimize: !options.noOptimize)
        let fetch = ["loss"] + gradients.map { "grad.\($0.name)" }
        var failure: (any Error)?
        let training = Timing(minimumRuns: 3, minimumSeconds: time).median {
            do { _ = try interpreter.run(inputs: inputs, parameters: parameters, fetch: fetch, mode: .training(seed: 1, step: 0)) } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        let trainingPeak = Self.peakResidentMiB()
        let forward = Timing(minimumRuns: 3, minimumSeconds: time / 2).median {
            do { _ = try interpreter.run(inputs: inputs, parameters: parameters, fetch: ["last_hidden_state"], mode: .evaluation) } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        let flops = BenchForward.flops(graph.subgraph(computing: graph.outputs.filter { $0.name != "last_hidden_state" }.map(\.value)),
                                       symbols: ["B": batch, "S": samples])
        var table = TextTable(header: ["pass", "audio", "batch", "threads", "GFLOP", "median ms", "GFLOP/s", "peak RSS MiB"])
        table.add(["forward+backward", "\(formatFixed(options.seconds, digits: 1)) s", "\(batch)", "\(KernelThreads.count)",
                   formatFixed(flops / 1e9, digits: 1), formatFixed(training * 1e3, digits: 1),
                   formatFixed(flops / training / 1e9, digits: 1), formatFixed(trainingPeak, digits: 0)])
        table.add(["forward (evaluation)", "\(formatFixed(options.seconds, digits: 1)) s", "\(batch)", "\(KernelThreads.count)", "", formatFixed(forward * 1e3, digits: 1), "", ""])
        print("\(gradients.count) parameter tensors get gradients (the CNN is frozen)")
        print(table.render())
        if options.profile {
            let record = OpProfile()
            _ = try interpreter.run(inputs: inputs, parameters: parameters, fetch: fetch, mode: .training(seed: 1, step: 0), profile: record)
            print("\n" + BenchForward.profileTable(record))
        }
    }

    /// The process's maximum resident set so far, in MiB.
    static func peakResidentMiB() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }
}

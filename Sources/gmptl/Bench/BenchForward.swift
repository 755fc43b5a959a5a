import ArgumentParser
import Compiler
import GraphIR
import GraphSpec
import Kernels
import Runtime

/// `gmptl bench forward`: HuBERT base's forward pass (random weights) through the interpreter.
struct BenchForward: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract: "Median time and GFLOP/s of HuBERT base's forward pass (random weights).",
        discussion: "FLOPs count the products (convolutions, linear layers, attention) as two operations a multiply-add: 56.9 GFLOP for 4 s at batch 1.")

    @OptionGroup var options: BackboneBenchOptions

    @Option(help: "Minimum seconds spent timing.")
    var time: Double = 3

    func run() throws {
        let path = try options.prepare()
        let graph = try compileOrExit(path, overrides: options.overrides).graph
        let parameters = Self.randomParameters(graph)
        let (samples, batch) = (options.samples, options.batch)
        let interpreter = Interpreter(graph: graph, optimize: !options.noOptimize)
        let inputs = options.inputs()
        let flops = Self.flops(graph.inferenceForm(), symbols: ["B": batch, "S": samples])
        var failure: (any Error)?
        let median = Timing(minimumRuns: 3, minimumSeconds: time).median {
            do { _ = try interpreter.run(inputs: inputs, parameters: parameters, fetch: ["last_hidden_state"]) } catch { failure = error }
        }
        if let failure { throw failure }
        var table = TextTable(header: ["model", "audio", "batch", "threads", "GFLOP", "median ms", "GFLOP/s"])
        table.add([graph.name, "\(formatFixed(options.seconds, digits: 1)) s", "\(batch)", "\(KernelThreads.count)",
                   formatFixed(flops / 1e9, digits: 2), formatFixed(median * 1e3, digits: 1), formatFixed(flops / median / 1e9, digits: 1)])
        print(table.render())
        if options.profile {
            let record = OpProfile()
            _ = try interpreter.run(inputs: inputs, parameters: parameters, fetch: ["last_hidden_state"], profile: record)
            print("\n" + Self.profileTable(record))
        }
    }

    /// Normal(0, 0.02) values for every parameter of a graph (benchmarks need shapes, not trained weights).
    static func randomParameters(_ graph: Graph) -> [String: HostTensor] {
        var parameters = [String: HostTensor]()
        for (index, node) in graph.parameterNodes.enumerated() {
            guard case let .parameter(name, dims) = node.op else { continue }
            let tensor = HostTensor(.f32, shape: dims.compactMap(\.constantValue))
            Philox(seed: 1, node: UInt32(index)).fillNormal(tensor.floats, count: tensor.count, std: 0.02)
            parameters[name] = tensor
        }
        return parameters
    }

    /// Tables of one profiled run: the time per op kind, then the `slowest` nodes (where one layer stands out).
    static func profileTable(_ record: OpProfile, slowest: Int = 12) -> String {
        let total = record.seconds.values.reduce(0, +)
        func share(_ seconds: Double) -> String { formatFixed(100 * seconds / max(total, 1e-12), digits: 1) + " %" }
        var ops = TextTable(header: ["op", "calls", "ms", "share"])
        for (name, seconds) in record.seconds.sorted(by: { $0.value > $1.value }) {
            ops.add([name, "\(record.calls[name] ?? 0)", formatFixed(seconds * 1e3, digits: 1), share(seconds)])
        }
        var nodes = TextTable(header: ["slowest nodes", "op", "ms", "share"])
        let ranked = record.nodeSeconds.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        for (name, seconds) in ranked.prefix(slowest) {
            nodes.add([name, record.nodeOps[name] ?? "", formatFixed(seconds * 1e3, digits: 1), share(seconds)])
        }
        return ops.render() + "\n\n" + nodes.render()
    }

    /// The products' FLOPs of a graph for concrete symbol values.
    static func flops(_ graph: Graph, symbols: [String: Int]) -> Double {
        func shape(_ value: ValueID) -> [Int] { graph[value].type.shape.map { $0.evaluate(symbols) ?? 0 } }
        return graph.nodes.reduce(0) { total, node in
            total + node.op.flops(inputs: node.inputs.map(shape), outputs: node.outputs.map(shape))
        }
    }
}

import FileSystem
import ArgumentParser
import Foundation
import GraphIR
import Compiler
import GraphSpec
import SER

/// Writes a line to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Compiles a spec for a command; on a spec error prints every diagnostic to stderr and exits with 1.
func compileOrExit(_ path: String, overrides: [String]) throws -> CompiledSpec {
    do {
        return try SpecCompiler.compile(path: path, overrides: overrides)
    } catch {
        printError(Diagnostic.render(error))
        let count = error.diagnostics.count
        printError("\(count) error\(count == 1 ? "" : "s") in \(path)")
        throw ExitCode(1)
    }
}

/// `gmptl compile FILE`: checks a spec and prints its graph or a summary.
struct Compile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compile a YAML graph spec: check it and print the typed IR or a summary.",
        discussion: "Exit status 0 when the spec compiles, 1 when it has errors (printed on stderr with file:line:column).")

    @Argument(help: "The spec file (YAML).")
    var file: String

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a config value, key=value (repeatable).", valueName: "key=value"))
    var overrides: [String] = []

    @Option(help: "What to print: ir (the typed graph), summary, or plan (the execution plan and its memory plan). Default: summary, or nothing else with --explain-fusion.")
    var emit: Emit?

    @Option(name: .customLong("bind"), help: ArgumentHelp(
        "With --emit plan: a size for a symbolic dimension, SYMBOL=VALUE (repeatable; default B=1, S=64000: 4 s at 16 kHz).",
        valueName: "symbol=value"))
    var bindings: [String] = []

    @Flag(help: "Print a table of parameters per scope and the total.")
    var params = false

    @Flag(name: .customLong("explain-fusion"), help: ArgumentHelp(
        "Print every fusion decision of the plan (fused or refused) with its reason.",
        discussion: "The plan is the one --emit plan shows: inference of the outputs, or with --stage a training step."))
    var explainFusion = false

    @Option(help: "Compile what this stage runs: for a training stage, the graph with its losses and backward pass.")
    var stage: String?

    enum Emit: String, ExpressibleByArgument, CaseIterable {
        case ir, summary, plan
    }

    func run() throws {
        let compiled = try compileOrExit(file, overrides: overrides)
        let graph = try stage.map { try stageGraph(compiled, stage: $0, file: file) } ?? compiled.graph
        switch emit ?? (explainFusion ? nil : .summary) {
        case nil: break
        case .ir: print(graph.text, terminator: "")
        case .summary: print(GraphSummary(graph, stages: compiled.stages).text)
        case .plan: print(try PlanReport(graph, bindings: bindings).text)
        }
        if params { print(ParameterTable(graph).text) }
        if explainFusion { print(FusionReport(try ExecutionPlan.shown(for: graph)).text) }
    }
}

/// `gmptl dot FILE`: the graph as Graphviz DOT.
struct Dot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw a YAML graph spec as Graphviz DOT (render with `dot -Tsvg`).")

    @Argument(help: "The spec file (YAML).")
    var file: String

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a config value, key=value (repeatable).", valueName: "key=value"))
    var overrides: [String] = []

    @Option(help: "Draw only what this stage runs: the nodes its losses (or its k-means taps) need.")
    var stage: String?

    @Option(help: "Fold repeated layers into one box (layers) or every block into a box (blocks).")
    var collapse: DOTOptions.Collapse = .none

    @Flag(name: .customLong("hide-parameters"), help: "Leave parameters out of the drawing.")
    var hideParameters = false

    @Flag(help: "Draw the optimised program the interpreter runs (inference form, simplified) instead of the spec's graph.")
    var optimized = false

    @Option(name: [.short, .customLong("output")], help: "Write to this file instead of standard output.")
    var output: String?

    func run() throws {
        let compiled = try compileOrExit(file, overrides: overrides)
        var graph = try stage.map { try stageGraph(compiled, stage: $0, file: file) } ?? compiled.graph
        if optimized { graph = try ExecutionPlan.shown(for: graph).program }
        let text = graph.dot(DOTOptions(collapse: collapse, showParameters: !hideParameters))
        if let output {
            do {
                // Written to a temporary file and renamed: a reader never sees half a file.
                try AtomicFile.write(text, to: output)
            } catch {
                printError("error: cannot write '\(output)': \(error)")
                throw ExitCode(1)
            }
        } else {
            print(text, terminator: "")
        }
    }
}

extension DOTOptions.Collapse: ExpressibleByArgument {}

/// What a stage runs: for a training stage its training graph (the model's nodes its losses need, the losses and
/// the backward pass), for a k-means stage the nodes its taps need. Exits with a message for an unknown stage.
func stageGraph(_ compiled: CompiledSpec, stage: String, file: String) throws -> Graph {
    guard let found = compiled.stages.first(where: { $0.name == stage }) else {
        let names = compiled.stages.map(\.name)
        printError("error: no stage '\(stage)' in \(file)" + (Suggestion.hint(for: stage, in: names).map { "\n  hint: \($0)" }
            ?? (names.isEmpty ? "; it has no stages" : "\n  hint: stages: \(names.joined(separator: ", "))")))
        throw ExitCode(1)
    }
    switch found.kind {
    case .train:
        do {
            let training = try TrainingGraph(model: compiled.graph, stage: found)
            let graph = training.graph
            let wanted = graph.outputs.filter { $0.name == "loss" || $0.name.hasPrefix("loss.") || $0.name.hasPrefix("grad.") }
            var result = graph.subgraph(computing: wanted.map(\.value))
            result.outputs = result.outputs.filter { named in wanted.contains { $0.name == named.name } }
            return result
        } catch {
            printError(Diagnostic.render(error))
            throw ExitCode(1)
        }
    case .kmeans:
        do { return try PseudoLabelGraph(model: compiled.graph, stage: found).graph } catch {
            printError(Diagnostic.render(error))
            throw ExitCode(1)
        }
    }
}

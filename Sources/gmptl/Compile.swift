import FileSystem
import ArgumentParser
import Foundation
import GraphIR
import GraphSpec

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

    @Option(help: "What to print: ir (the typed graph) or summary.")
    var emit: Emit = .summary

    @Flag(help: "Print a table of parameters per scope and the total.")
    var params = false

    enum Emit: String, ExpressibleByArgument, CaseIterable {
        case ir, summary
    }

    func run() throws {
        let compiled = try compileOrExit(file, overrides: overrides)
        let graph = compiled.graph
        switch emit {
        case .ir: print(graph.text, terminator: "")
        case .summary: print(GraphSummary(graph, stages: compiled.stages).text)
        }
        if params { print(ParameterTable(graph).text) }
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

    @Option(name: [.short, .customLong("output")], help: "Write to this file instead of standard output.")
    var output: String?

    func run() throws {
        let compiled = try compileOrExit(file, overrides: overrides)
        var graph = compiled.graph
        if let stage {
            guard let found = compiled.stages.first(where: { $0.name == stage }) else {
                let names = compiled.stages.map(\.name)
                printError("error: no stage '\(stage)' in \(file)" + (Suggestion.hint(for: stage, in: names).map { "\n  hint: \($0)" }
                    ?? (names.isEmpty ? "; it has no stages" : "\n  hint: stages: \(names.joined(separator: ", "))")))
                throw ExitCode(1)
            }
            let names: [String]
            switch found.kind {
            case let .train(train): names = train.losses.map(\.input)
            case let .kmeans(kmeans): names = kmeans.taps
            }
            let values = names.compactMap { name in
                (graph.outputs + graph.taps).first { $0.name == name }?.value
            }
            graph = graph.subgraph(computing: values)
        }
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

import ArgumentParser
import Foundation
import GraphIR

/// `gmptl fuzz`: the harness that keeps hostile input from trapping, hanging or growing without bound: a mutation
/// driver over the readers of user input, and the replay of the crashers found so far (`make test` runs it).
struct FuzzCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz",
        abstract: "Fuzz the readers of user input (specs, safetensors, config.json, corpora, audio) and replay past findings.",
        subcommands: [FuzzRun.self, FuzzCampaign.self, FuzzReplay.self])

    /// This executable, for the children.
    static var executable: String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { readlink("/proc/self/exe", $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count) }
        return count > 0 ? String(decoding: buffer.prefix(count), as: UTF8.self) : CommandLine.arguments[0]
    }

    static let targetList = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
}

extension FuzzTarget: ExpressibleByArgument {}

/// One input through one target, in this process.
struct FuzzRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Read one input with one target: exit 0 when it is accepted, 1 when it is refused (with the message).")

    @Argument(help: ArgumentHelp("The target: \(FuzzCommand.targetList).", valueName: "target"))
    var target: FuzzTarget

    @Argument(help: "The input file.")
    var file: String

    func run() throws {
        do {
            try target.run(file)
        } catch let error as any DiagnosticError {
            printError(Diagnostic.render(error))
            throw ExitCode(1)
        } catch {
            printError("error: \(file): \(error)")
            throw ExitCode(1)
        }
    }
}

/// The mutation driver.
struct FuzzCampaign: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaign",
        abstract: "Mutate valid inputs for a time and run each mutant in a child process; save what traps, hangs or grows.",
        discussion: """
            Each mutant runs as `gmptl fuzz run TARGET FILE` under --timeout seconds and --memory-mb of resident \
            memory. A child that exits with a signal, runs past the timeout, grows past the memory limit or exits \
            with a status other than 0 and 1 is a finding: it is shrunk (chunks removed while it still fails the same \
            way) and saved to --out/TARGET/. Mutants that end with a message not seen before join the corpus. The \
            same --seed gives the same mutants.
            """)

    @Argument(help: ArgumentHelp("Targets (default: all): \(FuzzCommand.targetList).", valueName: "target"))
    var targets: [FuzzTarget] = []

    @Option(help: "Seconds per target.")
    var seconds: Double = 600

    @Option(help: "The mutation generator's seed.")
    var seed: UInt64 = 1

    @Option(help: "Seconds a child may run before it counts as a hang.")
    var timeout: Double = 20

    @Option(help: "Resident memory a child may reach, in MiB.")
    var memoryMb: Int = 2048

    @Option(help: "Where findings are saved.")
    var out: String = "fuzz-findings"

    @Option(help: "Past findings whose files seed the corpus too (Tests/Regressions/TARGET/).")
    var regressions: String = "Tests/Regressions"

    func run() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("gmptl-fuzz-\(getpid())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        var rows = [[String]]()
        var total = 0
        for target in targets.isEmpty ? FuzzTarget.allCases : targets {
            let summary = try campaign(target, work: work)
            total += summary.findings
            rows.append([target.rawValue, String(summary.executions), String(format: "%.0f", summary.rate), String(summary.corpus),
                         String(summary.outcomes), String(summary.findings), summary.kinds.isEmpty ? "-" : summary.kinds])
        }
        print(TextTable(header: ["target", "runs", "runs/s", "corpus", "messages", "findings", "kinds"], rows: rows).render())
        if total > 0 {
            print("findings saved under \(out)/")
            throw ExitCode(1)
        }
    }

    struct Summary {
        var executions = 0, corpus = 0, outcomes = 0, findings = 0
        var rate = 0.0
        var kinds = ""
    }

    func campaign(_ target: FuzzTarget, work: String) throws -> Summary {
        let folder = work + "/" + target.rawValue
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var seeds = try target.writeSeeds(into: folder)
        let past = regressions + "/" + target.rawValue
        for name in (try? FileManager.default.contentsOfDirectory(atPath: past))?.sorted() ?? [] { seeds.append(past + "/" + name) }
        var corpus = seeds.compactMap { FileManager.default.contents(atPath: $0).map { [UInt8]($0) } }
        var mutator = FuzzMutator(seed: seed, tokens: target.tokens)
        var messages = Set<String>()
        var found = [String: Int]()
        var summary = Summary()
        let input = folder + "/input." + target.fileExtension
        let start = Date()
        while Date().timeIntervalSince(start) < seconds, !corpus.isEmpty {
            let mutant = mutator.mutate(corpus[mutator.below(corpus.count)], other: corpus[mutator.below(corpus.count)])
            _ = FileManager.default.createFile(atPath: input, contents: Data(mutant))
            let run = try execute(target, input)
            summary.executions += 1
            if run.outcome.isFailure {
                let kind = run.outcome.description.split(separator: " ").prefix(2).joined(separator: "-")
                let shrunk = run.outcome == .timedOut || run.outcome == .tooMuchMemory ? mutant : shrink(mutant, target, input, like: run.outcome)
                let name = "\(kind)-\(String(fnv1a(shrunk), radix: 16)).\(target.fileExtension)"
                try FileManager.default.createDirectory(atPath: out + "/" + target.rawValue, withIntermediateDirectories: true)
                _ = FileManager.default.createFile(atPath: out + "/" + target.rawValue + "/" + name, contents: Data(shrunk))
                found[run.outcome.description, default: 0] += 1
                summary.findings += 1
                print("\(target.rawValue): \(run.outcome) -> \(out)/\(target.rawValue)/\(name)")
                continue
            }
            let message = Self.signature(run.standardError)
            if messages.insert(message).inserted, corpus.count < 4096 { corpus.append(mutant) }
        }
        summary.rate = Double(summary.executions) / max(Date().timeIntervalSince(start), 1e-9)
        summary.corpus = corpus.count
        summary.outcomes = messages.count
        summary.kinds = found.sorted { $0.key < $1.key }.map { "\($0.key) x\($0.value)" }.joined(separator: ", ")
        return summary
    }

    func execute(_ target: FuzzTarget, _ path: String) throws -> ChildRun {
        try ChildRun.run(FuzzCommand.executable, ["fuzz", "run", target.rawValue, path], seconds: timeout, bytes: memoryMb << 20)
    }

    /// Chunks removed, halving their size, while the input still fails the same way (at most 200 runs).
    func shrink(_ bytes: [UInt8], _ target: FuzzTarget, _ path: String, like outcome: ChildRun.Outcome) -> [UInt8] {
        var current = bytes, runs = 0, chunk = max(1, bytes.count / 2)
        while chunk >= 1, runs < 200 {
            var start = 0
            while start < current.count, runs < 200 {
                let candidate = Array(current[..<start] + current[min(current.count, start + chunk)...])
                _ = FileManager.default.createFile(atPath: path, contents: Data(candidate))
                runs += 1
                if let run = try? execute(target, path), run.outcome == outcome { current = candidate } else { start += chunk }
            }
            if chunk == 1 { break }
            chunk /= 2
        }
        return current
    }

    /// A message with its numbers and paths left out: what makes two refusals "the same".
    static func signature(_ text: String) -> String {
        let line = text.split(separator: "\n").first { $0.contains("error") } ?? ""
        return String(line.map { $0.isNumber ? "#" : $0 }).replacingOccurrences(of: #"/[^ :']*"#, with: "PATH", options: .regularExpression)
    }

    func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        bytes.reduce(0xCBF2_9CE4_8422_2325 as UInt64) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
    }
}

/// The regression corpus: every past finding, run again.
struct FuzzReplay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Run every input under FOLDER/TARGET/ (past findings): each must be refused with a located message, within the limits.",
        discussion: "Exit status 0 when every input exits with status 1 and a message naming its file, within --timeout seconds and --memory-mb.")

    @Argument(help: "The folder of regression inputs, one subfolder per target.")
    var folder: String = "Tests/Regressions"

    @Option(help: "Seconds each input may take.")
    var timeout: Double = 5

    @Option(help: "Resident memory each input may reach, in MiB.")
    var memoryMb: Int = 1024

    func run() throws {
        var rows = [[String]]()
        var failures = 0
        for target in FuzzTarget.allCases {
            let directory = folder + "/" + target.rawValue
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory))?.sorted() ?? [] {
                let path = directory + "/" + name
                let run = try ChildRun.run(FuzzCommand.executable, ["fuzz", "run", target.rawValue, path], seconds: timeout,
                                           bytes: memoryMb << 20)
                let located = run.standardError.contains(target.locationMarker(path))
                let passed = run.outcome == .exited(1) && located
                if !passed { failures += 1 }
                let message = run.standardError.split(separator: "\n").first.map { String($0.prefix(100)) } ?? ""
                rows.append([passed ? "ok" : "FAIL", target.rawValue, name, run.outcome.description, String(format: "%.2f", run.seconds),
                             String(run.peakBytes >> 20), message])
            }
        }
        print(TextTable(header: ["result", "target", "input", "outcome", "s", "MiB", "message"], rows: rows).render())
        print("\(rows.count - failures) of \(rows.count) inputs refused with a located message within \(timeout) s and \(memoryMb) MiB")
        if failures > 0 { throw ExitCode(1) }
    }
}

import Foundation
import Runtime
import Testing

/// End-to-end: the built `gmptl` binary on the specs of graphs/, as a user runs it.
@Suite("gmptl compile and dot")
struct CommandLineTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The gmptl next to the test bundle (swift build --build-tests builds both into the same folder).
    static var binary: URL? {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("gmptl")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return nil
    }

    struct Run {
        var status: Int32
        var reason: Process.TerminationReason
        var output: String
        var error: String
    }

    /// Runs a program (gmptl by default) in the repository root; `environment` replaces the test's own when given.
    static func run(_ arguments: [String], input: Data? = nil, executable: URL? = binary, environment: [String: String]? = nil) throws -> Run {
        struct NotBuilt: Error, CustomStringConvertible { var description: String { "gmptl is not built next to the tests" } }
        guard let executable else { throw NotBuilt() }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = root
        if let environment { process.environment = environment }
        let output = Pipe(), error = Pipe(), stdin = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(input) }
        try stdin.fileHandleForWriting.close()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, reason: process.terminationReason,
                   output: String(decoding: outputData, as: UTF8.self), error: String(decoding: errorData, as: UTF8.self))
    }

    @Test("eval and report of a folder that is missing or a file: the system's reason, never Foundation's error text")
    func runFoldersThatAreNot() throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("gmptl-no-run-\(UUID().uuidString)").path
        let file = missing + ".txt"
        FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        defer { try? FileManager.default.removeItem(atPath: file) }
        for (command, path, reason) in [("eval", missing, "no such file or directory"), ("eval", file, "not a directory"),
                                        ("report", missing, "no such file or directory"), ("report", file, "not a directory")] {
            let run = try Self.run([command, path])
            #expect(run.status == 1)
            #expect(run.error.contains("error: \(path): cannot list the folder (\(reason))"), "\(command): \(run.error)")
            #expect(!run.error.contains("Domain"), "\(run.error)")
        }
    }

    @Test("compile --params ends with HuBERT base's 94,371,712 parameters; --set encoder.layers=2 removes ten layers")
    func parameterTotals() throws {
        let full = try Self.run(["compile", "graphs/hubert_base.yaml", "--params"])
        #expect(full.status == 0)
        #expect(full.output.split(separator: "\n").last?.hasSuffix("94,371,712") == true)
        let small = try Self.run(["compile", "graphs/hubert_base.yaml", "--params", "--set", "encoder.layers=2"])
        #expect(small.output.split(separator: "\n").last?.hasSuffix("23,492,992") == true)
        #expect(94_371_712 - 23_492_992 == 10 * 7_087_872)
    }

    @Test("compile --emit plan: HuBERT base inference at batch 1 plans its values within 1.15x of the live-set bound")
    func memoryPlan() throws {
        let run = try Self.run(["compile", "graphs/hubert_base.yaml", "--emit", "plan"])
        #expect(run.status == 0, "\(run.error)")
        let line = try #require(run.output.split(separator: "\n").first { $0.hasPrefix("planned arena") })
        let ratio = try #require(line.split(separator: "(").dropFirst().first?.split(separator: "x").first.flatMap { Double($0) })
        #expect(ratio >= 1 && ratio <= 1.15, "\(line)")
        #expect(run.output.contains("plan            hubert_base, inference, B = 1, S = 64000"))
        let bad = try Self.run(["compile", "graphs/hubert_base.yaml", "--emit", "plan", "--bind", "B=two"])
        #expect(bad.status == 64)
        #expect(bad.error.contains("--bind takes SYMBOL=VALUE"))
    }

    @Test("dot --optimized draws the program the interpreter runs: no dropout in inference, no p = 0 dropout when training")
    func optimizedDot() throws {
        func dropoutNodes(_ arguments: [String]) throws -> Int {
            let run = try Self.run(["dot"] + arguments + ["--set", "encoder.layers=1"])
            #expect(run.status == 0, "\(run.error)")
            return run.output.split(separator: "\n").filter { $0.contains("dropout") && !$0.contains("legend") }.count
        }
        #expect(try dropoutNodes(["graphs/hubert_base.yaml"]) > 0)
        #expect(try dropoutNodes(["graphs/hubert_base.yaml", "--optimized"]) == 0)
        let plan = try Self.run(["compile", "graphs/gmp_tl.yaml", "--stage", "multitask", "--set", "backbone.dropout=0",
                                 "--set", "backbone.encoder.layers=2", "--set", "gmp_layers=[1, 2]", "--emit", "plan"])
        #expect(plan.status == 0, "\(plan.error)")
        #expect(plan.output.contains("plan            gmp_tl, training step"))
        #expect(plan.output.contains("bypassed        hubert.layers.0.attn_drop: dropout with p = 0"), "\(plan.output)")
        #expect(plan.output.contains("bypassed        grad.hubert.layers.0.attn_drop: gradient of dropout with p = 0"))
    }

    @Test("gmp_tl.yaml compiles, and its DOT renders with Graphviz")
    func gmpTLRenders() throws {
        let compiled = try Self.run(["compile", "graphs/gmp_tl.yaml"])
        #expect(compiled.status == 0, "\(compiled.error)")
        #expect(compiled.output.contains("stage2: train"))
        let dot = try Self.run(["dot", "graphs/gmp_tl.yaml", "--collapse", "layers"])
        #expect(dot.status == 0)
        #expect(dot.output.hasPrefix("digraph"))
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/dot") else {
            print("skipped: Graphviz is not installed (make test installs it)")
            return
        }
        let svg = try Self.run(["-Tsvg"], input: Data(dot.output.utf8), executable: URL(fileURLWithPath: "/usr/bin/dot"))
        #expect(svg.status == 0, "\(svg.error)")
        #expect(svg.output.contains("<svg"))
    }

    @Test("a spec error exits with 1 and prints file:line:column on stderr; usage errors are not crashes")
    func errors() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gmptl-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let spec = directory.appendingPathComponent("typo.yaml")
        try "version: 1\ninputs:\n  x: {dtype: f32, shape: [B, 4]}\nmodel:\n  nodes:\n    y: {op: gleu, in: x}\n  outputs: {y: y}\n"
            .write(to: spec, atomically: true, encoding: .utf8)
        let typo = try Self.run(["compile", spec.path])
        #expect(typo.status == 1)
        #expect(typo.reason == .exit)
        #expect(typo.error.contains("\(spec.path):6:13: error: unknown op 'gleu'"))
        #expect(typo.error.contains("did you mean 'gelu'?"))
        #expect(typo.output.isEmpty)
        let missing = try Self.run(["compile", directory.appendingPathComponent("none.yaml").path])
        #expect(missing.status == 1)
        #expect(missing.error.contains("no such file or directory"))
        let unknownStage = try Self.run(["dot", "graphs/gmp_tl.yaml", "--stage", "stage3"])
        #expect(unknownStage.status == 1)
        #expect(unknownStage.error.contains("no stage 'stage3'"))
        let usage = try Self.run(["compile", "graphs/hubert_base.yaml", "--emit", "assembly"])
        #expect(usage.reason == .exit)
        #expect(usage.status != 0)
    }

    @Test("damaged copies of hubert_base.yaml never crash the compiler")
    func damagedSpecs() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("graphs/hubert_base.yaml"), encoding: .utf8)
        let bytes = Array(text.utf8)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gmptl-damaged-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var state: UInt64 = 0x9E37_79B9
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let replacements: [UInt8] = Array("{}[]:,-\"'&*!|> \n\t#$0x.".utf8)
        for index in 0..<24 {
            var damaged = bytes
            if index % 3 == 0 {
                damaged = Array(damaged.prefix(next(damaged.count)))  // truncated
            } else {
                for _ in 0..<(1 + index % 4) { damaged[next(damaged.count)] = replacements[next(replacements.count)] }
            }
            let file = directory.appendingPathComponent("damaged\(index).yaml")
            try Data(damaged).write(to: file)
            let result = try Self.run(["compile", file.path])
            #expect(result.reason == .exit, "damaged\(index).yaml crashed: \(result.error)")
            #expect(result.status == 0 || result.status == 1, "damaged\(index).yaml: status \(result.status)")
        }
    }

    @Test("embed writes every hidden state of the fixture checkpoint, the same with --batch 1 and --batch 3")
    func embed() throws {
        let fixture = Self.root.appendingPathComponent("Tests/RuntimeTests/Fixtures/tiny_hubert").path
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gmptl-embed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // Three utterances as 16 kHz WAV files made from sines of different lengths.
        var files = [String]()
        for (index, count) in [4_000, 3_200, 2_001].enumerated() {
            let samples = (0..<count).map { Float(sin(Double($0) * 0.01 * Double(index + 1))) * 0.3 }
            let path = directory.appendingPathComponent("utt\(index).wav").path
            try writeFloatWAV(samples, to: path)
            files.append(path)
        }
        let one = directory.appendingPathComponent("one.safetensors").path
        let three = directory.appendingPathComponent("three.safetensors").path
        let first = try Self.run(["embed", "--checkpoint", fixture, "--out", one] + files)
        #expect(first.status == 0, "\(first.error)")
        #expect(first.output.contains("wrote 9 tensors"))
        let second = try Self.run(["embed", "--checkpoint", fixture, "--out", three, "--batch", "3", "--layers", "0,2"] + files)
        #expect(second.status == 0, "\(second.error)")
        #expect(second.output.contains("wrote 6 tensors"))
        let alone = try Safetensors.read(one), batched = try Safetensors.read(three)
        #expect(alone.count == 9)
        for (name, tensor) in batched {
            let reference = try #require(alone[name])
            #expect(tensor.shape == reference.shape)
            let scale = reference.floatArray.map(abs).max() ?? 0
            let worst = zip(tensor.floatArray, reference.floatArray).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1e-5 * scale, "\(name): \(worst) of \(scale)")
        }
        #expect(alone["utt0/hidden.2"]?.shape == [199, 32])
        let bad = try Self.run(["embed", "--checkpoint", directory.path, "--out", one] + files)
        #expect(bad.status == 1)
        #expect(bad.error.contains("config.json"))
    }

    @Test("data stats: a manifest's counts as sorted JSON; a bad manifest exits with 1 and file:line")
    func dataStats() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gmptl-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try writeFloatWAV([Float](repeating: 0.1, count: 8_000), to: directory.appendingPathComponent("a.wav").path)
        let manifest = directory.appendingPathComponent("list.csv")
        try "path,emotion,gender,speaker,session\na.wav,sad,f,s1,1\nmissing.wav,happy,m,s2,2\n".write(to: manifest, atomically: true, encoding: .utf8)
        let stats = try Self.run(["data", "stats", manifest.path, "--json"])
        #expect(stats.status == 0, "\(stats.error)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(stats.output.utf8)) as? [String: Any])
        #expect(object["utterances"] as? Int == 1)
        #expect(object["seconds"] as? Double == 0.5)
        #expect(object["by_emotion"] as? [String: Int] == ["sad": 1])
        #expect(object["by_gender"] as? [String: Int] == ["female": 1])
        #expect(object["by_session"] as? [String: Int] == ["1": 1])
        let skipped = (object["skipped"] as? [[String: Any]])?.first
        #expect(skipped?["reason"] as? String == "no such audio file" && skipped?["unreadable"] as? Bool == true)
        let report = try Self.run(["data", "stats", manifest.path])
        #expect(report.status == 0 && report.output.contains("utterances  1"))

        try "path,emotion,gender,speaker\na.wav,sad,q,s1\n".write(to: manifest, atomically: true, encoding: .utf8)
        let bad = try Self.run(["data", "stats", manifest.path])
        #expect(bad.status == 1)
        #expect(bad.error.contains("\(manifest.path):2:1: error: gender 'q'"))
        let unknown = try Self.run(["data", "stats", directory.path])
        #expect(unknown.status == 1 && unknown.error.contains("--format"))
    }

    @Test("bench forward --profile prints the time per op kind and the slowest nodes, fused ones by their fused name")
    func benchProfile() throws {
        let tiny = ["--set", "features.channels=16", "--set", "encoder.hidden=32", "--set", "encoder.heads=2",
                    "--set", "encoder.intermediate=64", "--set", "encoder.layers=1", "--set", "encoder.pos_kernel=16",
                    "--set", "encoder.pos_groups=4"]
        let bench = try Self.run(["bench", "forward", "--seconds", "0.5", "--threads", "1", "--time", "0.01", "--profile"] + tiny)
        #expect(bench.status == 0, "\(bench.error)")
        #expect(bench.output.contains("op ") && bench.output.contains("calls"))
        let lines = bench.output.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("conv1d+group_norm+gelu ") }, "the fused op kind: \(bench.output)")
        // The second table: the 12 slowest nodes, each with its op kind (the fused layer 0 under its fused name).
        let header = try #require(lines.firstIndex { $0.hasPrefix("slowest nodes") }, "\(bench.output)")
        let rows = lines[(header + 2)...].prefix { !$0.isEmpty }
        #expect(rows.count == 12, "\(bench.output)")
        #expect(bench.output.contains("conv0+norm0+gelu"), "\(bench.output)")
    }

    @Test("corpus synth writes the demo corpus and prints a summary; a folder it cannot write exits with 1")
    func corpusSynth() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gmptl-synth-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("demo").path
        let written = try Self.run(["corpus", "synth", "--out", out, "--utterances-per-class", "1", "--seed", "5"])
        #expect(written.status == 0, "\(written.error)")
        // data stats reads it back, with the classes and label map of gmp_tl.yaml.
        let stats = try Self.run(["data", "stats", out, "--json", "--spec", "graphs/gmp_tl.yaml"])
        #expect(stats.status == 0, "\(stats.error)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(stats.output.utf8)) as? [String: Any])
        #expect(object["utterances"] as? Int == 4)
        #expect(object["by_emotion"] as? [String: Int] == ["neutral": 1, "happy": 1, "angry": 1, "sad": 1])
        #expect((object["by_session"] as? [String: Int])?.count == 2)  // four utterances dealt over the first speakers
        #expect((object["skipped"] as? [Any])?.count == 10)
        #expect(written.output.contains("not an emotion benchmark"))
        #expect(written.output.contains("  neutral  1\n") && written.output.contains("  sad      1\n"))
        #expect(written.output.contains("dropped  10  (5 fru, 3 xxx, 2 sur"))
        #expect(written.output.contains("speakers 10 (5 female, 5 male) in 5 sessions"))
        #expect(FileManager.default.fileExists(atPath: out + "/Session1/dialog/EmoEvaluation/Ses01F_impro01.txt"))

        // Under a file (not a folder): exit 1 with the path in the message; a folder of something else is refused.
        let blocked = try Self.run(["corpus", "synth", "--out", out + "/DEMO_CORPUS.txt/inside"])
        #expect(blocked.status == 1 && blocked.reason == .exit)
        #expect(blocked.error.contains("DEMO_CORPUS.txt/inside"), "\(blocked.error)")
        let occupied = try Self.run(["corpus", "synth", "--out", directory.path])
        #expect(occupied.status == 1)
        #expect(occupied.error.contains("holds no demo corpus"), "\(occupied.error)")
        let usage = try Self.run(["corpus", "synth", "--out", out, "--utterances-per-class", "0"])
        #expect(usage.status != 0 && usage.reason == .exit)
    }

    /// A minimal 32-bit float WAV writer (RIFF header + samples) for the tests.
    func writeFloatWAV(_ samples: [Float], to path: String) throws {
        var data = Data()
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
        let bytes = UInt32(samples.count * 4)
        data.append(contentsOf: Array("RIFF".utf8)); append(UInt32(36 + bytes)); data.append(contentsOf: Array("WAVE".utf8))
        data.append(contentsOf: Array("fmt ".utf8)); append(UInt32(16)); append(UInt16(3)); append(UInt16(1))
        append(UInt32(16_000)); append(UInt32(64_000)); append(UInt16(4)); append(UInt16(32))
        data.append(contentsOf: Array("data".utf8)); append(bytes)
        for sample in samples { append(sample.bitPattern) }
        try data.write(to: URL(fileURLWithPath: path))
    }
}

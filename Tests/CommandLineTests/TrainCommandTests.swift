import Audio
import Foundation
import Kernels
import ONNXExport
import Runtime
import Testing

/// `gmptl train` end to end on a small synthetic corpus: a run killed with SIGKILL mid-epoch and resumed ends with
/// the parameters of an uninterrupted run; bad requests are refused with clear messages.
@Suite("gmptl train", .serialized)
struct TrainCommandTests {
    /// A small model: the graphs/gmp_tl.yaml heads over a two-layer backbone of width 16.
    static let tiny = [
        "backbone.features.channels=8", "backbone.encoder.hidden=16", "backbone.encoder.heads=2",
        "backbone.encoder.intermediate=32", "backbone.encoder.layers=2", "backbone.encoder.pos_kernel=8",
        "backbone.encoder.pos_groups=2", "gmp_layers=[1, 2]", "lstm_hidden=8", "projection=8", "frame_head_hidden=8",
        "frozen=[]", "epochs=3", "batch=4", "lr_backbone=1e-3", "lr_heads=1e-3",
    ].flatMap { ["--set", $0] }

    static func temporaryFolder(_ name: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gmptl-\(name)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func corpus() throws -> String {
        let folder = try temporaryFolder("corpus")
        let synth = try CommandLineTests.run(["corpus", "synth", "--out", folder, "--utterances-per-class", "8"])
        #expect(synth.status == 0, "\(synth.error)")
        return folder
    }

    static func trainArguments(data: String, out: String) -> [String] {
        ["train", "graphs/gmp_tl.yaml", "--data", data, "--folds", "1", "--stages", "multitask", "--out", out,
         "--threads", "1", "--seed", "3", "--checkpoint-every", "1", "--quiet"] + tiny
    }

    /// The largest absolute difference between two sets of parameters (an issue recorded for a tensor missing or
    /// of another shape).
    static func largestDifference(_ expected: [String: HostTensor], _ got: [String: HostTensor]) -> Float {
        var worst: Float = 0
        for (name, tensor) in expected {
            guard let other = got[name], other.shape == tensor.shape else { Issue.record("'\(name)' differs in shape"); continue }
            for i in 0..<tensor.count { worst = max(worst, abs(tensor.floats[i] - other.floats[i])) }
        }
        return worst
    }

    /// Runs gmptl with `arguments` and SIGKILLs it once `progressFile` (a stage's checkpoint) is inside its second
    /// epoch; returns whether it was killed (false: it ended first).
    static func runKilled(_ arguments: [String], progressFile: String) throws -> Bool {
        guard let binary = CommandLineTests.binary else { Issue.record("gmptl is not built"); return false }
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = CommandLineTests.root
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var killedMidEpoch = false
        while process.isRunning {
            if let data = FileManager.default.contents(atPath: progressFile),
               let progress = try? JSONDecoder().decode(TrainingProgress.self, from: data), progress.epoch == 1, progress.batchInEpoch > 0 {
                kill(process.processIdentifier, SIGKILL)
                killedMidEpoch = true
                break
            }
            usleep(2_000)
        }
        process.waitUntilExit()
        return killedMidEpoch
    }

    @Test("the whole recipe killed inside stage 1 and resumed ends with the uninterrupted run's parameters")
    func killInsideStageOneAndResume() throws {
        let data = try Self.corpus()
        let straight = try Self.temporaryFolder("recipe-straight"), killed = try Self.temporaryFolder("recipe-killed")
        defer { for folder in [data, straight, killed] { try? FileManager.default.removeItem(atPath: folder) } }
        func arguments(_ out: String) -> [String] {
            ["train", "graphs/gmp_tl.yaml", "--data", data, "--folds", "1", "--out", out, "--threads", "1", "--seed", "3",
             "--checkpoint-every", "1", "--quiet"] + Self.tiny + ["--set", "epochs=2", "--set", "k=[2, 3]"]
        }
        let uninterrupted = try CommandLineTests.run(arguments(straight))
        #expect(uninterrupted.status == 0, "\(uninterrupted.error)")
        let killedMidEpoch = try Self.runKilled(arguments(killed), progressFile: killed + "/Session1/stage1/checkpoint/progress.json")
        #expect(killedMidEpoch, "the run ended before it could be killed inside stage 1")
        #expect(!FileManager.default.fileExists(atPath: killed + "/Session1/stage1/final.safetensors"))

        // Not quiet: its messages say where it picked up.
        let resumed = try CommandLineTests.run(arguments(killed).filter { $0 != "--quiet" } + ["--resume"])
        #expect(resumed.status == 0, "\(resumed.error)")
        #expect(resumed.error.contains("multitask: already finished"), "\(resumed.error)")
        #expect(resumed.error.contains("pseudo_labels: reusing the cached pseudo-labels"))
        #expect(resumed.error.contains("stage1: resumed from") && resumed.error.contains("at epoch 2"))
        #expect(resumed.output.replacingOccurrences(of: killed, with: "RUN") == uninterrupted.output.replacingOccurrences(of: straight, with: "RUN"))
        for stage in ["stage1", "stage2"] {
            let expected = try Safetensors.read(straight + "/Session1/\(stage)/final.safetensors")
            let got = try Safetensors.read(killed + "/Session1/\(stage)/final.safetensors")
            #expect(Set(got.keys) == Set(expected.keys), "\(stage)")
            let worst = Self.largestDifference(expected, got)
            #expect(worst <= 1e-6, "\(stage): largest difference \(worst)")
        }
    }

    @Test("a run killed with SIGKILL mid-epoch and resumed ends with the uninterrupted run's parameters")
    func killAndResume() throws {
        let data = try Self.corpus()
        let straight = try Self.temporaryFolder("straight"), killed = try Self.temporaryFolder("killed")
        defer { for folder in [data, straight, killed] { try? FileManager.default.removeItem(atPath: folder) } }

        let uninterrupted = try CommandLineTests.run(Self.trainArguments(data: data, out: straight))
        #expect(uninterrupted.status == 0, "\(uninterrupted.error)")
        #expect(uninterrupted.output.contains("test Session1: WAR"))
        // run.json records the machine: the CPU, the OpenBLAS core in use and why, the thread count.
        let runJSON = try #require(FileManager.default.contents(atPath: straight + "/run.json"))
        let machine = try #require((try JSONSerialization.jsonObject(with: runJSON) as? [String: Any])?["machine"] as? [String: Any])
        #expect(machine["openblas_core"] as? String == BLASCore.selection.core)
        #expect(machine["cpu"] as? String == CPUIdentity.current.description)
        #expect((machine["openblas_core_reason"] as? String)?.isEmpty == false)
        #expect(machine["threads"] as? Int == 1)

        // Start the same run and kill it once a checkpoint inside the second epoch exists.
        let killedMidEpoch = try Self.runKilled(Self.trainArguments(data: data, out: killed),
                                                progressFile: killed + "/Session1/multitask/checkpoint/progress.json")
        #expect(killedMidEpoch, "the run ended before it could be killed mid-epoch")
        #expect(!FileManager.default.fileExists(atPath: killed + "/Session1/multitask/final.safetensors"))

        // A copy whose loss log is damaged is refused, naming the file, and left as it was.
        let damaged = try Self.temporaryFolder("damaged")
        defer { try? FileManager.default.removeItem(atPath: damaged) }
        try FileManager.default.removeItem(atPath: damaged)
        try FileManager.default.copyItem(atPath: killed, toPath: damaged)
        let lossLog = damaged + "/Session1/multitask/checkpoint/losses.json"
        try Data("[{\"step\": 1, \"epo".utf8).write(to: URL(fileURLWithPath: lossLog))
        let refused = try CommandLineTests.run(Self.trainArguments(data: data, out: damaged) + ["--resume"])
        #expect(refused.status == 1)
        #expect(refused.error.contains("\(lossLog) is damaged (not the loss log gmptl train writes)"), "\(refused.error)")
        #expect(!FileManager.default.fileExists(atPath: damaged + "/Session1/multitask/final.safetensors"))
        try FileManager.default.removeItem(atPath: lossLog)
        let missingLog = try CommandLineTests.run(Self.trainArguments(data: data, out: damaged) + ["--resume"])
        #expect(missingLog.status == 1 && missingLog.error.contains("\(lossLog) is missing"), "\(missingLog.error)")

        let resumed = try CommandLineTests.run(Self.trainArguments(data: data, out: killed) + ["--resume"])
        #expect(resumed.status == 0, "\(resumed.error)")
        #expect(resumed.output.replacingOccurrences(of: killed, with: "RUN") == uninterrupted.output.replacingOccurrences(of: straight, with: "RUN"))

        let expected = try Safetensors.read(straight + "/Session1/multitask/final.safetensors")
        let got = try Safetensors.read(killed + "/Session1/multitask/final.safetensors")
        #expect(Set(got.keys) == Set(expected.keys))
        let worst = Self.largestDifference(expected, got)
        #expect(worst <= 1e-6, "largest difference \(worst)")

        // The trained run evaluates to the figures training printed, and predicts single files.
        let eval = try CommandLineTests.run(["eval", straight, "--threads", "1"])
        #expect(eval.status == 0, "\(eval.error)")
        let trainedWAR = uninterrupted.output.split(separator: "\n").first { $0.hasPrefix("test Session1: WAR") }?.split(separator: " ")[3]
        #expect(trainedWAR != nil && eval.output.contains("Session1 (stage multitask): WAR \(trainedWAR ?? "")"))
        let wave = try #require(FileManager.default.enumerator(atPath: data)?.compactMap { $0 as? String }.first { $0.hasSuffix(".wav") })
        let predict = try CommandLineTests.run(["predict", straight + "/Session1/multitask", data + "/" + wave])
        #expect(predict.status == 0, "\(predict.error)")
        #expect(predict.output.contains("neutral 0.") && predict.output.contains("gender "))
    }

    @Test("a second train on a run folder in use is refused naming the first; the first finishes untouched")
    func concurrentTrainsOnOneFolder() throws {
        guard let binary = CommandLineTests.binary else { Issue.record("gmptl is not built"); return }
        let data = try Self.corpus()
        let shared = try Self.temporaryFolder("shared"), alone = try Self.temporaryFolder("alone")
        defer { for folder in [data, shared, alone] { try? FileManager.default.removeItem(atPath: folder) } }

        let first = Process()
        first.executableURL = binary
        first.arguments = Self.trainArguments(data: data, out: shared)
        first.currentDirectoryURL = CommandLineTests.root
        let firstOutput = Pipe()
        first.standardOutput = firstOutput
        first.standardError = FileHandle.nullDevice
        try first.run()
        // Once the first holds its fold (it names itself in the lock file), start the others.
        let lockFile = shared + "/Session1/.gmptl-lock"
        while first.isRunning, (FileManager.default.contents(atPath: lockFile)?.count ?? 0) == 0 { usleep(2_000) }
        #expect(first.isRunning, "the first run ended before the second could start")

        // The same fold with another seed: refused, naming the process that holds it.
        let second = try CommandLineTests.run(Self.trainArguments(data: data, out: shared).map { $0 == "3" ? "4" : $0 })
        #expect(second.status == 1)
        #expect(second.error.contains("Session1: in use by another process: gmptl train (process \(first.processIdentifier)"), "\(second.error)")
        // Another fold with another seed: refused by run.json, the run's record of its options.
        var otherFold = Self.trainArguments(data: data, out: shared).map { $0 == "3" ? "4" : $0 }
        otherFold[otherFold.firstIndex(of: "--folds")! + 1] = "2"
        let third = try CommandLineTests.run(otherFold)
        #expect(third.status == 1)
        #expect(third.error.contains("run.json was made with another spec, --set options, corpus or seed"), "\(third.error)")
        #expect(!FileManager.default.fileExists(atPath: shared + "/Session2/multitask"))
        // Merging reports while a fold trains is refused too.
        let report = try CommandLineTests.run(["report", shared])
        #expect(report.status == 1 && report.error.contains("in use by another process"), "\(report.error)")

        let output = String(decoding: firstOutput.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        first.waitUntilExit()
        #expect(first.terminationStatus == 0)
        // Untouched: the same figures, and the parameters of the same run on its own (within 1e-6, as a resumed run).
        let reference = try CommandLineTests.run(Self.trainArguments(data: data, out: alone))
        #expect(reference.status == 0, "\(reference.error)")
        #expect(output.replacingOccurrences(of: shared, with: "RUN") == reference.output.replacingOccurrences(of: alone, with: "RUN"))
        let expected = try Safetensors.read(alone + "/Session1/multitask/final.safetensors")
        let got = try Safetensors.read(shared + "/Session1/multitask/final.safetensors")
        #expect(Set(got.keys) == Set(expected.keys))
        let worst = Self.largestDifference(expected, got)
        #expect(worst <= 1e-6, "largest difference \(worst)")
    }

    @Test("the whole recipe runs (multitask, k-means, stage 1, stage 2); gmptl label reuses its cached labels")
    func wholeRecipeAndLabelCache() throws {
        let data = try Self.corpus()
        let out = try Self.temporaryFolder("recipe")
        defer { for folder in [data, out] { try? FileManager.default.removeItem(atPath: folder) } }
        let recipe = Self.tiny + ["--set", "epochs=1", "--set", "k=[2, 3, 4]"]
        let train = try CommandLineTests.run(["train", "graphs/gmp_tl.yaml", "--data", data, "--folds", "1", "--out", out,
                                              "--threads", "1", "--quiet"] + recipe)
        #expect(train.status == 0, "\(train.error)")
        for stage in ["multitask", "stage1", "stage2"] {
            #expect(train.output.contains("Session1 \(stage):"), "a line for \(stage)")
            #expect(FileManager.default.fileExists(atPath: out + "/Session1/\(stage)/final.safetensors"))
        }
        #expect(train.output.contains("(emotion_cosine)") && train.output.contains("test Session1: WAR"))
        let cache = out + "/Session1/pseudo_labels/labels.safetensors"
        let labels = try Safetensors.read(cache)
        #expect(labels["centroids/pseudo_labels.hidden.1.k3"]?.shape == [3, 16])
        #expect(labels.keys.filter { $0.hasPrefix("labels/") }.count == 6)
        // The centroids are state of stage 1: in its checkpoint and in the parameters it hands on.
        let fitted = try #require(labels["centroids/pseudo_labels.hidden.1.k3"])
        for file in [out + "/Session1/stage1/checkpoint/parameters.safetensors", out + "/Session1/stage1/final.safetensors"] {
            let saved = try Safetensors.read(file)["pseudo_labels.hidden.1.k3.centroids"]
            #expect(saved?.shape == [3, 16] && saved?.floatArray == fitted.floatArray, "\(file)")
        }

        let label = try CommandLineTests.run(["label", "graphs/gmp_tl.yaml", "--data", data, "--folds", "1", "--out", out, "--threads", "1"] + recipe)
        #expect(label.status == 0, "\(label.error)")
        #expect(label.error.contains("pseudo_labels: reusing the cached pseudo-labels in \(cache)"))
        #expect(label.output.contains("Session1 pseudo_labels: "))
    }

    @Test("the whole recipe with and without optimisation (simplified plans in the arena, or the pool): the same losses step by step and the same parameters")
    func optimizedAgainstUnoptimized() throws {
        let data = try Self.corpus()
        let optimized = try Self.temporaryFolder("optimized"), unoptimized = try Self.temporaryFolder("unoptimized")
        defer { for folder in [data, optimized, unoptimized] { try? FileManager.default.removeItem(atPath: folder) } }
        // Dropout 0 in the backbone, so that simplification has p = 0 dropouts to bypass; 3 epochs of 6 steps a stage.
        let recipe = Self.tiny + ["--set", "k=[2, 3]", "--set", "backbone.dropout=0"]
        func train(_ out: String, _ extra: [String]) throws -> CommandLineTests.Run {
            try CommandLineTests.run(["train", "graphs/gmp_tl.yaml", "--data", data, "--folds", "1", "--out", out, "--threads", "1",
                                      "--seed", "5", "--quiet"] + recipe + extra)
        }
        let a = try train(optimized, []), b = try train(unoptimized, ["--no-optimize"])
        #expect(a.status == 0 && b.status == 0, "\(a.error)\(b.error)")
        func losses(_ out: String) throws -> [(key: String, value: Double)] {
            let text = try String(contentsOfFile: out + "/Session1/report/losses.csv", encoding: .utf8)
            return text.split(separator: "\n").dropFirst().compactMap { line in
                let fields = line.split(separator: ",")
                guard fields.count >= 5, let value = Double(fields[4]) else { return nil }
                return (fields[0...3].joined(separator: ","), value)
            }
        }
        let lossesA = try losses(optimized), lossesB = try losses(unoptimized)
        #expect(lossesA.count == lossesB.count && lossesA.count >= 3 * 20, "\(lossesA.count) loss records")
        #expect(Set(lossesA.map { $0.key.split(separator: ",")[2] }) == ["multitask", "stage1", "stage2"])
        for (x, y) in zip(lossesA, lossesB) {
            #expect(x.key == y.key && abs(x.value - y.value) <= 1e-4 * max(1, abs(y.value)), "\(x.key): \(x.value) against \(y.value)")
        }
        for stage in ["multitask", "stage1", "stage2"] {
            let p = try Safetensors.read(optimized + "/Session1/\(stage)/final.safetensors")
            let q = try Safetensors.read(unoptimized + "/Session1/\(stage)/final.safetensors")
            #expect(Set(p.keys) == Set(q.keys))
            var worst: Float = 0
            for (name, tensor) in p {
                guard let other = q[name], other.count == tensor.count else { continue }
                for i in 0..<tensor.count { worst = max(worst, abs(tensor.floats[i] - other.floats[i])) }
            }
            #expect(worst <= 1e-4, "\(stage): largest difference \(worst)")
        }
        #expect(a.output.replacingOccurrences(of: optimized, with: "RUN") == b.output.replacingOccurrences(of: unoptimized, with: "RUN"))
    }

    @Test("compile --stage shows the training graph: losses, gradients, and no backward node for the frozen CNN; dot styles backward nodes")
    func trainingGraph() throws {
        let ir = try CommandLineTests.run(["compile", "graphs/gmp_tl.yaml", "--stage", "multitask", "--emit", "ir",
                                           "--set", "backbone.encoder.layers=2", "--set", "gmp_layers=[1, 2]"])
        #expect(ir.status == 0, "\(ir.error)")
        #expect(ir.output.contains("cross_entropy_grad(") && ir.output.contains("lstm_grad(") && ir.output.contains("attention_grad("))
        #expect(ir.output.contains("grad.encoder.layers.1.attention.q_proj.weight"))
        #expect(!ir.output.contains("conv1d_grad(") || ir.output.contains("grad.encoder.pos_conv_embed"), "only the positional conv")
        #expect(!ir.output.contains("grad.feature_extractor."), "the CNN is frozen")
        let unfrozen = try CommandLineTests.run(["compile", "graphs/gmp_tl.yaml", "--stage", "multitask", "--emit", "ir",
                                                 "--set", "backbone.encoder.layers=2", "--set", "gmp_layers=[1, 2]", "--set", "frozen=[]"])
        #expect(unfrozen.output.contains("grad.feature_extractor.conv_layers.0.conv.weight"))

        let dot = try CommandLineTests.run(["dot", "graphs/gmp_tl.yaml", "--stage", "multitask", "--collapse", "layers",
                                            "--set", "backbone.encoder.layers=2", "--set", "gmp_layers=[1, 2]"])
        #expect(dot.status == 0)
        #expect(dot.output.contains("#ffe4e6") && dot.output.contains("backward\\n(gradients)"))
    }

    /// A folder that can be made read-only for this process: a tmpfs remounted read-only where mounting is allowed
    /// (root with CAP_SYS_ADMIN, as in CI's container), else a folder without write permission (not root).
    struct ReadOnlyFolder {
        let path: String
        let mounted: Bool

        init?() throws {
            path = try TrainCommandTests.temporaryFolder("read-only")
            mounted = Self.shell("mount -t tmpfs -o size=64m tmpfs '\(path)'")
            guard mounted || getuid() != 0 else {
                try? FileManager.default.removeItem(atPath: path)
                return nil
            }
        }

        func makeReadOnly() {
            if mounted {
                #expect(Self.shell("mount -o remount,ro '\(path)'"))
            } else {
                #expect(chmod(path, 0o555) == 0)
            }
        }

        func remove() {
            if mounted { _ = Self.shell("umount '\(path)'") } else { chmod(path, 0o755) }
            try? FileManager.default.removeItem(atPath: path)
        }

        static func shell(_ command: String) -> Bool {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", command + " 2>/dev/null"]
            guard (try? process.run()) != nil else { return false }
            process.waitUntilExit()
            return process.terminationStatus == 0
        }
    }

    @Test("a run folder on a read-only volume: eval reads it; train, resume and report are refused naming the folder and the reason")
    func readOnlyRunFolder() throws {
        guard let volume = try ReadOnlyFolder() else {
            // Root without the right to mount: no folder is read-only to this process. Said, not hidden.
            print("readOnlyRunFolder: not run (root without CAP_SYS_ADMIN cannot make a read-only folder)")
            return
        }
        defer { volume.remove() }
        let data = try Self.corpus()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let run = volume.path + "/run"
        let arguments = Self.trainArguments(data: data, out: run) + ["--set", "epochs=1"]
        let trained = try CommandLineTests.run(arguments)
        #expect(trained.status == 0, "\(trained.error)")
        volume.makeReadOnly()
        let reason = volume.mounted ? "read-only file system" : "permission denied"

        let eval = try CommandLineTests.run(["eval", run, "--threads", "1"])
        #expect(eval.status == 0, "\(eval.error)")
        #expect(eval.output.contains("Session1 (stage multitask): WAR"))
        let resumed = try CommandLineTests.run(arguments + ["--resume"])
        #expect(resumed.status == 1)
        #expect(resumed.error.contains("error: \(run)/Session1: cannot write in the folder (\(reason))"), "\(resumed.error)")
        let other = try CommandLineTests.run(Self.trainArguments(data: data, out: volume.path + "/other"))
        #expect(other.status == 1)
        #expect(other.error.contains("error: \(volume.path)/other: cannot create the folder (\(reason))"), "\(other.error)")
        let report = try CommandLineTests.run(["report", run])
        #expect(report.status == 1)
        #expect(report.error.contains("\(run): cannot write in the folder (\(reason))") && !report.error.contains("hint"), "\(report.error)")
        for run in [eval, resumed, other, report] { #expect(!run.error.contains("NSCocoaErrorDomain") && !run.error.contains("Error Domain")) }
    }

    /// What an .onnx file holds, read back with the protobuf reader: graph inputs and outputs, operator types,
    /// metadata.
    struct ONNXFile {
        var inputs: [String], outputs: [String], operators: Set<String>, metadata: [String: String]

        init(_ bytes: [UInt8]) throws {
            let model = try ProtobufFields(bytes)
            let graph = try #require(try model.messages(7).first)
            inputs = try graph.messages(11).flatMap { $0.strings(1) }
            outputs = try graph.messages(12).flatMap { $0.strings(1) }
            operators = Set(try graph.messages(1).flatMap { $0.strings(4) })
            var metadata = [String: String]()
            for entry in try model.messages(14) { metadata[entry.strings(1).first ?? ""] = entry.strings(2).first }
            self.metadata = metadata
        }
    }

    /// A 16-bit mono WAV of `seconds` at `rate` Hz, silent but for `bursts` (start seconds, samples at `rate`),
    /// written in pieces (a recording of hours never held in memory).
    static func writeLongWAV(_ path: String, seconds: Int, rate: Int, bursts: [(Double, [Float])]) throws {
        let frames = seconds * rate
        var header = Data("RIFF".utf8)
        func append(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { header.append(contentsOf: $0) } }
        func append(_ value: UInt16) { withUnsafeBytes(of: value.littleEndian) { header.append(contentsOf: $0) } }
        append(UInt32(36 + frames * 2))
        header.append(Data("WAVEfmt ".utf8))
        append(UInt32(16)); append(UInt16(1)); append(UInt16(1)); append(UInt32(rate)); append(UInt32(rate * 2)); append(UInt16(2)); append(UInt16(16))
        header.append(Data("data".utf8))
        append(UInt32(frames * 2))
        FileManager.default.createFile(atPath: path, contents: header)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        let piece = rate * 60
        for start in stride(from: 0, to: frames, by: piece) {
            var samples = [Int16](repeating: 0, count: min(piece, frames - start))
            for (at, burst) in bursts {
                let first = Int(at * Double(rate))
                for (i, value) in burst.enumerated() where first + i >= start && first + i < start + samples.count {
                    samples[first + i - start] = Int16(max(-32_767, min(32_767, value * 32_767)))
                }
            }
            try handle.write(contentsOf: samples.withUnsafeBytes { Data($0) })
        }
    }

    /// Peak resident memory of a gmptl run, from its /proc status polled until it ends (the high-water mark read last).
    static func runMeasuringPeak(_ arguments: [String]) throws -> (run: CommandLineTests.Run, peakKiB: Int) {
        let binary = try #require(CommandLineTests.binary)
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = CommandLineTests.root
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        var peak = 0
        final class Collected: @unchecked Sendable { var output = Data(), error = Data() }
        let collected = Collected(), reading = DispatchGroup()
        DispatchQueue.global().async(group: reading) { collected.output = output.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: reading) { collected.error = errors.fileHandleForReading.readDataToEndOfFile() }
        while process.isRunning {
            if let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
               let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
               let kib = Int(line.split(separator: " ").dropFirst().first ?? "") {
                peak = max(peak, kib)
            }
            usleep(5_000)
        }
        process.waitUntilExit()
        reading.wait()
        return (CommandLineTests.Run(status: process.terminationStatus, reason: process.terminationReason,
                                     output: String(decoding: collected.output, as: UTF8.self),
                                     error: String(decoding: collected.error, as: UTF8.self)), peak)
    }

    @Test("predict on long recordings: --segment windows and --vad speech with their times, JSON Lines and CSV; 2 hours in bounded memory")
    func predictLongRecordings() throws {
        let data = try Self.corpus()
        let out = try Self.temporaryFolder("predict-long")
        defer { for folder in [data, out] { try? FileManager.default.removeItem(atPath: folder) } }
        let trained = try CommandLineTests.run(Self.trainArguments(data: data, out: out) + ["--set", "epochs=1"])
        #expect(trained.status == 0, "\(trained.error)")
        let wavs = try #require(FileManager.default.enumerator(atPath: data)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".wav") }.sorted())
        let speech = try wavs.prefix(2).map { try AudioFile.read(data + "/" + $0, resampledTo: 16_000).mono }
        // 2 s of silence, speech, 3 s of silence, speech, 1 s of silence.
        let silence = { (seconds: Double) in [Float](repeating: 0, count: Int(seconds * 16_000)) }
        let recording = silence(2) + speech[0] + silence(3) + speech[1] + silence(1)
        let path = out + "/long.wav"
        try AudioFile.writeWAV(recording, sampleRate: 16_000, to: path)
        let duration = Double(recording.count) / 16_000
        let spans = [(2.0, 2 + Double(speech[0].count) / 16_000),
                     (5 + Double(speech[0].count) / 16_000, 5 + Double(speech[0].count + speech[1].count) / 16_000)]

        let vad = try CommandLineTests.run(["predict", out, path, "--vad", "--json"])
        #expect(vad.status == 0, "\(vad.error)")
        let rows = try vad.output.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(rows.count == 2, "\(vad.output)")
        for (row, span) in zip(rows, spans) {
            let (start, end) = (row["start"] as? Double ?? -1, row["end"] as? Double ?? -1)
            // Within the padding (0.1 s) and the synthetic speech's quiet onsets and ends.
            #expect(abs(start - span.0) < 0.3 && abs(end - span.1) < 0.3, "\(start)-\(end) against \(span)")
            #expect((row["probabilities"] as? [String: Double])?.count == 4 && row["gender"] is String)
        }
        #expect(vad.error.contains("2 stretches of speech"))

        let windows = try CommandLineTests.run(["predict", out, path, "--segment", "2", "--hop", "1.5", "--csv"])
        #expect(windows.status == 0, "\(windows.error)")
        let lines = windows.output.split(separator: "\n")
        #expect(lines.first == "file,start,end,emotion,p_neutral,p_happy,p_angry,p_sad,gender")
        // Windows start every 1.5 s until one reaches the end.
        #expect(lines.count - 1 == Int(((duration - 2) / 1.5).rounded(.up)) + 1, "\(duration) s: \(lines.count - 1) windows")
        #expect(lines[1].hasPrefix("\(path),0.000,2.000,") && lines[2].hasPrefix("\(path),1.500,3.500,"))

        // Exported to ONNX: the model's outputs, probabilities as predict reports them, the classes in the metadata.
        // (ONNX Runtime's numbers against predict: scripts/check_onnx_export.py, by hand.)
        let onnx = out + "/model.onnx"
        let export = try CommandLineTests.run(["export", out, "--onnx", onnx, "--hidden", "hidden.1"])
        #expect(export.status == 0, "\(export.error)")
        let bytes = try #require(FileManager.default.contents(atPath: onnx))
        let exported = try ONNXFile(Array(bytes))
        #expect(exported.outputs == ["emotion_logits", "gender_logits", "hidden.1", "emotion_probabilities", "gender_probabilities"])
        #expect(exported.inputs == ["wave", "lengths"])
        #expect(exported.metadata["classes"] == "[\"neutral\", \"happy\", \"angry\", \"sad\"]" && exported.metadata["stage"] == "multitask")
        #expect(exported.operators.isSuperset(of: ["Conv", "LSTM", "Softmax", "LayerNormalization", "MatMul"]))

        // Predicted whole, a recording past a minute is refused with what to do.
        let hour = out + "/hour.wav"
        try Self.writeLongWAV(hour, seconds: 7_200, rate: 8_000, bursts: [(600, speech[0].enumerated().compactMap { $0.offset % 2 == 0 ? $0.element : nil })])
        let whole = try CommandLineTests.run(["predict", out, hour])
        #expect(whole.status == 1 && whole.error.contains("is 7200.0 s long") && whole.error.contains("--segment 10, or --vad"), "\(whole.error)")
        // Two hours at 8 kHz, speech at 10 minutes: found, in bounded memory.
        let (long, peak) = try Self.runMeasuringPeak(["predict", out, hour, "--vad", "--csv", "--threads", "1"])
        #expect(long.status == 0, "\(long.error)")
        #expect(long.output.split(separator: "\n").count == 2, "\(long.output)")
        #expect(long.output.contains(",600.") || long.output.contains(",599.9"), "\(long.output)")
        #expect(peak > 0 && peak < 500 * 1_024, "peak resident memory \(peak / 1_024) MiB")
    }

    @Test("a k-means stage before its model, an unknown stage or fold, and a missing corpus are refused with what to do")
    func refusals() throws {
        let data = try Self.corpus()
        let out = try Self.temporaryFolder("refusals")
        defer { for folder in [data, out] { try? FileManager.default.removeItem(atPath: folder) } }
        let base = ["train", "graphs/gmp_tl.yaml", "--data", data, "--out", out, "--quiet"] + Self.tiny

        let kmeans = try CommandLineTests.run(base + ["--stages", "pseudo_labels", "--folds", "1"])
        #expect(kmeans.status == 1)
        #expect(kmeans.error.contains("gmp_tl.yaml:"), "the stage's location")
        #expect(kmeans.error.contains("stage 'pseudo_labels' taps the model of stage 'multitask', which has not run for fold Session1"))

        let unknown = try CommandLineTests.run(base + ["--stages", "multitsk"])
        #expect(unknown.status == 1)
        #expect(unknown.error.contains("no stage 'multitsk'") && unknown.error.contains("did you mean 'multitask'?"))

        let fold = try CommandLineTests.run(base + ["--folds", "7"])
        #expect(fold.status == 1)
        #expect(fold.error.contains("no fold '7': the folds are 1...5"))

        // The training log lists what the corpus reader left out; files it cannot read by path and reason. A FIFO is
        // never opened (it would block the reader).
        let wavs = try #require(FileManager.default.enumerator(atPath: data)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".wav") }.sorted())
        let (broken, pipe) = (data + "/" + wavs[0], data + "/" + wavs[1])
        try FileManager.default.removeItem(atPath: broken)
        try FileManager.default.createSymbolicLink(atPath: broken, withDestinationPath: data + "/gone.wav")
        try FileManager.default.removeItem(atPath: pipe)
        #expect(mkfifo(pipe, 0o644) == 0)
        let logged = try CommandLineTests.run(base.filter { $0 != "--quiet" } + ["--folds", "7"])
        #expect(logged.status == 1)
        // 42 recordings: 10 with labels outside the classes (the demo corpus's), 2 made unreadable.
        #expect(logged.error.contains("corpus IEMOCAP: \(wavs.count - 12) utterances, 12 left out"), "\(logged.error)")
        #expect(logged.error.contains("  left out because they cannot be read:"))
        #expect(logged.error.contains("    \(broken): a symbolic link to a file that does not exist"))
        #expect(logged.error.contains("    \(pipe): a FIFO (named pipe), not a regular file"))

        let missing = try CommandLineTests.run(["train", "graphs/gmp_tl.yaml", "--data", out + "/nothing", "--out", out, "--quiet"])
        #expect(missing.status == 1)
        #expect(missing.error.contains("nothing: error: no such file or folder") || missing.error.contains("no such file or folder"))
    }
}

import Foundation
import Runtime
import Testing

/// `mpirun -np 2 gmptl train`: the same losses, pseudo-labels and parameters as one process; a killed rank ends the
/// job naming itself, and the run resumes (with another process count) to the uninterrupted run's parameters.
@Suite("gmptl train under mpirun", .serialized)
struct DataParallelTests {
    /// Runs gmptl under `mpirun -np processes` on this machine (as root too, oversubscribed, unbound).
    static func mpirun(_ processes: Int, _ arguments: [String]) throws -> CommandLineTests.Run {
        let binary = try #require(CommandLineTests.binary)
        return try CommandLineTests.run(["--oversubscribe", "--bind-to", "none", "-np", String(processes), binary.path] + arguments,
                                        executable: try #require(mpirunPath), environment: environment)
    }

    static var mpirunPath: URL? {
        ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].map(URL.init(fileURLWithPath:))
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    static var environment: [String: String] {
        ProcessInfo.processInfo.environment.merging(["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
                                                     "OMPI_MCA_btl_vader_single_copy_mechanism": "none"]) { $1 }
    }

    /// How far two parameter sets are apart relative to their size: ||a - b|| / ||a|| over all tensors. (Per tensor
    /// the attention's key biases stray further: their exact gradient is zero, softmax being blind to a constant
    /// added to every logit of a query, so Adam turns rounding noise into steps of the learning rate's size, in one
    /// process as in several. docs/scaling.md shows it.)
    static func relativeDifference(_ expected: [String: HostTensor], _ got: [String: HostTensor]) -> Double {
        var difference = 0.0, size = 0.0
        for (name, tensor) in expected {
            guard let other = got[name], other.shape == tensor.shape else { Issue.record("'\(name)' differs in shape"); continue }
            for i in 0..<tensor.count {
                let a = Double(tensor.floats[i]), b = Double(other.floats[i])
                difference += (a - b) * (a - b)
                size += a * a
            }
        }
        return (difference / max(size, 1e-30)).squareRoot()
    }

    /// Each loss record's value, in order.
    static func losses(_ folder: String) throws -> [(name: String, value: Double)] {
        let data = try #require(FileManager.default.contents(atPath: folder + "/checkpoint/losses.json"))
        let records = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        return records.map { ("\($0["stage"] ?? "") \($0["step"] ?? "") \($0["name"] ?? "")", $0["value"] as? Double ?? .nan) }
    }

    @Test("the whole recipe with 2 processes: the losses, pseudo-labels and parameters of 1 process (within 1e-5 relative)")
    func twoProcessesAsOne() throws {
        guard Self.mpirunPath != nil else { Issue.record("mpirun is not installed (make test installs openmpi-bin)"); return }
        let data = try TrainCommandTests.corpus()
        let one = try TrainCommandTests.temporaryFolder("dp-one"), two = try TrainCommandTests.temporaryFolder("dp-two")
        defer { for folder in [data, one, two] { try? FileManager.default.removeItem(atPath: folder) } }
        // 4 epochs of 6 steps a stage (batch 4), dropout and time masks on (a mask probability the tiny model's
        // frames reach), k-means at K = 2 and 3.
        func arguments(_ out: String) -> [String] {
            ["train", "graphs/gmp_tl.yaml", "--data", data, "--folds", "1", "--out", out, "--threads", "1", "--seed", "3", "--quiet"]
                + TrainCommandTests.tiny + ["--set", "epochs=4", "--set", "k=[2, 3]", "--set", "backbone.mask_time_prob=0.3"]
        }
        let single = try CommandLineTests.run(arguments(one))
        #expect(single.status == 0, "\(single.error)")
        let parallel = try Self.mpirun(2, arguments(two))
        #expect(parallel.status == 0, "\(parallel.error)")
        #expect(parallel.output.replacingOccurrences(of: two, with: "RUN") == single.output.replacingOccurrences(of: one, with: "RUN"),
                "rank 0 alone prints, the same figures")
        for stage in ["multitask", "stage1", "stage2"] {
            let expected = try Self.losses(one + "/Session1/" + stage), got = try Self.losses(two + "/Session1/" + stage)
            #expect(expected.count >= 20 * 2 && expected.map(\.name) == got.map(\.name), "\(stage): \(expected.count) records")
            let worst = zip(expected, got).map { abs($0.value - $1.value) / max(abs($0.value), 1e-9) }.max() ?? .infinity
            #expect(worst <= 1e-5, "\(stage): losses differ by \(worst) relative")
            let parameters = Self.relativeDifference(try Safetensors.read(one + "/Session1/\(stage)/final.safetensors"),
                                                            try Safetensors.read(two + "/Session1/\(stage)/final.safetensors"))
            #expect(parameters <= 1e-5, "\(stage): parameters differ by \(parameters) relative")
        }
        let labels = try Safetensors.read(one + "/Session1/pseudo_labels/labels.safetensors")
        let parallelLabels = try Safetensors.read(two + "/Session1/pseudo_labels/labels.safetensors")
        #expect(Set(labels.keys) == Set(parallelLabels.keys))
        for (name, tensor) in labels where name.hasPrefix("labels/") {
            #expect(parallelLabels[name]?.int32Array == tensor.int32Array, "\(name)")
        }
        // Rank 0 alone wrote: one lock file, no stray partial files.
        let written = try FileManager.default.subpathsOfDirectory(atPath: two)
        #expect(!written.contains { $0.contains(".partial") || $0.contains(".tmp-") }, "\(written)")
    }

    @Test("a recording that cannot be read ends the whole job at once, naming the rank and the file")
    func unreadableRecording() throws {
        guard Self.mpirunPath != nil else { Issue.record("mpirun is not installed (make test installs openmpi-bin)"); return }
        let data = try TrainCommandTests.corpus()
        let out = try TrainCommandTests.temporaryFolder("dp-bad")
        defer { for folder in [data, out] { try? FileManager.default.removeItem(atPath: folder) } }
        let wavs = try #require(FileManager.default.enumerator(atPath: data)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".wav") }.sorted())
        // A file of the training split (Session2 on, fold 1 tests Session1) that is not audio.
        let broken = data + "/" + (try #require(wavs.first { $0.hasPrefix("Session2/") && $0.contains("_F000") }))
        try Data("not audio".utf8).write(to: URL(fileURLWithPath: broken))
        let clock = ContinuousClock()
        let start = clock.now
        let run = try Self.mpirun(2, TrainCommandTests.trainArguments(data: data, out: out))
        #expect(clock.now - start < .seconds(60))
        #expect(run.status != 0)
        #expect(run.error.contains(#/rank [01] of 2: error: /#), "\(run.error)")
        #expect(run.error.contains("\(broken): cannot read as audio"), "\(run.error)")
        #expect(!FileManager.default.fileExists(atPath: out + "/Session1/multitask/final.safetensors"))
    }

    @Test("processes that do not see rank 0's run folder (another --out, as on an unshared disk) are refused, named")
    func unsharedRunFolder() throws {
        guard let mpirun = Self.mpirunPath, let binary = CommandLineTests.binary else { Issue.record("mpirun or gmptl missing"); return }
        let data = try TrainCommandTests.corpus()
        let first = try TrainCommandTests.temporaryFolder("dp-a"), second = try TrainCommandTests.temporaryFolder("dp-b")
        defer { for folder in [data, first, second] { try? FileManager.default.removeItem(atPath: folder) } }
        // One job of two programs (mpirun's MPMD form), each with its own --out.
        let run = try CommandLineTests.run(
            ["--oversubscribe", "--bind-to", "none", "-np", "1", binary.path] + TrainCommandTests.trainArguments(data: data, out: first)
                + [":", "-np", "1", binary.path] + TrainCommandTests.trainArguments(data: data, out: second),
            executable: mpirun, environment: Self.environment)
        #expect(run.status != 0)
        #expect(run.error.contains("rank 1 of 2 cannot read \(second)/.gmptl-job, which rank 0 wrote")
                    || run.error.contains("rank 1 of 2 cannot read \(first)/.gmptl-job, which rank 0 wrote"), "\(run.error)")
        #expect(run.error.contains("--out must be a folder on a file system every process reads"))
        #expect(!FileManager.default.fileExists(atPath: first + "/Session1/multitask/checkpoint"))
    }

    @Test("a rank killed with SIGKILL ends the job within 30 s naming it; --resume with 1 process ends with the uninterrupted parameters")
    func killedRank() throws {
        guard let mpirun = Self.mpirunPath, let binary = CommandLineTests.binary else { Issue.record("mpirun or gmptl missing"); return }
        let data = try TrainCommandTests.corpus()
        let straight = try TrainCommandTests.temporaryFolder("dp-straight"), killed = try TrainCommandTests.temporaryFolder("dp-killed")
        defer { for folder in [data, straight, killed] { try? FileManager.default.removeItem(atPath: folder) } }
        let uninterrupted = try CommandLineTests.run(TrainCommandTests.trainArguments(data: data, out: straight))
        #expect(uninterrupted.status == 0, "\(uninterrupted.error)")

        let process = Process()
        process.executableURL = mpirun
        process.arguments = ["--oversubscribe", "--bind-to", "none", "-np", "2", binary.path]
            + TrainCommandTests.trainArguments(data: data, out: killed)
        process.currentDirectoryURL = CommandLineTests.root
        process.environment = Self.environment
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        // Once rank 0 has checkpointed inside the second epoch, SIGKILL the other rank.
        let progressFile = killed + "/Session1/multitask/checkpoint/progress.json"
        var victim: Int32?
        while process.isRunning, victim == nil {
            if let data = FileManager.default.contents(atPath: progressFile),
               let progress = try? JSONDecoder().decode(TrainingProgress.self, from: data), progress.epoch == 1, progress.batchInEpoch > 0 {
                let children = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/task/\(process.processIdentifier)/children",
                                            encoding: .utf8)) ?? ""
                // The process of rank 1 (mpirun's children carry their rank in OMPI_COMM_WORLD_RANK).
                victim = children.split(separator: " ").compactMap { Int32($0) }.first { pid in
                    let environment = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ"))) ?? Data()
                    return environment.split(separator: 0).contains { Array($0) == Array("OMPI_COMM_WORLD_RANK=1".utf8) }
                }
            }
            if victim == nil { usleep(2_000) }
        }
        let victimPID = try #require(victim, "the job ended before a rank could be killed")
        let killedAt = ContinuousClock.now
        kill(victimPID, SIGKILL)
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let elapsed = ContinuousClock.now - killedAt
        #expect(elapsed < .seconds(30), "the job took \(elapsed) to end")
        #expect(process.terminationStatus != 0)
        #expect(message.contains("rank 1") && message.contains("signal 9"), "\(message)")
        #expect(!FileManager.default.fileExists(atPath: killed + "/Session1/multitask/final.safetensors"))

        // Resumed by 1 process, and (a copy) by 2 again.
        let again = try TrainCommandTests.temporaryFolder("dp-again")
        defer { try? FileManager.default.removeItem(atPath: again) }
        try FileManager.default.removeItem(atPath: again)
        try FileManager.default.copyItem(atPath: killed, toPath: again)
        let resumed = try CommandLineTests.run(TrainCommandTests.trainArguments(data: data, out: killed) + ["--resume"])
        #expect(resumed.status == 0, "\(resumed.error)")
        let resumedByTwo = try Self.mpirun(2, TrainCommandTests.trainArguments(data: data, out: again) + ["--resume"])
        #expect(resumedByTwo.status == 0, "\(resumedByTwo.error)")
        let expected = try Safetensors.read(straight + "/Session1/multitask/final.safetensors")
        for folder in [killed, again] {
            let worst = Self.relativeDifference(expected, try Safetensors.read(folder + "/Session1/multitask/final.safetensors"))
            #expect(worst <= 1e-5, "\(folder == killed ? "1" : "2") processes: relative difference \(worst)")
        }
    }
}

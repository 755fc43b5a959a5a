import Foundation
import Runtime
import Testing

@Suite("Training checkpoints")
struct TrainingCheckpointTests {
    static func folder() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gmptl-checkpoint-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.path
    }

    @Test("a checkpoint written and read back continues training bit-identically")
    func roundTrip() throws {
        let folder = try Self.folder()
        var parameters = ["w": HostTensor(floats: [0.5, -1, 2], shape: [3]), "b": HostTensor(floats: [0.1], shape: [1])]
        let gradients = ["w": HostTensor(floats: [0.1, 0.2, -0.3], shape: [3]), "b": HostTensor(floats: [1], shape: [1])]
        let optimizer = Optimizer(.adamW, weightDecay: 0.01)
        try optimizer.step(parameters: parameters, gradients: gradients, learningRate: 1e-2)
        let progress = TrainingProgress(stage: "multitask", seed: 7, step: 1, epoch: 0, batchInEpoch: 1, bestValidationUAR: 0.5, bestEpoch: 0)
        let path = folder + "/run/checkpoint"
        try FileManager.default.createDirectory(atPath: folder + "/run", withIntermediateDirectories: true)
        try TrainingCheckpoint.write(to: path, parameters: parameters, optimizer: optimizer, progress: progress)

        // Uninterrupted: one more step.
        try optimizer.step(parameters: parameters, gradients: gradients, learningRate: 1e-2)
        let expected = parameters.mapValues(\.floatArray)

        // Resumed: read the checkpoint into a fresh optimizer and take the same step.
        let resumedOptimizer = Optimizer(.adamW, weightDecay: 0.01)
        let (read, readProgress) = try TrainingCheckpoint.read(from: path, into: resumedOptimizer)
        #expect(readProgress == progress)
        parameters = read
        try resumedOptimizer.step(parameters: parameters, gradients: gradients, learningRate: 1e-2)
        #expect(parameters.mapValues(\.floatArray) == expected)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder + "/run") == ["checkpoint"])
    }

    @Test("a kill between the swap's renames leaves the previous checkpoint as <name>.old-*, which is resumed from; the next write sweeps leftovers")
    func killDuringSwap() throws {
        let folder = try Self.folder()
        let path = folder + "/checkpoint"
        let parameters = ["w": HostTensor(floats: [1, 2], shape: [2])]
        let progress = TrainingProgress(stage: "s", seed: 1, step: 3, epoch: 0, batchInEpoch: 3)
        try TrainingCheckpoint.write(to: path, parameters: parameters, optimizer: Optimizer(.adamW), progress: progress)
        #expect(TrainingCheckpoint.finished(at: path) == path)
        // The state a kill leaves: the old checkpoint moved aside, a half-written new one.
        #expect(rename(path, path + ".old-1234") == 0)
        try FileManager.default.createDirectory(atPath: path + ".partial-5678", withIntermediateDirectories: true)
        #expect(TrainingCheckpoint.finished(at: path) == path + ".old-1234")
        let (_, read) = try TrainingCheckpoint.read(from: try #require(TrainingCheckpoint.finished(at: path)), into: Optimizer(.adamW))
        #expect(read == progress)
        try TrainingCheckpoint.write(to: path, parameters: parameters, optimizer: Optimizer(.adamW), progress: progress)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["checkpoint"])
    }

    @Test("writing over a checkpoint replaces it whole; a folder without progress.json is refused")
    func replaceAndRefuse() throws {
        let folder = try Self.folder()
        let path = folder + "/ckpt"
        let optimizer = Optimizer(.sgd(momentum: 0))
        for step in [1, 2] {
            try TrainingCheckpoint.write(to: path, parameters: ["w": HostTensor(floats: [Float(step)], shape: [1])], optimizer: optimizer,
                                         progress: TrainingProgress(stage: "s", seed: 1, step: step, epoch: 0, batchInEpoch: step))
        }
        let (parameters, progress) = try TrainingCheckpoint.read(from: path, into: Optimizer(.sgd(momentum: 0)))
        #expect(progress.step == 2)
        #expect(parameters["w"]?.floatArray == [2])
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["ckpt"])
        try FileManager.default.createDirectory(atPath: folder + "/half", withIntermediateDirectories: true)
        let error = try #require(throws: CheckpointError.self) { try TrainingCheckpoint.read(from: folder + "/half", into: optimizer) }
        #expect(error.description.contains("not a finished checkpoint"))
    }
}

import FileSystem
import Foundation

/// Where a training run stands: enough, with the parameters and the optimizer state, to continue a killed run and
/// end with the same parameters as an uninterrupted one. Randomness is counter-based (seed, step, node), so the
/// seed and the step are its whole state; the data order is (epoch, batch).
public struct TrainingProgress: Hashable, Sendable, Codable {
    public var stage: String
    public var seed: UInt64
    /// Optimizer updates made so far in this stage.
    public var step: Int
    public var epoch: Int
    /// Batches of `epoch` already consumed.
    public var batchInEpoch: Int
    /// The best validation UAR so far and the epoch it was reached at.
    public var bestValidationUAR: Double?
    public var bestEpoch: Int?

    public init(stage: String, seed: UInt64, step: Int, epoch: Int, batchInEpoch: Int,
                bestValidationUAR: Double? = nil, bestEpoch: Int? = nil) {
        self.stage = stage
        self.seed = seed
        self.step = step
        self.epoch = epoch
        self.batchInEpoch = batchInEpoch
        self.bestValidationUAR = bestValidationUAR
        self.bestEpoch = bestEpoch
    }
}

/// A training checkpoint: a folder with `parameters.safetensors`, `optimizer.safetensors` and `progress.json`.
///
/// It is never seen half-written: the folder is written as `<name>.partial-<random>` next to the target (each file
/// flushed to disk), then swapped in with renames (the old checkpoint, if any, is moved aside first and removed
/// last). A folder without `progress.json`, which is written last, is not a checkpoint.
public enum TrainingCheckpoint {
    public static let parametersFile = "parameters.safetensors"
    public static let optimizerFile = "optimizer.safetensors"
    public static let progressFile = "progress.json"

    /// Writes a checkpoint; `extras` are further text files of the run's state (the loss log), by file name.
    public static func write(
        to directory: String, parameters: [String: HostTensor], optimizer: Optimizer, progress: TrainingProgress,
        extras: [String: String] = [:]
    ) throws(CheckpointError) {
        let target = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let partial = target + ".partial-" + suffix
        let files = FileManager.default
        do {
            try Folder.create(partial)
        } catch {
            throw CheckpointError(error.message, file: partial)
        }
        var finished = false
        defer { if !finished { try? files.removeItem(atPath: partial) } }
        try Safetensors.write(parameters.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, to: partial + "/" + parametersFile)
        try optimizer.saveState(to: partial + "/" + optimizerFile)
        for (name, text) in extras.sorted(by: { $0.key < $1.key }) {
            do { try AtomicFile.write(text, to: partial + "/" + name) } catch { throw CheckpointError(error.message, file: error.path) }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json: Data
        do { json = try encoder.encode(progress) } catch {
            throw CheckpointError("cannot encode the progress: \(error)", file: partial + "/" + progressFile)
        }
        do {
            try AtomicFile.write(String(decoding: json, as: UTF8.self), to: partial + "/" + progressFile)
        } catch {
            throw CheckpointError(error.message, file: error.path)
        }
        // Swap: the old checkpoint aside, the new one in, the old one removed.
        let old = target + ".old-" + suffix
        let hadOld = files.fileExists(atPath: target)
        if hadOld, rename(target, old) != 0 {
            throw CheckpointError("cannot move the previous checkpoint aside: \(FileError.systemReason())", file: target)
        }
        guard rename(partial, target) == 0 else {
            let reason = FileError.systemReason()
            if hadOld { _ = rename(old, target) }
            throw CheckpointError("cannot move the new checkpoint into place: \(reason)", file: target)
        }
        finished = true
        if hadOld { try? files.removeItem(atPath: old) }
        // Leftovers of runs killed while writing: unfinished folders, and old ones a kill kept from being removed.
        for stale in siblings(of: target, marker: ".partial-") + siblings(of: target, marker: ".old-") { try? files.removeItem(atPath: stale) }
    }

    /// The finished checkpoint to resume from: `directory` itself, or, when a run was killed between the two renames
    /// of a swap, the previous checkpoint it had just moved aside (`<name>.old-*`). Nil when there is none.
    public static func finished(at directory: String) -> String? {
        let target = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        let files = FileManager.default
        if files.fileExists(atPath: target + "/" + progressFile) { return target }
        return siblings(of: target, marker: ".old-").first { files.fileExists(atPath: $0 + "/" + progressFile) }
    }

    /// Folders next to `target` named `<target name><marker>...`, sorted.
    static func siblings(of target: String, marker: String) -> [String] {
        let url = URL(fileURLWithPath: target)
        let parent = url.deletingLastPathComponent().path
        let prefix = url.lastPathComponent + marker
        let names = (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
        return names.filter { $0.hasPrefix(prefix) }.sorted().map { parent + "/" + $0 }
    }

    /// Reads a checkpoint: the parameters, the progress, and the optimizer state into `optimizer`.
    public static func read(from directory: String, into optimizer: Optimizer) throws(CheckpointError) -> (parameters: [String: HostTensor], progress: TrainingProgress) {
        let folder = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        let progressPath = folder + "/" + progressFile
        guard let data = FileManager.default.contents(atPath: progressPath) else {
            throw CheckpointError("not a finished checkpoint: no \(progressFile)", file: folder,
                                  hint: "a run killed while writing leaves a .partial folder, which is not resumed from")
        }
        let progress: TrainingProgress
        do { progress = try JSONDecoder().decode(TrainingProgress.self, from: data) } catch {
            throw CheckpointError("unreadable progress: \(error)", file: progressPath)
        }
        let parameters = try Safetensors.read(folder + "/" + parametersFile)
        try optimizer.loadState(from: folder + "/" + optimizerFile)
        return (parameters, progress)
    }
}

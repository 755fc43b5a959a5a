import Collectives
import Compiler
import FileSystem
import Foundation
import GraphIR
import GraphSpec
import Kernels
import Runtime

/// Runs a k-means stage for one fold: the taps of the stage's model (the parameters an earlier stage handed on) over
/// the fold's training utterances, k-means at every K on (a sample of) their frames, and every training frame's
/// label; cached on disk and reused when nothing changed.
///
/// Leakage: the features come from a `FitData` (training utterances only, which only a `Fold` can make) and are
/// checked against the fold's test and validation speakers before anything is fitted.
public struct PseudoLabeler {
    public let spec: CompiledSpec
    public let stage: Stage
    public let settings: KMeansStage
    public let layout: RunLayout
    public let progress: ProgressBar

    /// Whether the interpreter's plans are simplified.
    public let optimize: Bool
    /// Whether this process writes the label cache (in a data-parallel job, rank 0 alone).
    public var writesCache = true
    /// The processes sharing the feature passes (data-parallel under mpirun): each runs a contiguous share of the
    /// batches, the sampled frames are gathered in one process's order, every process fits the same k-means on them,
    /// and the labels are gathered so that every process holds them all.
    public var communicator = Communicator.single

    public init(spec: CompiledSpec, stage: Stage, layout: RunLayout, progress: ProgressBar, optimize: Bool = true) throws(TrainingError) {
        guard case let .kmeans(settings) = stage.kind else {
            throw TrainingError("stage '\(stage.name)' is not a k-means stage", at: stage.location)
        }
        self.spec = spec
        self.stage = stage
        self.settings = settings
        self.layout = layout
        self.progress = progress
        self.optimize = optimize
    }

    /// The cache file of a fold.
    public func cacheFile(fold: String) -> String { layout.stageFolder(fold: fold, stage: stage.name) + "/labels.safetensors" }

    /// The pseudo-labels of `fold`'s training utterances from the model `parameters`, read from the cache when its
    /// key (model checksum, taps, K values, settings, utterances) matches.
    public func labels(fold: Fold, data: FitData, parameters: [String: HostTensor], classes: [String]) throws -> PseudoLabels {
        try Self.checkNoLeakage(data, fold: fold)
        let key = cacheKey(data: data, parameters: parameters)
        let file = cacheFile(fold: fold.name)
        if let cached = try? readCache(file, key: key) {
            progress.message("\(stage.name): reusing the cached pseudo-labels in \(file) (same model, taps, K and utterances)")
            return cached
        }
        let clock = ContinuousClock()
        let start = clock.now
        let graph: PseudoLabelGraph
        do { graph = try PseudoLabelGraph(model: spec.graph, stage: stage) } catch { throw TrainingError(error.diagnostics) }
        let batching = try Batching.readingLengths(data.utterances, classes: classes, options: Batching.Options(batchSize: 8))

        // Pass 1: the sampled training frames of every tap; k-means at every K on them (one feature pass for all K).
        var samples = try sampledFrames(batching: batching, parameters: parameters)
        // Centred features for the fit (k-means does not change under a shift): HuBERT's hidden states have a few
        // large dimensions, and GEMM distances lose precision to cancellation far from the origin. The mean goes
        // back onto the centroids.
        // Under mpirun each process holds its share of the rows; the mean and the fit are over all of them.
        var means = [String: [Float]]()
        var tapShards = [String: KMeansShards]()
        for tap in settings.taps {
            guard let rows = samples[tap]?.rows, let dimension = samples[tap]?.dimension else { continue }
            let shards = try shards(rows: rows)
            tapShards[tap] = shards
            means[tap] = try centre(&samples[tap, default: (rows: 0, dimension: 0, values: [])].values, rows: rows, dimension: dimension,
                                    total: shards.total)
        }
        var fitted = parameters
        var centroids = [String: (values: [Float], dimension: Int)]()
        for target in graph.targets {
            guard let sample = samples[target.tap], let shards = tapShards[target.tap] else { continue }
            guard shards.total >= target.k else {
                throw TrainingError("k-means of \(target.tap) at K = \(target.k) has only \(shards.total) sampled training frames in fold \(fold.name)",
                                    at: stage.location, hint: "use a smaller K or a larger sample_fraction")
            }
            let options = KMeans.Options(k: target.k, iterations: settings.iterations, seed: UInt64(settings.seed))
            // A process without rows still takes part in every collective call of the fit.
            let values = sample.values.isEmpty ? [Float](repeating: 0, count: max(1, sample.dimension)) : sample.values
            let result = values.withUnsafeBufferPointer { buffer in
                buffer.baseAddress.map { KMeans.fit(x: $0, n: sample.rows, d: sample.dimension, options: options, shards: shards) }
            }
            guard var result else { continue }
            if let mean = means[target.tap] {
                for j in 0..<target.k { for t in 0..<sample.dimension { result.centroids[j * sample.dimension + t] += mean[t] } }
            }
            centroids[target.target] = (result.centroids, sample.dimension)
            fitted[target.centroids] = HostTensor(floats: result.centroids, shape: [target.k, sample.dimension])
            progress.message("\(stage.name) \(fold.name): \(target.tap) K = \(target.k): \(result.iterations) iterations on \(shards.total) frames, inertia/frame \(String(format: "%.4g", result.inertia / Double(max(1, shards.total))))")
        }

        // Pass 2: the pseudo-label graph (the taps and their kmeans_assign nodes) labels every valid training frame.
        let interpreter = Interpreter(graph: graph.graph, optimize: optimize)
        let names = graph.targets.map(\.target)
        var perUtterance = [Int: [String: [Int32]]]()
        for items in myShare(of: batching.evaluationPlan()) {
            let batch = try batching.load(items)
            let results = try interpreter.run(inputs: ["wave": batch.waves, "lengths": batch.lengths], parameters: fitted,
                                              fetch: names, mode: .evaluation)
            for (row, item) in items.enumerated() {
                var labels = [String: [Int32]]()
                for name in names {
                    guard let tensor = results[name] else { continue }
                    let valid = validFrames(Int(batch.lengths.int32s[row]), limit: tensor.shape[1])
                    labels[name] = Array(UnsafeBufferPointer(start: tensor.int32s + row * tensor.shape[1], count: valid))
                }
                perUtterance[item.index] = labels
            }
        }
        if communicator.isDistributed { perUtterance = try gatherLabels(perUtterance, names: names) }
        var ids = [String](), offsets = [0], labels = [String: [Int32]]()
        for index in data.utterances.indices {
            ids.append(data.utterances[index].id)
            var frames = 0
            for name in names {
                let values = perUtterance[index]?[name] ?? []
                labels[name, default: []] += values
                frames = values.count
            }
            offsets.append(offsets[offsets.count - 1] + frames)
        }
        let labelled = PseudoLabels(ids: ids, offsets: offsets, labels: labels, centroids: centroids)
        try writeCache(labelled, to: file, key: key)
        let seconds = Double((clock.now - start).components.seconds)
        progress.message("\(stage.name) \(fold.name): pseudo-labels of \(labelled.ids.count) utterances written to \(file) (\(Int(seconds)) s)")
        return labelled
    }

    /// Refuses to fit on data that is not `fold`'s training split: another fold's, or holding a test or validation
    /// speaker.
    public static func checkNoLeakage(_ data: FitData, fold: Fold) throws(TrainingError) {
        let fitted = Set(data.utterances.map(\.speaker))
        for (split, utterances) in [("test", fold.test), ("validation", fold.validation)] {
            if let speaker = fitted.intersection(utterances.map(\.speaker)).sorted().first {
                throw TrainingError("k-means of fold \(fold.name) would be fitted on speaker \(speaker), who is in its \(split) split (the data is fold \(data.fold)'s training split)",
                                    hint: "pseudo-labels are fitted on the fold's own training utterances only")
            }
        }
        guard data.fold == fold.name else {
            throw TrainingError("k-means of fold \(fold.name) was given fold \(data.fold)'s training split")
        }
    }

    // MARK: - Features

    /// Valid frames of an utterance of `samples` samples (the taps' time axis evaluated), at most `limit`.
    func validFrames(_ samples: Int, limit: Int) -> Int {
        guard let tap = settings.taps.first, let value = spec.graph.taps.first(where: { $0.name == tap })?.value,
              let time = spec.graph[value].type.shape.dropFirst().first else { return limit }
        return max(0, min(limit, time.evaluate(["B": 1, "S": samples]) ?? 0))
    }

    /// The frames k-means is fitted on, per tap: every valid frame of the training utterances kept with probability
    /// `sample_fraction` (all at 1), drawn from the seed by (utterance, frame).
    /// Subtracts the mean row (Float64 sums, over every process's rows: `total` in all) from `rows` rows of
    /// `dimension` values; returns the mean.
    func centre(_ values: inout [Float], rows: Int, dimension: Int, total: Int) throws -> [Float] {
        guard total > 0, dimension > 0, values.count >= rows * dimension else { return [Float](repeating: 0, count: dimension) }
        var sums = [Double](repeating: 0, count: dimension)
        values.withUnsafeBufferPointer { x in
            sums.withUnsafeMutableBufferPointer { total in
                for i in 0..<rows { for t in 0..<dimension { total[t] += Double(x[i * dimension + t]) } }
            }
        }
        try sum(&sums)
        let mean = sums.map { Float($0 / Double(total)) }
        values.withUnsafeMutableBufferPointer { x in
            for i in 0..<rows { for t in 0..<dimension { x[i * dimension + t] -= mean[t] } }
        }
        return mean
    }

    func sampledFrames(batching: Batching, parameters: [String: HostTensor]) throws -> [String: (rows: Int, dimension: Int, values: [Float])] {
        let interpreter = Interpreter(graph: spec.graph, optimize: optimize)
        let stream = Philox(seed: UInt64(settings.seed), step: 0, node: 0x5350_4C45)
        var samples = [String: (rows: Int, dimension: Int, values: [Float])]()
        for items in myShare(of: batching.evaluationPlan()) {
            let batch = try batching.load(items)
            let results = try interpreter.runFinite(inputs: ["wave": batch.waves, "lengths": batch.lengths], parameters: parameters,
                                                    fetch: settings.taps, source: batch.described, mode: .evaluation)
            for (row, item) in items.enumerated() {
                for tap in settings.taps {
                    guard let tensor = results[tap], tensor.shape.count == 3 else { continue }
                    let (frames, dimension) = (tensor.shape[1], tensor.shape[2])
                    let valid = validFrames(Int(batch.lengths.int32s[row]), limit: frames)
                    var entry = samples[tap] ?? (0, dimension, [])
                    for t in 0..<valid where settings.sampleFraction >= 1
                        || stream.uniform(at: item.index &* 65_536 &+ t) < Float(settings.sampleFraction) {
                        let base = tensor.floats + (row * frames + t) * dimension
                        entry.values += UnsafeBufferPointer(start: base, count: dimension)
                        entry.rows += 1
                    }
                    samples[tap] = entry
                }
            }
        }
        guard communicator.isDistributed else { return samples }
        // A process without rows learns the width from the others.
        for tap in settings.taps {
            var dimension = [Double(samples[tap]?.dimension ?? 0)]
            try sum(&dimension, maximum: true)
            if samples[tap] == nil, dimension[0] > 0 { samples[tap] = (0, Int(dimension[0]), []) }
        }
        return samples
    }

    /// This process's `rows` of a k-means fit over all processes' rows, in rank order (one process's order, since
    /// each runs a contiguous share of the batches). A failed collective call ends the job, naming this rank.
    func shards(rows: Int) throws -> KMeansShards {
        guard communicator.isDistributed else { return .whole(rows) }
        var counts = [Double](repeating: 0, count: communicator.size)
        counts[communicator.rank] = Double(rows)
        try sum(&counts)
        let world = communicator
        @Sendable func fail(_ error: any Error) -> Never {
            FileHandle.standardError.write(Data("\(world.messagePrefix)error: k-means: \(error)\n".utf8))
            world.abort(code: 1)
        }
        return KMeansShards(
            total: Int(counts.reduce(0, +)), first: Int(counts[..<communicator.rank].reduce(0, +)),
            sum: { values in
                var values = values
                do { try world.sum(&values) } catch { fail(error) }
                return values
            },
            gather: { values in
                do { return try world.gather(values).flatMap { $0 } } catch { fail(error) }
            })
    }

    /// This process's contiguous share of a plan's batches (all of them in one process).
    func myShare(of plan: [[BatchItem]]) -> ArraySlice<[BatchItem]> {
        plan[DataParallel.rows(count: plan.count, rank: communicator.rank, size: communicator.size)]
    }

    /// Every process's 4-byte values, rank order.
    func gatherWords<Word: BitwiseCopyable>(_ values: [Word]) throws -> [[Word]] {
        do { return try communicator.gather(values) } catch {
            throw TrainingError("\(communicator.messagePrefix)\(error.message)")
        }
    }

    /// A sum over the processes (or the largest value, with `maximum`: sizes a process without rows does not know).
    func sum(_ values: inout [Double], maximum: Bool = false) throws {
        do {
            if maximum {
                var integers = values.map { Int($0) }
                try communicator.maximum(&integers)
                values = integers.map(Double.init)
            } else {
                try communicator.sum(&values)
            }
        } catch {
            throw TrainingError("\(communicator.messagePrefix)\(error.message)")
        }
    }

    /// The labels every process made of its utterances, merged: as records of (utterance index, then for each name
    /// its frame count and labels).
    func gatherLabels(_ mine: [Int: [String: [Int32]]], names: [String]) throws -> [Int: [String: [Int32]]] {
        var record = [Int32]()
        for (index, labels) in mine.sorted(by: { $0.key < $1.key }) {
            record.append(Int32(index))
            for name in names {
                let values = labels[name] ?? []
                record.append(Int32(values.count))
                record += values
            }
        }
        var merged = [Int: [String: [Int32]]]()
        for part in try gatherWords(record) {
            var cursor = 0
            while cursor < part.count {
                let index = Int(part[cursor])
                cursor += 1
                var labels = [String: [Int32]]()
                for name in names {
                    let count = Int(part[cursor])
                    labels[name] = Array(part[(cursor + 1)..<(cursor + 1 + count)])
                    cursor += 1 + count
                }
                merged[index] = labels
            }
        }
        return merged
    }

    // MARK: - Cache

    /// What the labels depend on: the model's parameters, the stage's settings and the utterances.
    func cacheKey(data: FitData, parameters: [String: HostTensor]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ word: UInt64) { hash = (hash ^ word) &* 0x0000_0100_0000_01B3 }
        func mix(_ text: String) { for byte in text.utf8 { mix(UInt64(byte)) }; mix(0xFF) }
        for name in parameters.keys.sorted() {
            guard let tensor = parameters[name] else { continue }
            mix(name)
            let words = UnsafeRawPointer(tensor.storage).assumingMemoryBound(to: UInt32.self)
            for i in 0..<tensor.count { mix(UInt64(words[i])) }
        }
        mix(settings.taps.joined(separator: ","))
        mix(settings.k.map(String.init).joined(separator: ","))
        mix("\(settings.iterations) \(settings.sampleFraction) \(settings.seed) \(data.fold)")
        for utterance in data.utterances { mix(utterance.id) }
        return String(hash, radix: 16)
    }

    func writeCache(_ labels: PseudoLabels, to file: String, key: String) throws {
        guard writesCache else { return }
        var tensors = [(String, HostTensor)]()
        tensors.append(("offsets", HostTensor(int32s: labels.offsets.map { Int32(clamping: $0) }, shape: [labels.offsets.count])))
        for target in labels.labels.keys.sorted() {
            guard let values = labels.labels[target], let centroid = labels.centroids[target] else { continue }
            tensors.append(("labels/\(target)", HostTensor(int32s: values, shape: [values.count])))
            tensors.append(("centroids/\(target)", HostTensor(floats: centroid.values,
                                                              shape: [centroid.values.count / max(1, centroid.dimension), centroid.dimension])))
        }
        let ids = JSONText.array(labels.ids.map(JSONText.string)).rendered(indent: "")
        do {
            try Folder.create(URL(fileURLWithPath: file).deletingLastPathComponent().path)
        } catch {
            throw TrainingError("\(error)")
        }
        try Safetensors.write(tensors, metadata: ["key": key, "ids": ids, "stage": stage.name], to: file)
    }

    func readCache(_ file: String, key: String) throws -> PseudoLabels? {
        guard FileManager.default.fileExists(atPath: file) else { return nil }
        let metadata = try Safetensors.readMetadata(file)
        guard metadata["key"] == key, let idsText = metadata["ids"],
              let ids = try JSONSerialization.jsonObject(with: Data(idsText.utf8)) as? [String] else { return nil }
        let tensors = try Safetensors.read(file)
        guard let offsets = tensors["offsets"]?.int32Array.map(Int.init), offsets.count == ids.count + 1 else { return nil }
        var labels = [String: [Int32]](), centroids = [String: (values: [Float], dimension: Int)]()
        for (name, tensor) in tensors {
            if name.hasPrefix("labels/") { labels[String(name.dropFirst(7))] = tensor.int32Array }
            if name.hasPrefix("centroids/"), tensor.shape.count == 2 { centroids[String(name.dropFirst(10))] = (tensor.floatArray, tensor.shape[1]) }
        }
        return PseudoLabels(ids: ids, offsets: offsets, labels: labels, centroids: centroids)
    }
}

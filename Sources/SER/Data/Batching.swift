import Audio
import Kernels
import Runtime

/// Where a too-long utterance is cut to the maximum duration.
public enum CropMode: String, Hashable, Sendable, CaseIterable {
    /// The whole utterance, however long.
    case none
    /// A window at a random start, drawn from (seed, epoch, utterance): training.
    case random
    /// The middle window.
    case center
    /// The first samples.
    case start
}

/// One utterance's place in a batch: which utterance and which samples of it.
public struct BatchItem: Hashable, Sendable {
    /// Index into `Batching.utterances`.
    public var index: Int
    /// The first sample taken.
    public var start: Int
    /// How many samples are taken.
    public var count: Int

    public init(index: Int, start: Int, count: Int) {
        self.index = index
        self.start = start
        self.count = count
    }
}

/// A padded batch ready for the interpreter: waves `[B, S]` (zeros after each length), lengths `[B]`, labels `[B]`.
public struct Batch: Sendable {
    /// The utterances' ids, in batch order (predictions are mapped back by them).
    public var ids: [String]
    /// `f32[B, S]`, S the longest item of the batch.
    public var waves: HostTensor
    /// `i32[B]`: samples of each row that are audio.
    public var lengths: HostTensor
    /// `i32[B]`: class indices in the order of `Batching.classes`.
    public var labels: HostTensor
    /// `i32[B]`: 0 female, 1 male (`Gender.index`).
    public var genders: HostTensor

    /// "the utterances a, b, c and 5 more", for errors about the batch as a whole.
    public var described: String {
        let shown = ids.prefix(3).joined(separator: ", ")
        let rest = ids.count > 3 ? " and \(ids.count - 3) more" : ""
        return (ids.count == 1 ? "the utterance " : "the utterances ") + shown + rest
    }
}

/// Turns utterances into batches: length bucketing, cropping, padding, deterministic shuffles.
///
/// Planning works from lengths (header frame counts) and reads no audio, so an epoch's order can be computed and
/// tested cheaply; `load` reads one batch's audio through `AudioFile.read`.
///
/// - **Training** (`trainingPlan(seed:epoch:)`): the utterances are shuffled by a Philox permutation keyed by
///   (seed, epoch); consecutive pools of `batchSize * bucketBatches` are sorted by (cropped) length and cut into
///   batches of `batchSize`, so a batch holds utterances of similar lengths and little padding; the batches are then
///   shuffled again with (seed, epoch), so long and short batches alternate. Crops of utterances longer than
///   `maxSeconds` follow `trainingCrop` (random windows by default, the start drawn from (seed, epoch, utterance)).
/// - **Evaluation** (`evaluationPlan()`): no randomness; all utterances sorted by length (ties by index) and cut into
///   batches; `evaluationCrop` (default: the whole utterance) decides what a long one contributes.
///
/// Audio at another rate than `sampleRate` (16 kHz) is resampled as it is loaded (`AudioFile.read(_:resampledTo:)`).
public struct Batching: Sendable {
    /// The knobs of batching.
    public struct Options: Hashable, Sendable {
        /// Utterances per batch.
        public var batchSize: Int
        /// Batches per length-sorted pool in training: larger pools pad less and shuffle less.
        public var bucketBatches: Int
        /// Longest audio fed to the model, in seconds (nil: no limit).
        public var maxSeconds: Double?
        public var trainingCrop: CropMode
        public var evaluationCrop: CropMode
        /// The rate audio must have.
        public var sampleRate: Int
        /// Crops start at multiples of this many samples: the model's frame hop, so that frame-level labels of the
        /// whole utterance line up with a crop's frames.
        public var cropAlignment: Int

        public init(batchSize: Int = 8, bucketBatches: Int = 16, maxSeconds: Double? = nil,
                    trainingCrop: CropMode = .random, evaluationCrop: CropMode = .none, sampleRate: Int = 16_000,
                    cropAlignment: Int = 1) {
            self.cropAlignment = max(1, cropAlignment)
            self.batchSize = batchSize
            self.bucketBatches = bucketBatches
            self.maxSeconds = maxSeconds
            self.trainingCrop = trainingCrop
            self.evaluationCrop = evaluationCrop
            self.sampleRate = sampleRate
        }

        /// The most samples an item may have, if limited (0 for a duration that is not a positive number of samples,
        /// which `Batching` refuses).
        public var maxSamples: Int? {
            guard let maxSeconds else { return nil }
            let samples = (maxSeconds * Double(sampleRate)).rounded(.down)
            guard samples.isFinite, samples >= 0, samples < 0x1p52 else { return 0 }
            return Int(samples)
        }
    }

    /// The utterances batched; plans refer to them by index.
    public let utterances: [Utterance]
    /// Samples of each utterance (from the audio headers).
    public let lengths: [Int]
    /// The class names; a batch's labels are indices into them.
    public let classes: [String]
    public let options: Options
    private let classIndex: [String: Int32]

    /// Batching over utterances whose lengths in samples are known. Throws for bad options, a length count that
    /// differs from the utterance count, a negative length, or an emotion outside `classes`.
    public init(utterances: [Utterance], lengths: [Int], classes: [String], options: Options = Options()) throws(DataError) {
        guard (1...1_000_000).contains(options.batchSize) else {
            throw DataError("the batch size must be from 1 to 1,000,000, got \(options.batchSize)")
        }
        guard (1...1_000_000).contains(options.bucketBatches) else {
            throw DataError("batches per bucket must be from 1 to 1,000,000, got \(options.bucketBatches)")
        }
        guard (1...1_000_000).contains(options.sampleRate) else {
            throw DataError("the sample rate must be from 1 to 1,000,000 Hz, got \(options.sampleRate)")
        }
        if let seconds = options.maxSeconds {
            guard seconds.isFinite, seconds > 0, seconds <= 3_600, (options.maxSamples ?? 0) >= 1 else {
                throw DataError("the maximum duration must be a positive number of seconds (at most 3600), got \(seconds)")
            }
        }
        guard lengths.count == utterances.count else {
            throw DataError("\(lengths.count) lengths for \(utterances.count) utterances")
        }
        if let bad = lengths.indices.first(where: { lengths[$0] < 0 }) {
            throw DataError("the length of \(utterances[bad].id) is negative", file: utterances[bad].path)
        }
        var classIndex = [String: Int32]()
        for (index, name) in classes.enumerated() where classIndex[name] == nil { classIndex[name] = Int32(clamping: index) }
        if let stray = utterances.first(where: { classIndex[$0.emotion] == nil }) {
            throw DataError("emotion '\(stray.emotion)' of \(stray.id) is not one of the classes \(classes.joined(separator: ", "))",
                            file: stray.path)
        }
        self.utterances = utterances
        self.lengths = lengths
        self.classes = classes
        self.options = options
        self.classIndex = classIndex
    }

    /// Batching with lengths read from the audio headers (no samples are read), as they will be after resampling to
    /// `options.sampleRate`; a file that cannot be read is an error naming it.
    public static func readingLengths(_ utterances: [Utterance], classes: [String], options: Options = Options()) throws(DataError) -> Batching {
        var lengths = [Int]()
        lengths.reserveCapacity(utterances.count)
        for utterance in utterances {
            let info: AudioFile.Info
            do {
                info = try AudioFile.info(utterance.path)
            } catch {
                throw DataError(error.diagnostics)
            }
            guard info.sampleRate > 0 else { throw DataError("has no sample rate in its header", file: utterance.path) }
            // The length after resampling to the model's rate (the resampler's ceil(n * to / from) convention).
            lengths.append(info.sampleRate == options.sampleRate
                ? info.frames : Int((Double(info.frames) * Double(options.sampleRate) / Double(info.sampleRate)).rounded(.up)))
        }
        return try Batching(utterances: utterances, lengths: lengths, classes: classes, options: options)
    }

    /// The item an utterance contributes under a crop mode (the whole utterance when it is short enough).
    public func item(_ index: Int, crop: CropMode, stream: Philox?) -> BatchItem {
        let length = lengths.indices.contains(index) ? max(0, lengths[index]) : 0
        guard let limit = options.maxSamples, length > limit, crop != .none else { return BatchItem(index: index, start: 0, count: length) }
        let slack = length - limit
        let start: Int
        switch crop {
        case .none, .start: start = 0
        case .center: start = slack / 2
        case .random: start = stream.map { Shuffle.draw($0, index: index, bound: slack + 1) } ?? 0
        }
        let aligned = start - start % options.cropAlignment
        return BatchItem(index: index, start: aligned, count: limit)
    }

    /// The batches of one training epoch; the same (seed, epoch) always give the same plan.
    public func trainingPlan(seed: UInt64, epoch: Int) -> [[BatchItem]] {
        let step = UInt64(truncatingIfNeeded: epoch)
        let order = Shuffle.permutation(utterances.count, stream: Philox(seed: seed, step: step, node: Self.orderNode))
        let crops = Philox(seed: seed, step: step, node: Self.cropNode)
        let items = order.map { item($0, crop: options.trainingCrop, stream: crops) }
        let pool = options.batchSize * options.bucketBatches
        var batches = [[BatchItem]]()
        var start = 0
        while start < items.count {
            let end = min(items.count, start + pool)
            // Stable by shuffled position among equal lengths.
            let sorted = items[start..<end].enumerated().sorted { ($0.element.count, $0.offset) < ($1.element.count, $1.offset) }.map(\.element)
            batches += chunks(sorted)
            start = end
        }
        return Shuffle.shuffled(batches, stream: Philox(seed: seed, step: step, node: Self.batchOrderNode))
    }

    /// The batches for evaluation: every utterance once, sorted by length, no randomness.
    public func evaluationPlan() -> [[BatchItem]] {
        let items = utterances.indices.map { item($0, crop: options.evaluationCrop, stream: nil) }
        return chunks(items.sorted { ($0.count, $0.index) < ($1.count, $1.index) })
    }

    private func chunks(_ items: [BatchItem]) -> [[BatchItem]] {
        stride(from: 0, to: items.count, by: options.batchSize).map { Array(items[$0..<min(items.count, $0 + options.batchSize)]) }
    }

    /// Reads and pads one batch. A file that cannot be read or is at another rate is an error naming it; a file shorter
    /// than its header said gives the samples there are.
    public func load(_ batch: [BatchItem], paddedTo length: Int = 0) throws(DataError) -> Batch {
        var waves = [[Float]]()
        var ids = [String]()
        var labels = [Int32]()
        var genders = [Int32]()
        for item in batch {
            guard utterances.indices.contains(item.index) else {
                throw DataError("batch item \(item.index) is not an utterance index (there are \(utterances.count))")
            }
            let utterance = utterances[item.index]
            let samples: AudioFile.Samples
            do {
                samples = try AudioFile.read(utterance.path, resampledTo: options.sampleRate)
            } catch {
                throw DataError(error.diagnostics)
            }
            let start = min(max(0, item.start), samples.mono.count)
            let end = max(0, item.count) >= samples.mono.count - start ? samples.mono.count : start + max(0, item.count)
            waves.append(Array(samples.mono[start..<end]))
            ids.append(utterance.id)
            labels.append(classIndex[utterance.emotion] ?? -1)
            genders.append(Int32(utterance.gender.index))
        }
        return Self.pad(waves, ids: ids, labels: labels, genders: genders, length: length)
    }

    /// The class index of each item's utterance (-1 for a label outside the classes), without reading audio.
    public func labels(of batch: [BatchItem]) -> [Int32] {
        batch.map { utterances.indices.contains($0.index) ? classIndex[utterances[$0.index].emotion] ?? -1 : -1 }
    }

    /// The gender index of each item's utterance, without reading audio.
    public func genders(of batch: [BatchItem]) -> [Int32] {
        batch.map { utterances.indices.contains($0.index) ? Int32(utterances[$0.index].gender.index) : 0 }
    }

    /// Pads waves into `[B, S]` with zeros, S the longest (or `length` when that is longer: a data-parallel shard
    /// is padded as the whole batch is).
    public static func pad(_ waves: [[Float]], ids: [String], labels: [Int32], genders: [Int32] = [], length: Int = 0) -> Batch {
        let longest = max(length, waves.map(\.count).max() ?? 0)
        let tensor = HostTensor(.f32, shape: [waves.count, longest])
        for (row, wave) in waves.enumerated() {
            wave.withUnsafeBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return }
                (tensor.floats + row * longest).update(from: base, count: min(buffer.count, longest))
            }
        }
        let lengthTensor = HostTensor(.i32, shape: [waves.count])
        for (row, wave) in waves.enumerated() { lengthTensor.int32s[row] = Int32(clamping: wave.count) }
        let labelTensor = HostTensor(.i32, shape: [labels.count])
        for (row, label) in labels.enumerated() { labelTensor.int32s[row] = label }
        let genderTensor = HostTensor(int32s: genders, shape: [genders.count])
        return Batch(ids: ids, waves: tensor, lengths: lengthTensor, labels: labelTensor, genders: genderTensor)
    }

    static let orderNode: UInt32 = 1
    static let cropNode: UInt32 = 2
    static let batchOrderNode: UInt32 = 3
}

import Collectives
import Compiler
import FileSystem
import Foundation
import GraphIR
import GraphSpec
import Kernels
import Runtime

/// Runs one training stage of a spec on one fold: the stage's training graph, AdamW (or the spec's optimizer)
/// with its warmup and decay, gradient clipping and accumulation, validation each epoch with the best parameters
/// kept, and checkpoints a killed run resumes from exactly.
///
/// Reproducibility: the data order is a function of (seed, epoch), dropout and time masks of (seed, micro-batch
/// counter, node), so a run's result depends on the seed and the thread count only; checkpoints hold the
/// parameters, the optimizer state and the position (epoch, batch), which is all the state there is.
public struct StageRunner {
    public struct Options {
        public var seed: UInt64
        /// Optimizer steps between checkpoints (0: only at the end of each epoch).
        public var checkpointEvery: Int
        /// Continue from the stage's checkpoint when there is one.
        public var resume: Bool
        public var progress: ProgressBar
        /// Whether the interpreter's plans are simplified (false: the unoptimised programs, for comparisons).
        public var optimize: Bool
        /// The processes sharing each batch (data-parallel training under mpirun); rank 0 alone writes.
        public var communicator: Communicator

        public init(
            seed: UInt64 = 0, checkpointEvery: Int = 50, resume: Bool = false, progress: ProgressBar = ProgressBar(), optimize: Bool = true,
            communicator: Communicator = .single
        ) {
            self.seed = seed
            self.checkpointEvery = checkpointEvery
            self.resume = resume
            self.progress = progress
            self.optimize = optimize
            self.communicator = communicator
        }
    }

    /// What a finished stage hands on.
    public struct Outcome {
        public var parameters: [String: HostTensor]
        public var losses: [LossRecord]
        public var bestValidationUAR: Double?
        public var bestEpoch: Int?
    }

    public let spec: CompiledSpec
    public let stage: Stage
    public let settings: TrainStage
    public let fold: Fold
    public let classes: [String]
    public let layout: RunLayout
    public let options: Options

    public init(spec: CompiledSpec, stage: Stage, fold: Fold, classes: [String], layout: RunLayout, options: Options) throws(TrainingError) {
        guard case let .train(settings) = stage.kind else {
            throw TrainingError("stage '\(stage.name)' is a k-means stage: the stage runner trains only", at: stage.location)
        }
        self.spec = spec
        self.stage = stage
        self.settings = settings
        self.fold = fold
        self.classes = classes
        self.layout = layout
        self.options = options
    }

    /// The loss log a checkpoint carries (`losses.json`); a missing or damaged one refuses the resume, naming the
    /// file, rather than resuming with the run's loss history lost.
    static func lossLog(in checkpoint: String) throws -> [LossRecord] {
        let path = checkpoint + "/losses.json"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TrainingError("\(path) is missing: the checkpoint is incomplete, and resuming would lose the run's loss history",
                                hint: "train into a new --out folder, or restore the file")
        }
        do {
            return try JSONDecoder().decode([LossRecord].self, from: data)
        } catch {
            throw TrainingError("\(path) is damaged (not the loss log gmptl train writes): resuming would lose the run's loss history",
                                hint: "train into a new --out folder, or restore the file")
        }
    }

    /// The model output whose argmax is the predicted emotion in this stage, and the scale of its scores.
    public static func emotionOutput(of settings: TrainStage, in graph: Graph) -> (name: String, scale: Float)? {
        if let loss = settings.losses.first(where: { $0.target == "emotion" }) {
            if case let .amSoftmax(scale, _) = loss.kind { return (loss.input, Float(scale)) }
            return (loss.input, 1)
        }
        return graph.outputs.contains { $0.name == "emotion_logits" } ? ("emotion_logits", 1) : nil
    }

    /// Trains from `initial` (every parameter of the model) and returns the parameters to hand on. Frame-level
    /// targets come from `pseudoLabels` (the k-means stages run before, for this fold).
    public func run(initial: [String: HostTensor], pseudoLabels: [PseudoLabels] = []) throws -> Outcome {
        let world = options.communicator
        let writes = world.rank == 0
        let training: TrainingGraph
        do {
            training = try TrainingGraph(model: spec.graph, stage: stage, termScales: world.isDistributed)
        } catch {
            throw TrainingError(error.diagnostics)
        }
        for targets in training.targets where targets.label != "emotion" && targets.label != "gender" {
            guard pseudoLabels.contains(where: { $0.labels[targets.label] != nil }) else {
                throw TrainingError("stage '\(stage.name)' needs the pseudo-labels '\(targets.label)': run its k-means stage first (in the same run)",
                                    at: stage.location)
            }
        }
        let frameTargets = training.targets.filter(\.perFrame)
        // Frames per sample count, and the hop that keeps crops on frame boundaries.
        let frameTime = frameTargets.first.flatMap { target in
            training.graph.inputNodes.first { if case let .input(name) = $0.op { name == target.input } else { false } }
        }.flatMap { training.graph[$0.outputs[0]].type.shape.last }
        let frameCount: (Int) -> Int = { samples in max(0, frameTime?.evaluate(["B": 1, "S": samples]) ?? 0) }
        let hop = frameTargets.isEmpty ? 1 : Self.hop(frameCount)
        let progressBar = options.progress
        if !training.unreachedParameters.isEmpty {
            progressBar.message("note: \(training.unreachedParameters.count) parameters of stage '\(stage.name)' get no gradient from its losses and stay as they are")
        }

        // Data: training batches, validation and class weights from the training split only.
        let batchingOptions = Batching.Options(batchSize: settings.batchSize, maxSeconds: settings.maxSeconds, cropAlignment: hop)
        let batching = try Batching.readingLengths(fold.train, classes: classes, options: batchingOptions)
        let validation = fold.validation.isEmpty ? nil
            : try Batching.readingLengths(fold.validation, classes: classes, options: Batching.Options(batchSize: settings.batchSize))
        var constantInputs = [String: HostTensor]()
        for weights in training.classWeights {
            constantInputs[weights.input] = try classWeights(weights, counts: fold.trainingOnly.classCounts(classes))
        }

        // Parameters: copies, so the caller's tensors are not changed.
        var parameters = [String: HostTensor]()
        for (name, tensor) in initial {
            let copy = HostTensor(tensor.dtype, shape: tensor.shape)
            copy.storage.copyMemory(from: tensor.storage, byteCount: tensor.count * 4)
            parameters[name] = copy
        }
        // The centroids behind the stage's pseudo-labels: fitted, not trained, state kept with the parameters (in
        // every checkpoint and in what the stage hands on), named as the k-means stage's parameters.
        for targets in training.targets where targets.perFrame {
            guard let fitted = pseudoLabels.lazy.compactMap({ $0.centroids[targets.label] }).first else { continue }
            parameters[PseudoLabelGraph.centroidsName(of: targets.label)] = HostTensor(
                floats: fitted.values, shape: [fitted.values.count / max(1, fitted.dimension), fitted.dimension])
        }
        let optimizerSettings = settings.optimizer
        let algorithm: Optimizer.Algorithm = switch optimizerSettings.name {
        case .adamw: .adamW
        case .adam: .adam
        case .sgd: .sgd(momentum: optimizerSettings.momentum)
        }
        let betas = optimizerSettings.betas.count == 2 ? (optimizerSettings.betas[0], optimizerSettings.betas[1]) : (0.9, 0.999)
        let optimizer = Optimizer(algorithm, weightDecay: optimizerSettings.weightDecay, betas: betas, epsilon: optimizerSettings.epsilon,
                                  groups: ParameterGroups(scopeScales: ParameterGroups.scales(base: optimizerSettings.learningRate,
                                                                                              scopeRates: optimizerSettings.scopeLearningRates)))
        let batchesPerEpoch = batching.trainingPlan(seed: options.seed, epoch: 0).count
        let stepsPerEpoch = (batchesPerEpoch + settings.accumulate - 1) / max(1, settings.accumulate)
        let totalSteps = stepsPerEpoch * settings.epochs
        let schedule = LearningRateSchedule(peak: optimizerSettings.learningRate, totalSteps: totalSteps,
                                            warmupFraction: optimizerSettings.warmup,
                                            decay: LearningRateSchedule.Decay(rawValue: optimizerSettings.decay.rawValue) ?? .linear)

        var progress = TrainingProgress(stage: stage.name, seed: options.seed, step: 0, epoch: 0, batchInEpoch: 0)
        var losses = [LossRecord]()
        let checkpointFolder = layout.checkpoint(fold: fold.name, stage: stage.name)
        if options.resume, let finished = TrainingCheckpoint.finished(at: checkpointFolder) {
            let restored = try TrainingCheckpoint.read(from: finished, into: optimizer)
            guard restored.progress.seed == options.seed else {
                throw TrainingError("the checkpoint \(checkpointFolder) was made with seed \(restored.progress.seed), not \(options.seed)",
                                    hint: "resume with --seed \(restored.progress.seed)")
            }
            for (name, tensor) in restored.parameters {
                guard let target = parameters[name], target.shape == tensor.shape else {
                    throw TrainingError("the checkpoint's parameter '\(name)' (\(tensor.typeDescription)) does not fit the model", at: nil,
                                        hint: "resume with the spec and --set options of the run")
                }
                target.storage.copyMemory(from: tensor.storage, byteCount: tensor.count * 4)
                target.markModified()
            }
            progress = restored.progress
            losses = try Self.lossLog(in: finished)
            progressBar.message("\(stage.name): resumed from \(finished) at epoch \(progress.epoch + 1), step \(progress.step)")
        }

        let interpreter = Interpreter(graph: training.graph, optimize: options.optimize)
        // Validation picks the best epoch by emotion UAR: for stages that train the emotion task.
        let trainsEmotion = settings.losses.contains { $0.target == "emotion" }
        let evaluator = trainsEmotion ? Self.emotionOutput(of: settings, in: spec.graph).map {
            Evaluator(graph: spec.graph, emotionOutput: $0.name, scoreScale: $0.scale, optimize: options.optimize)
        } : nil
        let fetch = ["loss"] + training.lossNames.map { "loss.\($0)" } + training.trainedParameters.map { "grad.\($0)" }
        func saveCheckpoint() throws {
            guard writes else { return }
            let encoder = JSONEncoder()
            // Keys in a fixed order: the same run writes the same bytes (runs compare with cmp or diff).
            encoder.outputFormatting = [.sortedKeys]
            let lossLog = String(decoding: (try? encoder.encode(losses)) ?? Data("[]".utf8), as: UTF8.self)
            try TrainingCheckpoint.write(to: checkpointFolder, parameters: parameters, optimizer: optimizer, progress: progress,
                                         extras: ["losses.json": lossLog])
        }
        do {
            if writes { try Folder.create(layout.stageFolder(fold: fold.name, stage: stage.name)) }
        } catch {
            throw TrainingError("\(error)")
        }
        // Data-parallel: the best parameters kept in memory too (ranks other than 0 write nothing to read back).
        var bestParameters: [String: HostTensor]?
        // Data-parallel steps: gradients summed over the processes in buckets, during the backward pass for steps of
        // one batch (with accumulation, once the step's batches have been added up here).
        let buckets = world.isDistributed
            ? GradientBuckets(parameters: training.trainedParameters, sizes: parameters.mapValues(\.count), communicator: world)
            : nil
        let lossNames = ["loss"] + training.lossNames.map { "loss.\($0)" }
        progressBar.restart(at: progress.step)

        while progress.epoch < settings.epochs {
            let plan = batching.trainingPlan(seed: options.seed, epoch: progress.epoch)
            while progress.batchInEpoch < plan.count {
                // One optimizer step over up to `accumulate` batches.
                let group = plan[progress.batchInEpoch..<min(plan.count, progress.batchInEpoch + settings.accumulate)]
                var gradients = [String: HostTensor]()
                buckets?.begin()
                var lossSums = [String: Double]()
                var stepUtterances = 0
                for (micro, items) in group.enumerated() {
                    let counter = UInt64(progress.step * settings.accumulate + micro)
                    var inputs = constantInputs
                    let mode: RunMode
                    if world.isDistributed {
                        // This process's rows of the global batch, padded as the whole batch is, with each loss
                        // term's share of the whole batch's divisor as its scale.
                        let rows = DataParallel.rows(count: items.count, rank: world.rank, size: world.size)
                        stepUtterances += items.count
                        var lengths = [Double](repeating: 0, count: items.count)
                        let local = try batching.load(Array(items[rows]))
                        for row in rows { lengths[row] = Double(local.lengths.int32s[row - rows.lowerBound]) }
                        try world.sum(&lengths)
                        let globalLengths = lengths.map { Int32($0) }
                        let padded = Int(globalLengths.max() ?? 0)
                        guard !rows.isEmpty else { continue }
                        let batch = try batching.load(Array(items[rows]), paddedTo: padded)
                        inputs["wave"] = batch.waves
                        inputs["lengths"] = batch.lengths
                        var wholeTargets = [String: HostTensor]()
                        for targets in training.targets {
                            wholeTargets[targets.input] = targets.perFrame
                                ? Self.frameTargets(targets.label, items: items, lengths: globalLengths, paddedSamples: padded, hop: hop,
                                                    frames: frameCount, pseudoLabels: pseudoLabels, ids: batching)
                                : HostTensor(int32s: targets.label == "gender" ? batching.genders(of: items) : batching.labels(of: items),
                                             shape: [items.count])
                            inputs[targets.input] = DataParallel.slice(wholeTargets[targets.input]!, rows: rows)
                        }
                        var masks = [String: [Float]]()
                        for term in training.terms {
                            guard let scaleInput = term.scale, let targets = wholeTargets[term.targets] else { continue }
                            var mask: [Float]?
                            if let node = term.timeMask {
                                mask = masks[node.name] ?? DataParallel.timeMask(
                                    of: node, seed: options.seed, step: counter, frameLengths: globalLengths.map { Int32(frameCount(Int($0))) },
                                    frames: frameCount(padded))
                                masks[node.name] = mask
                            }
                            let weights = term.classWeights.flatMap { constantInputs[$0] }
                            let whole = DataParallel.divisor(of: term, targets: targets, classWeights: weights, mask: mask, rows: 0..<items.count)
                            let mine = DataParallel.divisor(of: term, targets: targets, classWeights: weights, mask: mask, rows: rows)
                            inputs[scaleInput] = HostTensor(floats: [whole > 0 ? Float(mine / whole) : 0], shape: [])
                        }
                        mode = .training(seed: options.seed, step: counter, firstRow: rows.lowerBound)
                    } else {
                        let batch = try batching.load(items)
                        inputs["wave"] = batch.waves
                        inputs["lengths"] = batch.lengths
                        for targets in training.targets where !targets.perFrame {
                            inputs[targets.input] = targets.label == "gender" ? batch.genders : batch.labels
                        }
                        for targets in frameTargets {
                            inputs[targets.input] = Self.frameTargets(targets.label, items: items,
                                                                      lengths: (0..<items.count).map { batch.lengths.int32s[$0] },
                                                                      paddedSamples: batch.waves.shape[1], hop: hop,
                                                                      frames: frameCount, pseudoLabels: pseudoLabels, ids: batching)
                        }
                        stepUtterances += items.count
                        mode = .training(seed: options.seed, step: counter)
                    }
                    var depositFailure: (any Error)?
                    let results = try interpreter.run(inputs: inputs, parameters: parameters, fetch: fetch, mode: mode,
                                                      onFetched: settings.accumulate > 1 ? nil : buckets.map { buckets in
                                                          { name, tensor in
                                                              guard name.hasPrefix("grad."), depositFailure == nil else { return }
                                                              do { try buckets.deposit(String(name.dropFirst(5)), tensor) } catch { depositFailure = error }
                                                          }
                                                      })
                    if let depositFailure { throw TrainingError("\(world.messagePrefix)\(depositFailure)") }
                    for name in lossNames {
                        let value = Double(results[name]?.floats[0] ?? .nan)
                        guard value.isFinite else {
                            throw TrainingError("stage '\(stage.name)': the loss became \(value) at step \(progress.step) (epoch \(progress.epoch + 1))",
                                                hint: "lower the learning rate or clip_norm; the last checkpoint is in \(checkpointFolder)")
                        }
                        lossSums[name, default: 0] += value
                    }
                    var seen = Set<ObjectIdentifier>()
                    for parameter in training.trainedParameters {
                        guard var gradient = results["grad.\(parameter)"] else { continue }
                        // One tensor can be the gradient of two parameters (a sum passes its gradient through):
                        // give each its own before anything is changed in place.
                        if !seen.insert(ObjectIdentifier(gradient)).inserted {
                            let copy = HostTensor(.f32, shape: gradient.shape)
                            copy.floats.update(from: gradient.floats, count: gradient.count)
                            gradient = copy
                        }
                        if let sum = gradients[parameter] {
                            Elementwise.accumulate(gradient.floats, into: sum.floats, count: sum.count)
                        } else {
                            gradients[parameter] = gradient
                        }
                    }
                }
                if let buckets {
                    // Gradients not handed over during the run (accumulated here, or aliases of a dropped layer's),
                    // then the sums; the losses in one small all-reduce.
                    for parameter in training.trainedParameters {
                        if let gradient = gradients[parameter] { try buckets.deposit(parameter, gradient) }
                    }
                    gradients = try buckets.finish(shapes: parameters.mapValues(\.shape))
                    var values = lossNames.map { lossSums[$0] ?? 0 }
                    do { try world.sum(&values) } catch { throw TrainingError("\(world.messagePrefix)\(error.message)") }
                    for (name, value) in zip(lossNames, values) { lossSums[name] = value }
                }
                if group.count > 1 {
                    for gradient in gradients.values {
                        Elementwise.scale(gradient.floats, by: 1 / Float(group.count), into: gradient.floats, count: gradient.count)
                    }
                }
                let norm = optimizerSettings.clipNorm.map { GradientClipping.clipGlobalNorm(gradients, maxNorm: $0) }
                    ?? GradientClipping.globalNorm(gradients)
                guard norm.isFinite else {
                    throw TrainingError("stage '\(stage.name)': the gradients became \(norm) at step \(progress.step) (epoch \(progress.epoch + 1)); no update was made",
                                        hint: "lower the learning rate or set clip_norm; the last checkpoint is in \(checkpointFolder)")
                }
                let learningRate = schedule.rate(at: progress.step)
                try optimizer.step(parameters: parameters, gradients: gradients, learningRate: learningRate)
                progress.step += 1
                progress.batchInEpoch += group.count
                for (name, sum) in lossSums.sorted(by: { $0.key < $1.key }) {
                    losses.append(LossRecord(step: progress.step, epoch: progress.epoch + 1, stage: stage.name,
                                             name: name == "loss" ? "total" : String(name.dropFirst(5)),
                                             value: sum / Double(group.count), learningRate: learningRate))
                }
                progressBar.update(stage: stage.name, epoch: progress.epoch, epochs: settings.epochs, step: progress.step,
                                   totalSteps: totalSteps, loss: (lossSums["loss"] ?? 0) / Double(group.count),
                                   learningRate: learningRate, stepUtterances: stepUtterances)
                if options.checkpointEvery > 0, progress.step % options.checkpointEvery == 0, progress.batchInEpoch < plan.count {
                    try saveCheckpoint()
                }
            }

            // End of the epoch: validation, the best parameters, a checkpoint.
            var summary = "\(stage.name) epoch \(progress.epoch + 1)/\(settings.epochs): train loss "
                + String(format: "%.4f", losses.last { $0.name == "total" }?.value ?? .nan)
            if let validation, let evaluator {
                let matrix = try evaluator.confusion(validation, parameters: parameters, communicator: world)
                let uar = matrix.uar ?? 0
                summary += ", validation WAR \(String(format: "%.3f", matrix.war ?? 0)) UAR \(String(format: "%.3f", uar))"
                if progress.bestValidationUAR.map({ uar > $0 }) ?? true {
                    progress.bestValidationUAR = uar
                    progress.bestEpoch = progress.epoch + 1
                    if writes { try Self.writeParameters(parameters, to: layout.best(fold: fold.name, stage: stage.name)) }
                    if world.isDistributed { bestParameters = parameters.mapValues(Self.copy) }
                    summary += " (best)"
                }
            }
            progressBar.message(summary)
            progress.epoch += 1
            progress.batchInEpoch = 0
            try saveCheckpoint()
        }

        // What the stage hands on: the best validated parameters, or the last ones.
        var handed = parameters
        if progress.bestEpoch != nil {
            // In memory when this process kept them; else from the file (a resumed run's best may predate it).
            handed = try bestParameters ?? Safetensors.read(layout.best(fold: fold.name, stage: stage.name))
            for (name, tensor) in parameters where handed[name] == nil { handed[name] = tensor }
        }
        if writes { try Self.writeParameters(handed, to: layout.final(fold: fold.name, stage: stage.name)) }
        return Outcome(parameters: handed, losses: losses, bestValidationUAR: progress.bestValidationUAR, bestEpoch: progress.bestEpoch)
    }

    /// Samples per frame: the smallest step that adds a frame (320 for HuBERT's conv stack).
    static func hop(_ frames: (Int) -> Int) -> Int {
        var first = 1
        while frames(first) < 1, first < 1 << 20 { first += 1 }
        var step = 1
        while frames(first + step) < 2, step < 1 << 20 { step += 1 }
        return step
    }

    /// `[B, T]` frame targets of a batch whose rows hold `lengths` samples padded to `paddedSamples`: each item's
    /// frames of the whole utterance's labels from its (aligned) crop start on, -100 (ignored) past its valid frames.
    static func frameTargets(
        _ label: String, items: [BatchItem], lengths: [Int32], paddedSamples: Int, hop: Int, frames: (Int) -> Int,
        pseudoLabels: [PseudoLabels], ids: Batching
    ) -> HostTensor {
        let width = frames(paddedSamples)
        var values = [Int32](repeating: -100, count: items.count * width)
        for (row, item) in items.enumerated() {
            let id = ids.utterances[item.index].id
            guard let labels = pseudoLabels.lazy.compactMap({ $0.labels(of: id, target: label) }).first else { continue }
            let first = item.start / max(1, hop), valid = min(width, frames(Int(lengths[row])))
            for t in 0..<valid where labels.startIndex + first + t < labels.endIndex {
                values[row * width + t] = labels[labels.startIndex + first + t]
            }
        }
        return HostTensor(int32s: values, shape: [items.count, width])
    }

    /// Class weights of a loss: `balanced` is `n / (C * n_c)` over the training split (scikit-learn's rule; a class
    /// absent from it gets 0), explicit weights as given.
    func classWeights(_ weights: TrainingGraph.ClassWeights, counts: [Int]) throws(TrainingError) -> HostTensor {
        switch weights.rule {
        case .none: return HostTensor(floats: [Float](repeating: 1, count: weights.classes), shape: [weights.classes])
        case let .explicit(values): return HostTensor(floats: values.map(Float.init), shape: [weights.classes])
        case .balanced:
            guard counts.count == weights.classes else {
                throw TrainingError("loss '\(weights.loss)' has \(weights.classes) classes, but the data has \(counts.count) (config.data.classes)",
                                    at: stage.location)
            }
            guard weights.label == "emotion" else {
                throw TrainingError("loss '\(weights.loss)': balanced class weights are computed for the emotion labels only", at: stage.location)
            }
            let total = counts.reduce(0, +)
            let values = counts.map { $0 > 0 ? Float(total) / Float(counts.count * $0) : 0 }
            return HostTensor(floats: values, shape: [weights.classes])
        }
    }

    /// Parameters to a safetensors file (written atomically), sorted by name.
    static func copy(_ tensor: HostTensor) -> HostTensor {
        let copy = HostTensor(tensor.dtype, shape: tensor.shape)
        copy.storage.copyMemory(from: tensor.storage, byteCount: tensor.count * 4)
        return copy
    }

    static func writeParameters(_ parameters: [String: HostTensor], to path: String) throws {
        try Safetensors.write(parameters.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, to: path)
    }
}

import Collectives
import FileSystem
import Foundation
import GraphIR
import GraphSpec
import Kernels
import Runtime

/// A whole training run: the spec's stages in order on each chosen fold (leave-one-session-out), the test fold
/// evaluated with what the last stage hands on, and the report (per fold and, over several folds, mean ± std and
/// pooled).
public struct TrainingRun {
    public struct Options {
        public var specPath: String
        public var overrides: [String]
        public var dataPath: String
        public var format: CorpusFormat?
        /// Folds by 1-based index or name (`1`, `Session3`); empty: all.
        public var folds: [String]
        /// Stages to run, by name; empty: all, in order.
        public var stages: [String]
        /// A HuggingFace checkpoint directory for stages that start `pretrained`.
        public var pretrained: String?
        public var layout: RunLayout
        public var runner: StageRunner.Options

        public init(specPath: String, overrides: [String], dataPath: String, format: CorpusFormat? = nil, folds: [String] = [],
                    stages: [String] = [], pretrained: String? = nil, layout: RunLayout, runner: StageRunner.Options) {
            self.specPath = specPath
            self.overrides = overrides
            self.dataPath = dataPath
            self.format = format
            self.folds = folds
            self.stages = stages
            self.pretrained = pretrained
            self.layout = layout
            self.runner = runner
        }
    }

    public struct Result {
        public var summary: FoldSummary
        public var reportFolder: String
        /// Per fold: the validation UAR of each trained stage's best epoch.
        public var notes: [String]
    }

    public let options: Options

    public init(options: Options) { self.options = options }

    /// What every command on a run needs: the spec (with a HF checkpoint's sizes), its data settings, the chosen
    /// folds.
    struct Prepared {
        var spec: CompiledSpec
        var data: DataSettings
        var overrides: [String]
        var pretrained: HFCheckpoint?
        var folds: [Fold]
    }

    func prepare() throws -> Prepared {
        // The spec, with a HF checkpoint's sizes when one is given (under the backbone import's prefix).
        var pretrained: HFCheckpoint?
        var overrides = options.overrides
        if let directory = options.pretrained {
            let checkpoint = try HFCheckpoint.load(directory: directory)
            pretrained = checkpoint
            overrides = checkpoint.configOverrides.map { "backbone." + $0 } + overrides
        }
        let spec: CompiledSpec
        do {
            spec = try SpecCompiler.compile(path: options.specPath, overrides: overrides)
        } catch {
            guard let pretrained else { throw error }
            throw error.noting("the backbone's sizes come from \(pretrained.configPath): \(pretrained.configOverrides.joined(separator: ", "))")
        }
        guard let data = spec.data else {
            throw TrainingError("\(options.specPath) has no config.data.classes: training needs the classes and the label map")
        }
        // Data and folds: leave one session out, a speaker-disjoint validation split inside the training sessions.
        let format = try options.format ?? CorpusFormat.detect(options.dataPath)
        let corpus = try format.read(options.dataPath, labels: LabelMap(data.labels, classes: data.classes))
        for line in SkippedSummary.lines(for: corpus) { options.runner.progress.message(line) }
        let allFolds = try Folds.leaveOneSessionOut(corpus.utterances, validation: ValidationSplit(fraction: 0.1, seed: options.runner.seed))
        return Prepared(spec: spec, data: data, overrides: overrides, pretrained: pretrained, folds: try chosenFolds(allFolds))
    }

    /// Runs only the k-means stages among `options.stages` (all of the spec's when empty), for each chosen fold, from
    /// the parameters their `from` stage left in the run folder; returns the labels per fold and stage.
    public func label() throws -> [(fold: String, stage: String, labels: PseudoLabels)] {
        let prepared = try prepare()
        let stages = try chosenStages(prepared.spec).filter { if case .kmeans = $0.kind { true } else { false } }
        guard !stages.isEmpty else { throw TrainingError("\(options.specPath) has no k-means stage to run") }
        let locks = try lockFolders(prepared.folds)
        defer { withExtendedLifetime(locks) {} }
        try checkSharedFolder()
        var results = [(fold: String, stage: String, labels: PseudoLabels)]()
        for fold in prepared.folds {
            try fold.checkNoLeakage()
            for stage in stages {
                guard case let .kmeans(kmeans) = stage.kind else { continue }
                let model = try finishedParameters(of: kmeans.from, fold: fold, handedOn: [:], spec: prepared.spec, for: stage)
                var labeler = try PseudoLabeler(spec: prepared.spec, stage: stage, layout: options.layout, progress: options.runner.progress,
                                                optimize: options.runner.optimize)
                labeler.writesCache = options.runner.communicator.rank == 0
                labeler.communicator = options.runner.communicator
                results.append((fold.name, stage.name, try labeler.labels(fold: fold, data: fold.trainingOnly, parameters: model,
                                                                          classes: prepared.data.classes)))
            }
        }
        return results
    }

    /// The run folder and the chosen folds' folders, made and locked for this process: the run folder shared
    /// (separate processes may train different folds of one run), each fold's folder exclusively. All are taken
    /// before anything is written, so a second process on the same folds is refused at once and changes nothing.
    func lockFolders(_ folds: [Fold]) throws -> [FolderLock] {
        // A data-parallel job's rank 0 writes and locks for all its processes.
        guard options.runner.communicator.rank == 0 else { return [] }
        do {
            try Folder.create(options.layout.root)
            var locks = [try FolderLock(options.layout.root, mode: .shared)]
            for fold in folds {
                let folder = options.layout.foldFolder(fold.name)
                try Folder.create(folder)
                locks.append(try FolderLock(folder, mode: .exclusive))
            }
            return locks
        } catch {
            throw TrainingError("\(error)")
        }
    }

    /// Under mpirun, every process must read the run folder rank 0 writes: each decides from its files whether a
    /// stage is finished, resumes from its checkpoints and reuses its pseudo-label cache, and processes that decided
    /// otherwise would no longer meet in their collective calls. Rank 0 writes a token there; every process reads it
    /// back or the job is refused, naming the processes that cannot.
    func checkSharedFolder() throws {
        let world = options.runner.communicator
        guard world.isDistributed else { return }
        let token = options.layout.root + "/.gmptl-job"
        var expected = [UInt8]()
        do {
            if world.rank == 0 {
                let text = "\(UUID().uuidString) rank 0 of \(world.size), process \(ProcessInfo.processInfo.processIdentifier)\n"
                try AtomicFile.write(text, to: token)
                expected = Array(text.utf8)
            }
            try world.broadcast(&expected)
            var blind = [Double](repeating: 0, count: world.size)
            blind[world.rank] = FileManager.default.contents(atPath: token).map(Array.init) == expected ? 0 : 1
            try world.sum(&blind)
            let ranks = blind.indices.filter { blind[$0] > 0 }
            guard ranks.isEmpty else {
                throw TrainingError("rank\(ranks.count == 1 ? "" : "s") \(ranks.map(String.init).joined(separator: ", ")) of \(world.size) cannot read \(token), which rank 0 wrote",
                                    hint: "under mpirun, --out must be a folder on a file system every process reads (checkpoints, --resume and the pseudo-label cache depend on it)")
            }
        } catch let error as CommunicationError {
            throw TrainingError("\(world.messagePrefix)\(error.message)")
        }
    }

    public func run() throws -> Result {
        let progress = options.runner.progress
        let prepared = try prepare()
        let (spec, data, overrides, pretrained, folds) = (prepared.spec, prepared.data, prepared.overrides, prepared.pretrained, prepared.folds)
        let stages = try chosenStages(spec)
        let locks = try lockFolders(folds)
        defer { withExtendedLifetime(locks) {} }
        try checkSharedFolder()
        let description = runDescription(classes: data.classes, overrides: overrides)
        // A run folder holds one run: other options than its run.json's are refused, resumed or not (folds trained
        // by separate processes share the folder with the same options).
        if FileManager.default.fileExists(atPath: options.layout.runFile) {
            let existing = try RunDescription(contentsOf: options.layout.runFile)
            guard existing == RunDescription(spec: specFile, overrides: overrides, data: dataFolder, classes: data.classes,
                                             seed: options.runner.seed) else {
                throw TrainingError("\(options.layout.runFile) was made with another spec, --set options, corpus or seed than this command's",
                                    hint: options.runner.resume
                                        ? "resume with the run's own options (see run.json), or train into a new --out folder"
                                        : "train into a new --out folder (or remove this one): its results would be mixed with this run's")
            }
            let core = BLASCore.selection.core
            if let before = existing.openBLASCore, before != core {
                progress.message("note: the run started with OpenBLAS's \(before) kernels and resumes with \(core): "
                                 + "its results will differ in the last bits from a run that never stopped")
            }
        }
        let writes = options.runner.communicator.rank == 0
        if writes { try AtomicFile.write(description, to: options.layout.runFile) }

        var confusions = [(name: String, confusion: ConfusionMatrix)]()
        var allLosses = [LossRecord]()
        var notes = [String]()
        for fold in folds {
            try fold.checkNoLeakage()
            progress.message("fold \(fold.name): \(fold.train.count) training, \(fold.validation.count) validation, \(fold.test.count) test utterances")
            var parameters = [String: HostTensor]()
            var foldLosses = [LossRecord]()
            var handedOn = [String: [String: HostTensor]]()
            // The test fold, evaluated after each training stage (for the record: nothing is chosen by it); the last
            // stage's figures are the fold's result.
            let test = try Batching.readingLengths(fold.test, classes: data.classes, options: Batching.Options(batchSize: 8))
            var lastTest: ConfusionMatrix?
            var pseudoLabels = [PseudoLabels]()
            for stage in stages {
                guard stage.enabled else {
                    progress.message("\(stage.name): off (its when: switch is false), skipped")
                    continue
                }
                guard case let .train(settings) = stage.kind else {
                    guard case let .kmeans(kmeans) = stage.kind else { continue }
                    let model = try finishedParameters(of: kmeans.from, fold: fold, handedOn: handedOn, spec: spec, for: stage)
                    var labeler = try PseudoLabeler(spec: spec, stage: stage, layout: options.layout, progress: progress,
                                                    optimize: options.runner.optimize)
                    labeler.writesCache = writes
                    labeler.communicator = options.runner.communicator
                    pseudoLabels.append(try labeler.labels(fold: fold, data: fold.trainingOnly, parameters: model, classes: data.classes))
                    continue
                }
                let previousStage = spec.stages.prefix { $0.name != stage.name }.last { stage in
                    if case .train = stage.kind { stage.enabled } else { false }
                }?.name
                parameters = try initialParameters(for: stage, settings, spec: spec, fold: fold, pretrained: pretrained, handedOn: handedOn,
                                                   previousStage: previousStage)
                let runner = try StageRunner(spec: spec, stage: stage, fold: fold, classes: data.classes, layout: options.layout,
                                             options: options.runner)
                let finalPath = options.layout.final(fold: fold.name, stage: stage.name)
                let outcome: StageRunner.Outcome
                if options.runner.resume, FileManager.default.fileExists(atPath: finalPath) {
                    progress.message("\(stage.name): already finished in \(options.layout.stageFolder(fold: fold.name, stage: stage.name))")
                    var finished = try Safetensors.read(finalPath)
                    for (name, tensor) in parameters where finished[name] == nil { finished[name] = tensor }
                    // Its loss log and best epoch from its last checkpoint.
                    let checkpoint = options.layout.checkpoint(fold: fold.name, stage: stage.name)
                    let losses = FileManager.default.fileExists(atPath: checkpoint) ? try StageRunner.lossLog(in: checkpoint) : []
                    let record = FileManager.default.contents(atPath: checkpoint + "/" + TrainingCheckpoint.progressFile)
                        .flatMap { try? JSONDecoder().decode(TrainingProgress.self, from: $0) }
                    outcome = StageRunner.Outcome(parameters: finished, losses: losses, bestValidationUAR: record?.bestValidationUAR,
                                                  bestEpoch: record?.bestEpoch)
                } else {
                    for line in settings.description(stage: stage.name) { progress.message(line) }
                    outcome = try runner.run(initial: parameters, pseudoLabels: pseudoLabels)
                }
                handedOn[stage.name] = outcome.parameters
                foldLosses += outcome.losses
                var note = "\(fold.name) \(stage.name):"
                if let uar = outcome.bestValidationUAR, let epoch = outcome.bestEpoch {
                    note += " best validation UAR \(String(format: "%.3f", uar)) at epoch \(epoch);"
                }
                lastTest = nil
                if let output = StageRunner.emotionOutput(of: settings, in: spec.graph) {
                    let evaluator = Evaluator(graph: spec.graph, emotionOutput: output.name, scoreScale: output.scale,
                                              optimize: options.runner.optimize)
                    let confusion = try evaluator.confusion(test, parameters: outcome.parameters, communicator: options.runner.communicator)
                    note += " test WAR \(String(format: "%.3f", confusion.war ?? 0)), UAR \(String(format: "%.3f", confusion.uar ?? 0)) (\(output.name))"
                    lastTest = confusion
                }
                notes.append(note)
            }
            guard let confusion = lastTest else {
                throw TrainingError("no training stage with an emotion output ran last: nothing to evaluate")
            }
            progress.message("\(fold.name) test: WAR \(String(format: "%.3f", confusion.war ?? 0)), UAR \(String(format: "%.3f", confusion.uar ?? 0)) (\(confusion.total) utterances)")
            confusions.append((fold.name, confusion))
            allLosses += foldLosses
            let foldSummary = try FoldSummary(classes: data.classes, folds: [(fold.name, confusion)])
            let foldReport = options.layout.report(fold: fold.name)
            if writes {
                try Report.write(foldSummary, losses: foldLosses, to: foldReport)
                try writeResolvedSpec(spec, overrides: overrides, to: foldReport)
            }
        }
        let summary = try FoldSummary(classes: data.classes, folds: confusions)
        var reportFolder = options.layout.report(fold: folds[0].name)
        if folds.count > 1 {
            reportFolder = options.layout.root + "/report"
            if writes {
                try Report.write(summary, losses: allLosses, to: reportFolder)
                try writeResolvedSpec(spec, overrides: overrides, to: reportFolder)
            }
        }
        return Result(summary: summary, reportFolder: reportFolder, notes: notes)
    }

    /// The parameters a training stage handed on for `fold`: from this run, or its `final.safetensors`.
    func finishedParameters(
        of name: String, fold: Fold, handedOn: [String: [String: HostTensor]], spec: CompiledSpec, for stage: Stage
    ) throws -> [String: HostTensor] {
        let finished: [String: HostTensor]
        if let parameters = handedOn[name] { finished = parameters } else {
            let path = options.layout.final(fold: fold.name, stage: name)
            guard FileManager.default.fileExists(atPath: path) else {
                throw TrainingError("stage '\(stage.name)' taps the model of stage '\(name)', which has not run for fold \(fold.name) in \(options.layout.root)",
                                    at: stage.location, hint: "run it first (--stages \(name),\(stage.name))")
            }
            finished = try Safetensors.read(path)
        }
        // The model's parameters only (not state such as k-means centroids), the same from this run or from disk, so
        // that the k-means cache key does not depend on where they came from; any the stage lacks start at random.
        var parameters = [String: HostTensor](), missing = Set<String>()
        for node in spec.graph.parameterNodes {
            guard case let .parameter(name, dims) = node.op else { continue }
            if let tensor = finished[name], tensor.shape == dims.map({ $0.constantValue ?? 0 }) { parameters[name] = tensor } else { missing.insert(name) }
        }
        if !missing.isEmpty {
            parameters.merge(ParameterInitializer.initialize(spec.graph, seed: options.runner.seed, only: missing)) { kept, _ in kept }
        }
        return parameters
    }

    /// The stages to run, in spec order.
    func chosenStages(_ spec: CompiledSpec) throws(TrainingError) -> [Stage] {
        guard !options.stages.isEmpty else { return spec.stages }
        let names = spec.stages.map(\.name)
        for name in options.stages where !names.contains(name) {
            throw TrainingError("no stage '\(name)' in \(options.specPath)", hint: Suggestion.hint(for: name, in: names) ?? "stages: \(names.joined(separator: ", "))")
        }
        return spec.stages.filter { options.stages.contains($0.name) }
    }

    /// The folds asked for, by 1-based index or name.
    func chosenFolds(_ folds: [Fold]) throws(TrainingError) -> [Fold] {
        guard !options.folds.isEmpty, options.folds != ["all"] else { return folds }
        var chosen = [Fold]()
        for key in options.folds {
            if let index = Int(key), (1...folds.count).contains(index) {
                chosen.append(folds[index - 1])
            } else if let fold = folds.first(where: { $0.name == key }) {
                chosen.append(fold)
            } else {
                throw TrainingError("no fold '\(key)': the folds are 1...\(folds.count) (\(folds.map(\.name).joined(separator: ", ")))")
            }
        }
        return chosen
    }

    /// Where a stage starts: a HF checkpoint (heads at random), random, or an earlier stage's result; parameters
    /// the source lacks start at random from the seed.
    func initialParameters(
        for stage: Stage, _ settings: TrainStage, spec: CompiledSpec, fold: Fold, pretrained: HFCheckpoint?,
        handedOn: [String: [String: HostTensor]], previousStage: String?
    ) throws -> [String: HostTensor] {
        var parameters = ParameterInitializer.initialize(spec.graph, seed: options.runner.seed)
        let progress = options.runner.progress
        var initialization = settings.initialization
        if case .previous = initialization {
            // The last training stage before this one that is on (with `when:` switches, it may not be the adjacent one).
            guard let previousStage else {
                throw TrainingError("stage '\(stage.name)' starts from the previous training stage, but none is on before it", at: stage.location)
            }
            initialization = .stage(previousStage)
        }
        switch initialization {
        case .previous: break
        case .random:
            progress.message("\(stage.name): every parameter starts at random (seed \(options.runner.seed))")
        case .pretrained:
            guard let pretrained else {
                progress.message("\(stage.name): no --checkpoint given, so the backbone starts at random: no pre-trained weights ship with gmptl")
                break
            }
            var loaded = 0
            for (name, tensor) in pretrained.tensors where parameters[name] != nil {
                guard parameters[name]?.shape == tensor.shape else {
                    throw TrainingError("checkpoint tensor '\(name)' is \(tensor.typeDescription), the model's is f32\(parameters[name]?.shape ?? [])")
                }
                parameters[name] = tensor
                loaded += 1
            }
            progress.message("\(stage.name): \(loaded) tensors from \(pretrained.directory); \(parameters.count - loaded) start at random")
        case let .stage(previous):
            var source = handedOn[previous]
            let path = options.layout.final(fold: fold.name, stage: previous)
            if source == nil, FileManager.default.fileExists(atPath: path) { source = try Safetensors.read(path) }
            guard let source else {
                throw TrainingError("stage '\(stage.name)' starts from stage '\(previous)', which has not run for fold \(fold.name) in \(options.layout.root)",
                                    at: stage.location, hint: "run it first (--stages \(previous),\(stage.name))")
            }
            var taken = 0
            for (name, tensor) in source where parameters[name]?.shape == tensor.shape {
                parameters[name] = tensor
                taken += 1
            }
            progress.message("\(stage.name): starts from stage '\(previous)' (\(taken) tensors; \(parameters.count - taken) start at random)")
        }
        return parameters
    }

    var specFile: String { URL(fileURLWithPath: options.specPath).standardizedFileURL.path }
    var dataFolder: String { URL(fileURLWithPath: options.dataPath).standardizedFileURL.path }

    /// run.json: what the run is made from (compared on --resume), and the machine it ran on (recorded, not compared).
    func runDescription(classes: [String], overrides: [String]) -> String {
        let selection = BLASCore.selection
        let object: JSONText = .object([
            "spec": .string(specFile),
            "overrides": .array(overrides.map(JSONText.string)),
            "data": .string(dataFolder),
            "classes": .array(classes.map(JSONText.string)),
            "seed": .number("\(options.runner.seed)"),
            "machine": .object([
                "cpu": .string(selection.cpu.description),
                "cpu_features": .array(selection.cpu.features.list.map(JSONText.string)),
                "openblas": .string(BLASCore.configuration),
                "openblas_core": .string(selection.core),
                "openblas_core_origin": .string(selection.origin),
                "openblas_core_reason": .string(selection.reason),
                "threads": .number("\(KernelThreads.count)"),
            ]),
        ])
        return object.rendered(indent: "") + "\n"
    }

    /// The spec as the run resolved it: the overrides and the compiled graph with every size concrete.
    func writeResolvedSpec(_ spec: CompiledSpec, overrides: [String], to folder: String) throws {
        var text = "# \(options.specPath)\n# overrides: \(overrides.isEmpty ? "none" : overrides.joined(separator: " "))\n\n"
        text += spec.graph.text
        try AtomicFile.write(text, to: folder + "/resolved_spec.txt")
        if let source = try? String(contentsOfFile: options.specPath, encoding: .utf8) {
            try AtomicFile.write(source, to: folder + "/spec.yaml")
        }
    }
}

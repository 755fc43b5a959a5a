import Foundation
import GraphIR
import GraphSpec
import Runtime

/// A trained model from a run folder: the spec as the run compiled it (`run.json`) and the parameters a stage
/// handed on, ready for prediction and evaluation.
public struct TrainedModel {
    public var spec: CompiledSpec
    public var classes: [String]
    public var parameters: [String: HostTensor]
    public var stage: Stage
    public var evaluator: Evaluator
    /// The run folder, the fold and the stage the parameters come from.
    public var runFolder: String
    public var fold: String
    /// The corpus the run trained on.
    public var dataPath: String

    /// Loads from a run folder (its first fold, last finished stage), a fold folder, a stage folder
    /// (`<run>/<fold>/<stage>`) or a parameters file in one.
    public static func load(_ path: String) throws -> TrainedModel {
        let files = FileManager.default
        var url = URL(fileURLWithPath: path).standardizedFileURL
        var parametersFile: String?
        if url.pathExtension == "safetensors" {
            parametersFile = url.path
            url.deleteLastPathComponent()
        }
        // The run folder is the nearest folder up with run.json.
        var run = url
        var below = [String]()
        while !files.fileExists(atPath: run.appendingPathComponent("run.json").path) {
            guard run.pathComponents.count > 1 else {
                throw TrainingError("\(path) is not in a run folder of gmptl train (no run.json here or above)")
            }
            below.insert(run.lastPathComponent, at: 0)
            run.deleteLastPathComponent()
        }
        let description = try RunDescription(contentsOf: run.appendingPathComponent("run.json").path)
        let spec = try SpecCompiler.compile(path: description.spec, overrides: description.overrides)
        let layout = RunLayout(root: run.path)
        let fold: String
        if let first = below.first { fold = first } else {
            // Fold folders: the folders of the run but its overall report.
            let folders = (try? files.contentsOfDirectory(atPath: run.path))?.filter { name in
                var isDirectory: ObjCBool = false
                return name != "report" && files.fileExists(atPath: run.appendingPathComponent(name).path, isDirectory: &isDirectory)
                    && isDirectory.boolValue
            }.sorted() ?? []
            guard let first = folders.first else { throw TrainingError("\(run.path) has no fold folders: the run has not finished a stage") }
            fold = first
        }
        let trained = spec.stages.filter { if case .train = $0.kind { true } else { false } }
        let stage: Stage
        if below.count >= 2, let named = trained.first(where: { $0.name == below[1] }) {
            stage = named
        } else if let last = trained.last(where: { files.fileExists(atPath: layout.final(fold: fold, stage: $0.name)) }) {
            stage = last
        } else {
            throw TrainingError("no finished stage in \(layout.foldFolder(fold)) (no final.safetensors)")
        }
        let file = parametersFile ?? layout.final(fold: fold, stage: stage.name)
        guard case let .train(settings) = stage.kind, let output = StageRunner.emotionOutput(of: settings, in: spec.graph) else {
            throw TrainingError("stage '\(stage.name)' has no emotion output to predict with")
        }
        return TrainedModel(spec: spec, classes: description.classes, parameters: try Safetensors.read(file), stage: stage,
                            evaluator: Evaluator(graph: spec.graph, emotionOutput: output.name, scoreScale: output.scale),
                            runFolder: run.path, fold: fold, dataPath: description.data)
    }
}

/// `run.json`: what a run was made from, and the OpenBLAS core it last ran with.
struct RunDescription: Equatable {
    var spec: String
    var overrides: [String]
    var data: String
    var classes: [String]
    /// Nil in run folders from before the seed was recorded.
    var seed: UInt64?
    /// The machine's record; not part of what makes two runs the same.
    var openBLASCore: String?

    static func == (a: RunDescription, b: RunDescription) -> Bool {
        a.spec == b.spec && a.overrides == b.overrides && a.data == b.data && a.classes == b.classes && a.seed == b.seed
    }

    init(spec: String, overrides: [String], data: String, classes: [String], seed: UInt64?) {
        self.spec = spec
        self.overrides = overrides
        self.data = data
        self.classes = classes
        self.seed = seed
    }

    init(contentsOf path: String) throws(TrainingError) {
        guard let data = FileManager.default.contents(atPath: path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let spec = object["spec"] as? String, let overrides = object["overrides"] as? [String],
              let corpus = object["data"] as? String, let classes = object["classes"] as? [String] else {
            throw TrainingError("\(path): not a run description of gmptl train (spec, overrides, data, classes)")
        }
        self.init(spec: spec, overrides: overrides, data: corpus, classes: classes, seed: (object["seed"] as? NSNumber)?.uint64Value)
        openBLASCore = (object["machine"] as? [String: Any])?["openblas_core"] as? String
    }
}

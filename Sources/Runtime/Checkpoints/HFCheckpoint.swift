import Foundation
import GraphIR

/// A HuggingFace HuBERT checkpoint directory (what `save_pretrained` writes: `config.json` and
/// `model.safetensors`), read as `--set` overrides for graphs/hubert_base.yaml and backbone tensors under the
/// graph's parameter names.
///
/// Works for `HubertModel`, `HubertForSequenceClassification` and `HubertForCTC` checkpoints: the `hubert.` prefix
/// of the task models is stripped and their heads are left out (`droppedTensors`). Checkpoint variants the graph
/// does not compute (hubert-large's layer-norm conv stack and pre-LN layers, other activations) are refused by
/// name; see `HFCheckpoint+Config.swift`.
public struct HFCheckpoint {
    /// The directory read.
    public var directory: String
    /// `key=value` overrides of graphs/hubert_base.yaml's config (`encoder.hidden=768`, ...), for
    /// `SpecCompiler.compile(path:overrides:)` or `gmptl compile --set`.
    public var configOverrides: [String]
    /// The config.json the overrides were read from.
    public var configPath: String { (directory.hasSuffix("/") ? directory : directory + "/") + "config.json" }
    /// The backbone's tensors under the graph's names (`encoder.layers.0.attention.q_proj.weight`).
    public var tensors: [String: HostTensor]
    /// Tensors of the file outside the backbone (task heads: `projector.*`, `classifier.*`, `lm_head.*`), by their
    /// names in the file, sorted; they are not read.
    public var droppedTensors: [String]

    public init(directory: String, configOverrides: [String], tensors: [String: HostTensor], droppedTensors: [String]) {
        self.directory = directory
        self.configOverrides = configOverrides
        self.tensors = tensors
        self.droppedTensors = droppedTensors
    }

    /// Reads `directory/config.json` and `directory/model.safetensors`.
    public static func load(directory: String) throws(CheckpointError) -> HFCheckpoint {
        let files = FileManager.default
        var isDirectory: ObjCBool = false
        guard files.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw CheckpointError("no such directory", file: directory)
        }
        guard isDirectory.boolValue else {
            throw CheckpointError(
                "not a directory (a HuggingFace checkpoint is a directory with config.json and model.safetensors)",
                file: directory)
        }
        let folder = directory.hasSuffix("/") ? directory : directory + "/"

        let configPath = folder + "config.json"
        guard files.fileExists(atPath: configPath) else {
            throw CheckpointError(
                "missing (a HuggingFace checkpoint directory has config.json and model.safetensors)", file: configPath)
        }
        let overrides = try configOverrides(contentsOf: configPath)

        let weightsPath = folder + "model.safetensors"
        guard files.fileExists(atPath: weightsPath) else {
            throw missingWeights(directory: directory, folder: folder)
        }
        var keep: [String: String] = [:]  // file name -> graph name
        var sources: [String: String] = [:]  // graph name -> file name
        var dropped: [String] = []
        var collisions: [Diagnostic] = []
        for info in try Safetensors.readHeader(weightsPath) {
            guard let name = backboneName(info.name) else {
                dropped.append(info.name)
                continue
            }
            if let other = sources[name] {
                collisions += CheckpointError(
                    "tensors '\(other)' and '\(info.name)' are both the backbone's '\(name)'", file: weightsPath
                ).diagnostics
            }
            sources[name] = info.name
            keep[info.name] = name
        }
        guard collisions.isEmpty else { throw CheckpointError(collisions) }

        var tensors: [String: HostTensor] = [:]
        for (fileName, tensor) in try Safetensors.read(weightsPath, only: Set(keep.keys)) {
            if let name = keep[fileName] { tensors[name] = tensor }
        }
        return HFCheckpoint(directory: directory, configOverrides: overrides, tensors: tensors, droppedTensors: dropped.sorted())
    }

    /// The error for a directory without model.safetensors, saying what is there instead and how to convert it.
    private static func missingWeights(directory: String, folder: String) -> CheckpointError {
        let files = FileManager.default
        let weightsPath = folder + "model.safetensors"
        let output = (directory.hasSuffix("/") ? String(directory.dropLast()) : directory) + "-safetensors"
        let convert = "python -c \"from transformers import HubertModel; "
            + "HubertModel.from_pretrained('\(directory)').save_pretrained('\(output)', safe_serialization=True)\""
        if files.fileExists(atPath: folder + "pytorch_model.bin") {
            return CheckpointError(
                "missing; the weights are in pytorch_model.bin, a PyTorch pickle, and PyTorch pickles are not read",
                file: weightsPath, hint: "convert it to safetensors with\n    \(convert)\n  and load '\(output)'")
        }
        if files.fileExists(atPath: folder + "model.safetensors.index.json") {
            return CheckpointError(
                "missing; the weights are sharded (model.safetensors.index.json), which is not read",
                file: weightsPath, hint: "save them as one file with\n    \(convert)\n  and load '\(output)'")
        }
        return CheckpointError(
            "missing (a HuggingFace checkpoint directory has config.json and model.safetensors)", file: weightsPath)
    }
}

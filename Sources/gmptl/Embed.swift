import ArgumentParser
import Audio
import Foundation
import Compiler
import GraphIR
import GraphSpec
import Kernels
import Runtime
import SER

/// `gmptl embed`: hidden states of a HuggingFace HuBERT checkpoint for audio files, into one safetensors file.
struct Embed: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a HuBERT checkpoint over audio files and save the hidden states.",
        discussion: """
            Writes one tensor per utterance and layer, named <file stem>/hidden.<layer>, of shape [frames, hidden], \
            with transformers' hidden_states indexing (0 is the encoder input after the positional conv and layer \
            norm, i the output of layer i). Utterances of different lengths may share a batch: padding does not \
            change their hidden states. Audio must be 16 kHz (any channel count; channels are averaged).
            """)

    @Option(help: "A HuggingFace checkpoint directory (config.json + model.safetensors).")
    var checkpoint: String

    @Option(help: "Hidden states to save: comma-separated layer numbers, or all.")
    var layers: String = "all"

    @Option(help: "The safetensors file to write.")
    var out: String

    @Option(help: "Utterances per batch.")
    var batch: Int = 1

    @Option(help: "Kernel threads (default: all cores).")
    var threads: Int?

    @Option(help: "The backbone spec (default: graphs/hubert_base.yaml of this checkout).")
    var spec: String?

    @Flag(name: .customLong("no-optimize"), help: "Run the unoptimised plans (no simplification), for comparison.")
    var noOptimize = false

    @Flag(help: "Normalise each utterance to zero mean and unit variance first (models fine-tuned that way).")
    var normalize = false

    @Argument(help: "Audio files (WAV, FLAC, OGG, ...; resampled to 16 kHz).")
    var audio: [String]

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1, got \(batch)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        guard !audio.isEmpty else { throw ValidationError("give at least one audio file") }
        let stems = audio.map(Self.stem)
        if let duplicate = Dictionary(grouping: stems, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw ValidationError("two audio files have the stem '\(duplicate)'; tensor names would collide")
        }
    }

    static func stem(_ path: String) -> String { DataFiles.stem(path) }

    func run() throws {
        if let threads { KernelThreads.set(threads) }
        do {
            try embed()
        } catch let error as any DiagnosticError {
            printError(Diagnostic.render(error))
            throw ExitCode(1)
        }
    }

    private func embed() throws {
        let checkpoint = try HFCheckpoint.load(directory: self.checkpoint)
        let specPath = try spec ?? Self.defaultSpec()
        let graph: Graph
        do {
            graph = try SpecCompiler.compile(path: specPath, overrides: checkpoint.configOverrides).graph
        } catch {
            throw error.noting("the sizes come from \(checkpoint.configPath): \(checkpoint.configOverrides.joined(separator: ", "))")
        }
        let hidden = graph.taps.filter { $0.name.hasPrefix("hidden.") }.count
        let wanted = try layerList(count: hidden)

        // Parameters the inference graph reads (the time-mask embedding is not one of them).
        let inference = graph.inferenceForm()
        let needed = Set(inference.parameterNodes.compactMap { node -> String? in if case let .parameter(name, _) = node.op { name } else { nil } })
        let store = ParameterStore(checkpoint.tensors.filter { needed.contains($0.key) || !graphParameters(graph).contains($0.key) })
        _ = try store.bind(to: inference, source: self.checkpoint)
        let parameters = checkpoint.tensors.filter { needed.contains($0.key) }

        let interpreter = Interpreter(graph: graph, optimize: !noOptimize)
        var results = [(String, HostTensor)]()
        for start in stride(from: 0, to: audio.count, by: batch) {
            let files = Array(audio[start..<min(start + batch, audio.count)])
            var waves = [[Float]]()
            for file in files {
                let samples = try AudioFile.load16k(file)
                try Self.checkLength(samples.mono.count, file: file, graph: graph)
                waves.append(normalize ? Self.normalized(samples.mono) : samples.mono)
            }
            let padded = Batching.pad(waves, ids: files, labels: [])
            let fetch = wanted.map { "hidden.\($0)" } + ["frame_lengths"]
            let outputs = try interpreter.runFinite(inputs: ["wave": padded.waves, "lengths": padded.lengths], parameters: parameters,
                                                    fetch: fetch, source: padded.described)
            guard let frameLengths = outputs["frame_lengths"] else { throw RunError("the spec has no frame_lengths output") }
            for (b, file) in files.enumerated() {
                let frames = Int(frameLengths.int32s[b])
                guard frames > 0 else {
                    throw AudioError("is too short for the model: \(waves[b].count) samples give no frame (at least 400 are needed at 16 kHz)",
                                     file: file)
                }
                for layer in wanted {
                    guard let states = outputs["hidden.\(layer)"] else { continue }
                    let (padded, width) = (states.shape[1], states.shape[2])
                    let one = HostTensor(.f32, shape: [frames, width])
                    one.floats.update(from: states.floats + b * padded * width, count: frames * width)
                    results.append(("\(Self.stem(file))/hidden.\(layer)", one))
                }
            }
            printError("embedded \(min(start + batch, audio.count)) of \(audio.count)")
        }
        try Safetensors.write(results, metadata: ["checkpoint": self.checkpoint, "layers": wanted.map(String.init).joined(separator: ",")], to: out)
        print("wrote \(results.count) tensors to \(out)")
    }

    /// Refuses a recording shorter than the graph's shortest input (HuBERT: 400 samples), naming the file.
    static func checkLength(_ samples: Int, file: String, graph: Graph) throws(AudioError) {
        guard let shortest = graph.shortestInput("S"), samples < shortest else { return }
        throw AudioError("is too short for the model: \(samples) sample\(samples == 1 ? "" : "s") at 16 kHz, and it needs at least \(shortest) (\(String(format: "%.3f", Double(shortest) / 16_000)) s)",
                         file: file)
    }

    private func graphParameters(_ graph: Graph) -> Set<String> {
        Set(graph.parameterNodes.compactMap { node -> String? in if case let .parameter(name, _) = node.op { name } else { nil } })
    }

    private func layerList(count: Int) throws -> [Int] {
        if layers == "all" { return Array(0..<count) }
        var list = [Int]()
        for part in layers.split(separator: ",") {
            guard let layer = Int(part.trimmingCharacters(in: " ")), (0..<count).contains(layer) else {
                throw ValidationError("--layers takes numbers from 0 to \(count - 1) or all, got '\(part)'")
            }
            list.append(layer)
        }
        return list
    }

    static func normalized(_ samples: [Float]) -> [Float] {
        let count = Float(max(1, samples.count))
        let mean = samples.reduce(0, +) / count
        let variance = samples.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / count
        let inverse = 1 / (variance + 1e-7).squareRoot()
        return samples.map { ($0 - mean) * inverse }
    }

    /// graphs/hubert_base.yaml of the working directory or of the checkout the binary was built in.
    static func defaultSpec() throws -> String {
        let relative = "graphs/hubert_base.yaml"
        if FileManager.default.fileExists(atPath: relative) { return relative }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            let candidate = directory.appendingPathComponent(relative).path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        throw ValidationError("cannot find \(relative); give the backbone spec with --spec")
    }
}

import ArgumentParser
import Audio
import Foundation
import GraphIR
import Kernels
import Runtime
import SER

/// `gmptl predict`: the emotion, class probabilities and gender of audio files, from a trained run.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predict the emotion (with class probabilities) and gender of audio files with a trained model.",
        discussion: """
            CHECKPOINT is a run folder of gmptl train (its first fold's last finished stage), a fold or stage folder \
            in one (runs/demo/Session1/multitask), or a parameters file there (best.safetensors). Audio at any rate \
            is resampled to 16 kHz.
            """)

    @Argument(help: "The trained model: a run, fold or stage folder, or a parameters file in one.")
    var checkpoint: String

    @Argument(help: "Audio files.")
    var audio: [String]

    @Option(help: "Kernel threads (default: all cores).")
    var threads: Int?

    func validate() throws {
        guard !audio.isEmpty else { throw ValidationError("give at least one audio file") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    func run() throws {
        if let threads { KernelThreads.set(threads) }
        do {
            let model = try TrainedModel.load(checkpoint)
            print("model: \(model.runFolder) fold \(model.fold), stage \(model.stage.name)")
            for path in audio {
                let samples = try AudioFile.read(path, resampledTo: 16_000)
                try Embed.checkLength(samples.mono.count, file: path, graph: model.spec.graph)
                let batch = Batching.pad([samples.mono], ids: [path], labels: [-1])
                guard let prediction = try model.evaluator.predict(batch, parameters: model.parameters).first else { continue }
                let name = model.classes.indices.contains(prediction.emotion) ? model.classes[prediction.emotion] : "class \(prediction.emotion)"
                let probabilities = zip(model.classes, prediction.probabilities).map { "\($0) \(String(format: "%.3f", $1))" }
                var line = "\(path): \(name)  [\(probabilities.joined(separator: ", "))]"
                if let gender = prediction.gender { line += "  gender \(gender == 0 ? "female" : "male")" }
                print(line)
            }
        } catch let error as any DiagnosticError {
            printError(Diagnostic.render(error))
            throw ExitCode(1)
        }
    }
}

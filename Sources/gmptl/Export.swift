import ArgumentParser
import Compiler
import FileSystem
import Foundation
import GraphIR
import ONNXExport
import SER

/// `gmptl export`: a trained model as an ONNX file for ONNX Runtime and other runtimes.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a trained model as ONNX (opset 17): wave and lengths in, emotion and gender probabilities out.",
        discussion: """
            CHECKPOINT is what gmptl predict takes: a run folder, a fold or stage folder in one, or a parameters file. \
            The model's optimised inference program (the one gmptl runs: evaluation form, simplified, fused) is \
            lowered op by op; an op without an ONNX rule is refused by name. Inputs: wave f32[B, S] (16 kHz, zero-padded), lengths i32[B]. \
            Outputs: the emotion scores (logits, or cosine scores for AM-Softmax models), emotion_probabilities \
            (as gmptl predict reports them), gender_logits and gender_probabilities when the model has a gender \
            head, and the hidden states asked with --hidden. The classes, the stage and the spec go into the \
            model's metadata.
            """)

    @Argument(help: "The trained model: a run, fold or stage folder, or a parameters file in one.")
    var checkpoint: String

    @Option(help: "The ONNX file to write.")
    var onnx: String

    @Option(help: "Hidden states to output too, by tap name (hidden.6), comma-separated.")
    var hidden: String?

    func run() throws {
        do {
            let model = try TrainedModel.load(checkpoint)
            let emotion = model.evaluator.emotionOutput
            let hasGender = model.spec.graph.outputs.contains { $0.name == "gender_logits" }
            let taps = hidden?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } ?? []
            let wanted = [emotion] + (hasGender ? ["gender_logits"] : []) + taps
            // The optimised inference program gmptl runs itself (simplified, fused), its fetched values as outputs.
            let plan: ExecutionPlan
            do { plan = try ExecutionPlan.compile(model.spec.graph, fetch: wanted, mode: .inference) } catch {
                throw ExportError(error.diagnostics)
            }
            var program = plan.program
            program.outputs = plan.fetched
            program.taps = []
            var lowering = try ONNXLowering(graph: program, parameters: model.parameters, outputs: wanted,
                                            modelName: model.spec.graph.name, producerVersion: "gmptl")
            try lowering.addProbabilities(of: emotion, scale: model.evaluator.scoreScale, as: "emotion_probabilities")
            if hasGender { try lowering.addProbabilities(of: "gender_logits", scale: 1, as: "gender_probabilities") }
            lowering.addMetadata("classes", "[" + model.classes.map { "\"\($0)\"" }.joined(separator: ", ") + "]")
            lowering.addMetadata("genders", hasGender ? "[\"female\", \"male\"]" : "[]")
            lowering.addMetadata("stage", model.stage.name)
            lowering.addMetadata("run", model.runFolder)
            lowering.addMetadata("spec_version", "1")
            lowering.addMetadata("sample_rate", "16000")
            let bytes = lowering.model.encoded()
            do {
                try AtomicFile.write(to: onnx) { (output) throws(FileError) in try output.write(bytes) }
            } catch {
                throw ExportError([Diagnostic("\(onnx): cannot write the model (\(error.fileError.message))")])
            }
            print("wrote \(onnx): \(lowering.model.nodes.count) nodes, \(lowering.model.initializers.count) initializers, outputs "
                  + lowering.model.outputs.map(\.name).joined(separator: ", "))
        } catch let error as any DiagnosticError {
            printError(Diagnostic.render(error))
            throw ExitCode(1)
        }
    }
}

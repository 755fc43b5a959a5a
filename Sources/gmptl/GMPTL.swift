import ArgumentParser

@main
struct GMPTL: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gmptl",
        abstract: "GMP-TL: speech emotion recognition by transfer learning from HuBERT, as a model-graph compiler.",
        subcommands: [Compile.self, Dot.self, Train.self, Label.self, Eval.self, Predict.self, Export.self, ReportCommand.self, Embed.self, DataCommand.self, CorpusCommand.self, AudioCommand.self, Bench.self, Info.self, FuzzCommand.self]
    )
}

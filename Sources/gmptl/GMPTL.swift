import ArgumentParser

@main
struct GMPTL: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gmptl",
        abstract: "GMP-TL: speech emotion recognition by transfer learning from HuBERT, as a model-graph compiler.",
<<<<<<< HEAD
        subcommands: [Compile.self, Dot.self, Embed.self, Bench.self, DataCommand.self, Info.self]
=======
        subcommands: [Compile.self, Dot.self, Embed.self, Bench.self, Info.self, AudioCommand.self]
>>>>>>> data-resample
    )
}

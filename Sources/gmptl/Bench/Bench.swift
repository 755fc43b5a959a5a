import ArgumentParser

/// `gmptl bench ...`: benchmark commands that print tables.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure speed; every subcommand prints a table.",
        subcommands: [BenchKernels.self, BenchForward.self, BenchTrain.self, BenchKMeans.self, BenchScaling.self]
    )
}

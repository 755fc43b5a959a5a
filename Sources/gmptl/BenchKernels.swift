import ArgumentParser
struct BenchKernels: ParsableCommand { static let configuration = CommandConfiguration(commandName: "kernels"); func run() {} }

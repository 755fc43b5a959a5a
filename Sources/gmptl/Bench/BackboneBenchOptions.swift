import ArgumentParser
import Kernels
import Runtime

/// The options of the benchmarks that run the HuBERT backbone (`bench forward`, `bench train`), and their inputs.
struct BackboneBenchOptions: ParsableArguments {
    @Option(help: "Seconds of 16 kHz audio per utterance.")
    var seconds: Double = 4

    @Option(help: "Utterances per batch.")
    var batch: Int = 1

    @Option(help: "Kernel threads (default: all cores).")
    var threads: Int?

    @Option(help: "The backbone spec (default: graphs/hubert_base.yaml of this checkout).")
    var spec: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a config value of the spec.", valueName: "key=value"))
    var overrides: [String] = []

    @Flag(help: "Also print the time per op kind and the slowest nodes (one extra run).")
    var profile = false

    @Flag(name: .customLong("no-optimize"), help: "Run the unoptimised plans (no simplification), for comparison.")
    var noOptimize = false

    func validate() throws {
        guard seconds >= 0.1, seconds <= 600 else { throw ValidationError("--seconds must be in [0.1, 600], got \(seconds)") }
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1, got \(batch)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    /// Samples per utterance.
    var samples: Int { Int(seconds * 16_000) }

    /// Applies `--threads`; the spec's path.
    func prepare() throws -> String {
        if let threads { KernelThreads.set(threads) }
        return try spec ?? Embed.defaultSpec()
    }

    /// `wave` (uniform noise, seeded) and `lengths` for `batch` utterances of `seconds`.
    func inputs() -> [String: HostTensor] {
        let wave = HostTensor(.f32, shape: [batch, samples])
        Philox(seed: 2).fillUniform(wave.floats, count: wave.count, low: -0.5, high: 0.5)
        return ["wave": wave, "lengths": HostTensor(int32s: Array(repeating: Int32(samples), count: batch), shape: [batch])]
    }
}

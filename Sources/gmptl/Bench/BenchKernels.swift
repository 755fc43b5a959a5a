import ArgumentParser
import Kernels

/// `gmptl bench kernels`: GFLOP/s of the kernels at the shapes HuBERT base and the GMP-TL heads run, for each
/// thread count asked for.
struct BenchKernels: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "GFLOP/s of GEMM, conv1d, attention and LSTM at HuBERT and GMP-TL shapes.",
        discussion: """
            Shapes: sgemm 1024^3 and 4096^3; the 7 conv layers of HuBERT's feature encoder and its positional conv on \
            4 s of 16 kHz audio (64,000 samples, 199 frames), batch 1; attention with 12 heads of 64 over 199 \
            frames; the GMP-TL BiLSTM (768 -> 2 x 256) over a batch of 8 x 199 frames. Each figure is the median of \
            repeated runs after a warm-up.
            """)

    @Option(name: .long, help: "Comma-separated thread counts to measure.")
    var threads: String = "1,2"

    @Option(name: .long, help: "Minimum seconds spent timing each kernel and thread count.")
    var seconds: Double = 0.5

    @Flag(name: .long, help: "Skip the 4096^3 GEMM (the slowest row).")
    var quick = false

    @Option(name: .long, help: "Only the kernels whose name contains this text (case-insensitive), e.g. 'dW' or 'conv'.")
    var filter: String?

    func validate() throws {
        guard parsedThreads != nil else {
            throw ValidationError("--threads must be a comma-separated list of positive integers, got '\(threads)'")
        }
        guard seconds > 0 else { throw ValidationError("--seconds must be positive, got \(seconds)") }
    }

    var parsedThreads: [Int]? {
        let values = threads.split(separator: ",").map { Int($0.trimmingCharacters(in: " ")) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return values.compactMap { $0 }
    }

    func run() throws {
        let threadCounts = parsedThreads ?? [1]
        let timing = Timing(minimumRuns: 3, minimumSeconds: seconds)
        var table = TextTable(header: ["kernel", "shape", "GFLOP"] + threadCounts.flatMap { ["ms (\($0)t)", "GFLOP/s (\($0)t)"] })
        let saved = KernelThreads.count
        defer { KernelThreads.set(saved) }
        // GFLOP/s by (row name + shape, thread count), for the ratios printed under the table.
        var rates = [String: [Int: Double]]()
        let benchmarks = KernelBenchmarks.all(quick: quick).filter { benchmark in
            filter.map { benchmark.name.lowercased().contains($0.lowercased()) } ?? true
        }
        guard !benchmarks.isEmpty else { throw ValidationError("no kernel's name contains '\(filter ?? "")'") }
        for benchmark in benchmarks {
            var row = [benchmark.name, benchmark.shape, String(format3(benchmark.flops / 1e9))]
            for count in threadCounts {
                KernelThreads.set(count)
                let seconds = timing.median(benchmark.run)
                let rate = benchmark.flops / seconds / 1e9
                rates[benchmark.name + " " + benchmark.shape, default: [:]][count] = rate
                row += [format1(seconds * 1e3), format1(rate)]
            }
            table.add(row)
        }
        print(table.render())
        if let gemm = rates["sgemm 4096^3"], let conv = rates.first(where: { $0.key.hasPrefix("conv1d L1 512") })?.value {
            let ratios = threadCounts.compactMap { count -> String? in
                guard let g = gemm[count], let c = conv[count], g > 0 else { return nil }
                return "\(formatFixed(100 * c / g, digits: 0)) % with \(count) thread\(count == 1 ? "" : "s")"
            }
            print("\nconv1d L1 (512->512 k3 s2, 6,399 frames) against sgemm 4096^3: " + ratios.joined(separator: ", "))
        }
    }
}

func format1(_ value: Double) -> String { formatFixed(value, digits: 1) }
func format3(_ value: Double) -> String { formatFixed(value, digits: 3) }

/// Fixed-point formatting without Foundation.
func formatFixed(_ value: Double, digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (abs(value) * scale).rounded()
    let whole = Int(rounded / scale)
    let fraction = Int(rounded - Double(whole) * scale)
    let sign = value < 0 && rounded > 0 ? "-" : ""
    guard digits > 0 else { return "\(sign)\(whole)" }
    let fractionText = String(fraction)
    return "\(sign)\(whole)." + String(repeating: "0", count: digits - fractionText.count) + fractionText
}

extension Substring {
    func trimmingCharacters(in characters: String) -> Substring {
        var result = self
        while let first = result.first, characters.contains(first) { result = result.dropFirst() }
        while let last = result.last, characters.contains(last) { result = result.dropLast() }
        return result
    }
}

import ArgumentParser
import Foundation
import Kernels
import Runtime

/// `gmptl bench kmeans`: k-means over a Gaussian mixture at several K, time and inertia per sample.
struct BenchKMeans: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kmeans",
        abstract: "Time and inertia per sample of k-means (k-means++ then Lloyd) at several K.",
        discussion: """
            The data: --n points in --d dimensions around --clusters centres (centres ~ N(0, 1), noise N(0, 0.5^2), \
            from the seed). --save-data writes it as safetensors (tensor x) for scripts/bench_kmeans_reference.py, \
            which runs scikit-learn and faiss on the same points. Inertia per sample is the mean squared distance of \
            every point to its nearest final centroid.
            """)

    @Option(help: "Points.")
    var n: Int = 100_000

    @Option(help: "Dimensions.")
    var d: Int = 768

    @Option(help: "Centres of the mixture the points are drawn around.")
    var clusters: Int = 2_048

    @Option(help: "Cluster counts, comma-separated.")
    var k: String = "64,512,4096"

    @Option(help: "Lloyd iterations.")
    var iterations: Int = 20

    @Option(help: "The seed of the data and of k-means.")
    var seed: UInt64 = 0

    @Option(help: "Kernel threads (default: all cores).")
    var threads: Int?

    @Option(help: "Write the points to this safetensors file (tensor x) before clustering.")
    var saveData: String?

    @Option(help: "Mini-batch size (default: full Lloyd iterations).")
    var batchSize: Int?

    @Option(help: "Points k-means++ draws the initial centroids from (default: min(n, max(16384, 32 K))).")
    var initSample: Int?

    @Option(help: "k-means|| rounds (0: greedy k-means++ on a sample instead).")
    var parallelRounds: Int = 3

    @Option(help: "k-means|| candidates per round, as a multiple of K.")
    var oversampling: Double = 1

    @Option(help: "Rows k-means|| draws its candidates from (default: min(n, 256 K)).")
    var parallelSample: Int?

    @Option(help: "Candidates greedy k-means++ weighs for each centroid (default: 2 + ln K).")
    var localTrials: Int?

    func validate() throws {
        guard n >= 1, d >= 1, clusters >= 1, iterations >= 0 else { throw ValidationError("--n, --d, --clusters must be positive") }
        guard !counts.isEmpty, counts.allSatisfy({ $0 >= 1 && $0 <= n }) else { throw ValidationError("--k must list counts in 1...\(n)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    var counts: [Int] { k.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func run() throws {
        if let threads { KernelThreads.set(threads) }
        // Options read once: each read of an @Option goes through the argument parser's storage.
        let (n, d, clusters, seed) = (self.n, self.d, self.clusters, self.seed)
        let points = HostTensor(.f32, shape: [n, d])
        var centres = [Float](repeating: 0, count: clusters * d)
        Philox(seed: seed, node: 1).fillNormal(&centres, count: centres.count)
        Philox(seed: seed, node: 2).fillNormal(points.floats, count: points.count, std: 0.5)
        let draws = Philox(seed: seed, node: 3), values = points.floats
        for i in 0..<n {
            let centre = draws.integer(at: i, below: clusters)
            for j in 0..<d { values[i * d + j] += centres[centre * d + j] }
        }
        if let saveData {
            try Safetensors.write([("x", points)], metadata: [
                "generator": "gmptl bench kmeans", "n": "\(n)", "d": "\(d)", "clusters": "\(clusters)", "seed": "\(seed)",
            ], to: saveData)
            print("wrote \(saveData)")
        }
        var table = TextTable(header: ["K", "points", "dims", "iterations", "threads", "seconds", "init seconds", "inertia/n", "init"])
        for count in counts {
            let options = KMeans.Options(k: count, iterations: iterations, seed: seed, initSample: initSample, localTrials: localTrials, batchSize: batchSize,
                                         parallelRounds: parallelRounds > 0 ? parallelRounds : nil, oversampling: oversampling,
                                         parallelSample: parallelSample)
            let clock = ContinuousClock()
            let start = clock.now
            let result = KMeans.fit(x: points.floats, n: n, d: d, options: options)
            let elapsed = clock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            table.add(["\(count)", "\(n)", "\(d)", "\(result.iterations)", "\(KernelThreads.count)", formatFixed(seconds, digits: 2),
                       formatFixed(result.initializationSeconds, digits: 2), formatFixed(result.inertia / Double(n), digits: 4), (parallelRounds > 0 ? "k-means|| \(parallelRounds) x \(oversampling) K" : nil) ?? batchSize.map { "k-means++, mini-batch \($0)" } ?? "k-means++"])
        }
        print(table.render())
    }
}

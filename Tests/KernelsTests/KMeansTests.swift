import Kernels
import Testing

/// k-means: assignment against a brute-force loop, Lloyd updates against plain means, recovery of separated
/// clusters, empty-cluster repair, determinism.
@Suite struct KMeansTests {
    /// `n` points around `centers` random centres in `d` dims (spread `spread` around unit-normal centres).
    static func mixture(n: Int, d: Int, centers: Int, spread: Float, seed: UInt64 = 1) -> (points: [Float], truth: [Int]) {
        var means = [Float](repeating: 0, count: centers * d)
        Philox(seed: seed, node: 1).fillNormal(&means, count: means.count, std: 4)
        var points = [Float](repeating: 0, count: n * d)
        Philox(seed: seed, node: 2).fillNormal(&points, count: points.count, std: spread)
        var truth = [Int]()
        for i in 0..<n {
            let c = i % centers
            truth.append(c)
            for j in 0..<d { points[i * d + j] += means[c * d + j] }
        }
        return (points, truth)
    }

    @Test(arguments: [1, 5, 64, 700])
    func assignmentMatchesBruteForce(k: Int) {
        let (n, d) = (300, 17)
        var x = [Float](repeating: 0, count: n * d), c = [Float](repeating: 0, count: k * d)
        Philox(seed: 3).fillNormal(&x, count: x.count)
        Philox(seed: 4).fillNormal(&c, count: c.count)
        var labels = [Int32](repeating: -1, count: n), distances = [Float](repeating: -1, count: n)
        var workspace = [Float](repeating: 0, count: KMeansAssign.workspaceCount(k: k))
        KMeansAssign.assign(x: x, n: n, d: d, centroids: c, k: k, labels: &labels, distances: &distances, workspace: &workspace)
        for i in 0..<n {
            var best = 0, bestDistance = Double.infinity
            for j in 0..<k {
                var sum = 0.0
                for t in 0..<d { let diff = Double(x[i * d + t]) - Double(c[j * d + t]); sum += diff * diff }
                if sum < bestDistance { bestDistance = sum; best = j }
            }
            // A different label only for a near tie, with the same distance.
            if Int(labels[i]) != best {
                var other = 0.0
                for t in 0..<d { let diff = Double(x[i * d + t]) - Double(c[Int(labels[i]) * d + t]); other += diff * diff }
                #expect(abs(other - bestDistance) <= 1e-4 * max(1, bestDistance), "row \(i)")
            }
            #expect(abs(Double(distances[i]) - bestDistance) <= 1e-4 * max(1, bestDistance), "row \(i)")
        }
    }

    @Test func recoversSeparatedClustersAndIsDeterministic() {
        let (n, d, k) = (2_000, 8, 10)
        let (x, truth) = Self.mixture(n: n, d: d, centers: k, spread: 0.3)
        let result = KMeans.fit(x: x, n: n, d: d, options: KMeans.Options(k: k, iterations: 10, seed: 7))
        #expect(result.centroids.count == k * d)
        // Every true cluster maps onto one found cluster and back.
        var labels = [Int32](repeating: 0, count: n), distances = [Float](repeating: 0, count: n)
        var workspace = [Float](repeating: 0, count: KMeansAssign.workspaceCount(k: k))
        KMeansAssign.assign(x: x, n: n, d: d, centroids: result.centroids, k: k, labels: &labels, distances: &distances, workspace: &workspace)
        var mapping = [Int: Int32]()
        for i in 0..<n {
            if let found = mapping[truth[i]] { #expect(found == labels[i]) } else { mapping[truth[i]] = labels[i] }
        }
        #expect(Set(mapping.values).count == k)
        // The inertia is the sum of the final squared distances, close to n * d * spread^2.
        let total = distances.reduce(0.0) { $0 + Double($1) }
        #expect(abs(result.inertia - total) <= 1e-3 * total)
        #expect(abs(result.inertia / Double(n * d) - 0.09) < 0.01)

        let again = KMeans.fit(x: x, n: n, d: d, options: KMeans.Options(k: k, iterations: 10, seed: 7))
        #expect(again.centroids == result.centroids, "same seed, same thread count: the same centroids")
    }

    @Test func lloydMovesCentroidsToTheMeansOfTheirRows() {
        let (n, d, k) = (500, 6, 7)
        let (x, _) = Self.mixture(n: n, d: d, centers: 3, spread: 1.5)
        let result = KMeans.fit(x: x, n: n, d: d, options: KMeans.Options(k: k, iterations: 30, seed: 2))
        // After convergence, each centroid is (to rounding) the mean of the rows assigned to it.
        var labels = [Int32](repeating: 0, count: n), distances = [Float](repeating: 0, count: n)
        var workspace = [Float](repeating: 0, count: KMeansAssign.workspaceCount(k: k))
        KMeansAssign.assign(x: x, n: n, d: d, centroids: result.centroids, k: k, labels: &labels, distances: &distances, workspace: &workspace)
        for j in 0..<k {
            let members = (0..<n).filter { labels[$0] == j }
            #expect(!members.isEmpty, "no empty cluster after repair")
            for t in 0..<d {
                let mean = members.reduce(0.0) { $0 + Double(x[$1 * d + t]) } / Double(members.count)
                #expect(abs(Double(result.centroids[j * d + t]) - mean) <= 1e-3 * max(1, abs(mean)))
            }
        }
    }

    /// Duplicated points leave k-means++ nothing to draw from and Lloyd with empty clusters: they are repaired.
    @Test func emptyClustersAreRepaired() {
        let d = 3
        var x = [Float]()
        for i in 0..<40 { x += i < 30 ? [0, 0, 0] : [Float(i), 1, 2] }
        let result = KMeans.fit(x: x, n: 40, d: d, options: KMeans.Options(k: 12, iterations: 5, seed: 1))
        var labels = [Int32](repeating: 0, count: 40), distances = [Float](repeating: 0, count: 40)
        var workspace = [Float](repeating: 0, count: KMeansAssign.workspaceCount(k: 12))
        KMeansAssign.assign(x: x, n: 40, d: d, centroids: result.centroids, k: 12, labels: &labels, distances: &distances, workspace: &workspace)
        // The 11 distinct points each get a centroid, and the inertia is 0.
        #expect(result.inertia < 1e-6)
        #expect(result.centroids.allSatisfy { $0.isFinite })
    }

    /// k-means|| (the default) against greedy k-means++ over every row: about the same inertia after Lloyd.
    @Test func parallelInitialisationMatchesKMeansPlusPlus() {
        let (n, d, k) = (4_000, 16, 40)
        let (x, _) = Self.mixture(n: n, d: d, centers: 80, spread: 1)
        let parallel = KMeans.fit(x: x, n: n, d: d, options: KMeans.Options(k: k, iterations: 20, seed: 5))
        let plusPlus = KMeans.fit(x: x, n: n, d: d, options: KMeans.Options(k: k, iterations: 20, seed: 5, initSample: n, parallelRounds: nil))
        #expect(parallel.inertia <= 1.03 * plusPlus.inertia, "k-means|| \(parallel.inertia), k-means++ \(plusPlus.inertia)")
        #expect(parallel.iterations <= 20 && plusPlus.iterations <= 20)
    }

    /// The bounded iterations (group bounds, rows reassigned locally or by GEMM, sums from full passes) against a
    /// plain Lloyd loop from the same initial centroids: the same clusters and centroids, iteration for iteration.
    @Test(arguments: [(k: 96, spread: Float(3)), (k: 12, spread: Float(6)), (k: 300, spread: Float(2))])
    func boundedIterationsMatchPlainLloyd(k: Int, spread: Float) {
        let (n, d) = (3_000, 16)
        let (x, _) = Self.mixture(n: n, d: d, centers: 40, spread: spread, seed: 7)
        var centroids = KMeans.fit(x: x, n: n, d: d, options: KMeans.Options(k: k, iterations: 0, seed: 2)).centroids
        var labels = [Int](repeating: -1, count: n)
        var plainIterations = 0
        for _ in 0..<15 {
            var next = labels
            for i in 0..<n {
                var best = 0, bestDistance = Double.infinity
                for j in 0..<k {
                    var sum = 0.0
                    for t in 0..<d { let delta = Double(x[i * d + t]) - Double(centroids[j * d + t]); sum += delta * delta }
                    if sum < bestDistance { bestDistance = sum; best = j }
                }
                next[i] = best
            }
            if next == labels { break }
            labels = next
            var sums = [Double](repeating: 0, count: k * d), counts = [Int](repeating: 0, count: k)
            for i in 0..<n {
                counts[labels[i]] += 1
                for t in 0..<d { sums[labels[i] * d + t] += Double(x[i * d + t]) }
            }
            for j in 0..<k where counts[j] > 0 {
                for t in 0..<d { centroids[j * d + t] = Float(sums[j * d + t] / Double(counts[j])) }
            }
            plainIterations += 1
        }
        let bounded = KMeans.fit(x: x, n: n, d: d, options: KMeans.Options(k: k, iterations: 15, seed: 2))
        #expect(bounded.repairedClusters == 0)
        #expect(bounded.iterations == plainIterations)
        let worst = zip(bounded.centroids, centroids).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
        #expect(worst <= 1e-5, "largest centroid difference \(worst) after \(plainIterations) iterations")
    }

    /// With more than 256 K rows, k-means|| draws its candidates from a sample of 256 K of them: the result stays
    /// close to k-means++ over every row, and the same for the seed.
    @Test func parallelInitialisationOnASample() {
        let (n, d, k) = (6_000, 16, 8)
        let (x, _) = Self.mixture(n: n, d: d, centers: 16, spread: 1)
        let sampled = KMeans.fit(x: x, n: n, d: d, options: KMeans.Options(k: k, iterations: 20, seed: 5))
        let everyRow = KMeans.fit(x: x, n: n, d: d, options: KMeans.Options(k: k, iterations: 20, seed: 5, parallelSample: n))
        let plusPlus = KMeans.fit(x: x, n: n, d: d, options: KMeans.Options(k: k, iterations: 20, seed: 5, initSample: n, parallelRounds: nil))
        #expect(sampled.centroids != everyRow.centroids, "the sample (2,048 of 6,000 rows) changes the start")
        #expect(sampled.inertia <= 1.03 * plusPlus.inertia, "k-means|| on a sample \(sampled.inertia), k-means++ \(plusPlus.inertia)")
        let again = KMeans.fit(x: x, n: n, d: d, options: KMeans.Options(k: k, iterations: 20, seed: 5))
        #expect(again.centroids == sampled.centroids)
    }

    @Test func miniBatchApproachesLloyd() {
        let (n, d, k) = (3_000, 8, 6)
        let (x, _) = Self.mixture(n: n, d: d, centers: k, spread: 0.5)
        let lloyd = KMeans.fit(x: x, n: n, d: d, options: KMeans.Options(k: k, iterations: 10, seed: 3))
        let mini = KMeans.fit(x: x, n: n, d: d, options: KMeans.Options(k: k, iterations: 40, seed: 3, batchSize: 256))
        #expect(mini.inertia <= 1.05 * lloyd.inertia)
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// k-means clustering of Float32 rows: k-means|| or greedy k-means++ initialisation, then Lloyd iterations (or
/// mini-batch updates) with GEMM-based assignment (`KMeansAssign`), empty clusters repaired, deterministic for a
/// seed and thread count.
///
/// - **Initialisation, by default k-means||** (Bahmani et al. 2012): 3 rounds, each drawing about `k` rows by D^2
///   sampling over all rows and updating every row's nearest candidate with one GEMM pass; then the greedy
///   k-means++ below on the candidates, each weighted by the rows nearest to it. It matches k-means++ on all rows
///   within 1 % of inertia at a fraction of its cost (each k-means++ centroid is a memory-bound pass over the rows).
/// - **Greedy k-means++** (scikit-learn's, `parallelRounds: nil`): the first centroid is a uniformly drawn row; each next
///   one is the best of `localTrials` candidates (default `2 + floor(ln k)`) drawn with probability proportional to
///   the squared distance to the nearest centroid so far, "best" meaning the lowest total squared distance once it
///   is added. It runs on a random sample of `initSample` rows (default `min(n, max(16,384, 32k))`), because each new
///   centroid costs a pass over the rows it is drawn from (memory-bound: 100,000 x 768 rows take ~35 ms a centroid).
/// - **Lloyd**: assign every row, then move each centroid to the mean of its rows (sums in Float64, rows in index
///   order, so any thread count gives the same centroids). A cluster left empty takes the row farthest from its
///   centroid among clusters of more than one row (scikit-learn's repair), one row per empty cluster.
/// - **Mini-batch** (`batchSize`): each iteration draws `batchSize` rows, assigns them and moves each centroid
///   toward their mean with a per-centroid rate `1 / count so far` (Sculley 2010).
///
/// The inertia reported is the sum of squared distances of every row to its nearest final centroid.
public enum KMeans {
    public struct Options: Hashable, Sendable {
        public var k: Int
        public var iterations: Int
        public var seed: UInt64
        public var initSample: Int?
        public var localTrials: Int?
        public var batchSize: Int?
        /// k-means|| (Bahmani et al. 2012), the default: this many rounds, each drawing about `oversampling * k`
        /// candidates over every row by D^2 (a GEMM pass a round), then greedy k-means++ on the candidates weighted
        /// by the rows they are nearest to. Nil: greedy k-means++ on a random sample of `initSample` rows.
        public var parallelRounds: Int?
        public var oversampling: Double

        public init(k: Int, iterations: Int = 20, seed: UInt64 = 0, initSample: Int? = nil, localTrials: Int? = nil, batchSize: Int? = nil,
                    parallelRounds: Int? = 3, oversampling: Double = 1) {
            self.parallelRounds = parallelRounds
            self.oversampling = oversampling
            self.k = k
            self.iterations = iterations
            self.seed = seed
            self.initSample = initSample
            self.localTrials = localTrials
            self.batchSize = batchSize
        }
    }

    public struct Result: Sendable {
        /// `[k, d]`, row-major.
        public var centroids: [Float]
        /// Sum over rows of the squared distance to the nearest final centroid.
        public var inertia: Double
        /// Lloyd updates made (fewer than asked when the assignment stopped changing), or mini-batch iterations.
        public var iterations: Int
        /// Empty clusters moved onto far rows, over all iterations.
        public var repairedClusters: Int
    }

    /// Clusters `n` rows of `x` (`[n, d]`); `k` must be at most `n`.
    public static func fit(x: UnsafePointer<Float>, n: Int, d: Int, options: Options) -> Result {
        let k = max(1, min(options.k, n))
        var centroids = [Float](repeating: 0, count: k * d)
        var repaired = 0
        guard n > 0, d > 0 else { return Result(centroids: centroids, inertia: 0, iterations: 0, repairedClusters: 0) }
        centroids.withUnsafeMutableBufferPointer { c in
            guard let base = c.baseAddress else { return }
            if let rounds = options.parallelRounds {
                initializeParallel(x: x, n: n, d: d, k: k, rounds: rounds, options: options, into: base)
            } else {
                initialize(x: x, n: n, d: d, k: k, options: options, into: base)
            }
        }
        var labels = [Int32](repeating: 0, count: n)
        var distances = [Float](repeating: 0, count: n)
        var workspace = [Float](repeating: 0, count: KMeansAssign.workspaceCount(k: k))
        var iterations = 0
        // Whether `distances` already hold every row's distance to the final centroids (a converged Lloyd run).
        var distancesAreCurrent = false
        if let batchSize = options.batchSize {
            iterations = options.iterations
            repaired = miniBatch(x: x, n: n, d: d, k: k, batchSize: max(1, min(batchSize, n)), options: options, centroids: &centroids)
        } else {
            // Lloyd with Hamerly's bounds: after the first pass only rows whose cluster may change are assigned again.
            var lloyd = BoundedLloyd(x: x, n: n, d: d, k: k)
            lloyd.assign(nil, centroids: centroids)
            var previous = [Int32](repeating: -1, count: n)
            while iterations < options.iterations {
                // Converged: no row changed cluster, so the centroids would not move (scikit-learn's strict
                // convergence).
                if lloyd.labels == previous { break }
                previous = lloyd.labels
                labels = lloyd.labels
                for i in 0..<n { distances[i] = lloyd.upper[i] * lloyd.upper[i] }
                let before = centroids
                repaired += update(x: x, n: n, d: d, k: k, labels: &labels, distances: distances, centroids: &centroids)
                iterations += 1
                if labels != lloyd.labels {
                    // Empty clusters were repaired (rows moved by hand): start the bounds afresh.
                    lloyd.labels = labels
                    lloyd.assign(nil, centroids: centroids)
                    continue
                }
                var moved = [Float](repeating: 0, count: k)
                for j in 0..<k {
                    var sum: Float = 0
                    for t in 0..<d { let delta = centroids[j * d + t] - before[j * d + t]; sum += delta * delta }
                    moved[j] = sum.squareRoot()
                }
                lloyd.assign(lloyd.loosen(moved: moved), centroids: centroids)
            }
            labels = lloyd.labels
            // Exact distances to the final centroids, for the inertia.
            for i in 0..<n {
                let row = x + i * d, own = Int(labels[i]) * d
                var sum: Float = 0
                for t in 0..<d { let delta = row[t] - centroids[own + t]; sum += delta * delta }
                distances[i] = sum
            }
            distancesAreCurrent = true
        }
        if !distancesAreCurrent {
            assign(x: x, n: n, d: d, centroids: centroids, k: k, labels: &labels, distances: &distances, workspace: &workspace)
        }
        var inertia = 0.0
        for i in 0..<n { inertia += Double(distances[i]) }
        return Result(centroids: centroids, inertia: inertia, iterations: iterations, repairedClusters: repaired)
    }

    /// `KMeansAssign.assign` over arrays.
    static func assign(
        x: UnsafePointer<Float>, n: Int, d: Int, centroids: [Float], k: Int, labels: inout [Int32], distances: inout [Float],
        workspace: inout [Float]
    ) {
        centroids.withUnsafeBufferPointer { c in
            guard let base = c.baseAddress else { return }
            KMeansAssign.assign(x: x, n: n, d: d, centroids: base, k: k, labels: &labels, distances: &distances, workspace: &workspace)
        }
    }

    // MARK: - Initialisation

    static func initialize(x: UnsafePointer<Float>, n: Int, d: Int, k: Int, options: Options, into centroids: UnsafeMutablePointer<Float>) {
        let stream = Philox(seed: options.seed, step: 0, node: 0x6B6D_0001)
        // The sample: a random subset of rows, in index order.
        let m = min(n, max(k, options.initSample ?? max(16_384, 32 * k)))
        var sample = [Float](repeating: 0, count: m * d)
        var rows = Array(0..<n)
        if m < n {
            for i in 0..<m {
                let j = i + stream.integer(at: i, below: n - i)
                rows.swapAt(i, j)
            }
            rows = Array(rows[0..<m]).sorted()
        }
        sample.withUnsafeMutableBufferPointer { s in
            guard let base = s.baseAddress else { return }
            for i in 0..<m { (base + i * d).update(from: x + rows[i] * d, count: d) }
        }
        let trials = max(1, options.localTrials ?? (2 + Int(log(Double(k)))))
        let draws = Philox(seed: options.seed, step: 1, node: 0x6B6D_0002)
        sample.withUnsafeBufferPointer { s in
            guard let points = s.baseAddress else { return }
            greedyPlusPlus(points: points, m: m, d: d, k: k, weights: nil, trials: trials, draws: draws, into: centroids)
        }
    }

    /// k-means||: candidates drawn over every row in a few GEMM rounds, reclustered by weighted greedy k-means++.
    static func initializeParallel(
        x: UnsafePointer<Float>, n: Int, d: Int, k: Int, rounds: Int, options: Options, into centroids: UnsafeMutablePointer<Float>
    ) {
        let stream = Philox(seed: options.seed, step: 0, node: 0x6B6D_0004)
        var candidates = [Int]()
        var closest = [Float](repeating: 0, count: n)
        var owner = [Int32](repeating: 0, count: n)
        let first = stream.integer(at: 0, below: n)
        candidates.append(first)
        var norms = [Float](repeating: 0, count: n)
        KMeansAssign.squaredNorms(x, rows: n, d: d, into: &norms)
        distancesTo(x + first * d, count: 1, points: x, norms: norms, m: n, d: d, into: &closest)
        var potential = closest.reduce(0.0) { $0 + Double($1) }
        var labels = [Int32](repeating: 0, count: n), distances = [Float](repeating: 0, count: n)
        for round in 0..<rounds where potential > 0 {
            let expected = options.oversampling * Double(k)
            var drawn = [Int]()
            for i in 0..<n where Double(stream.uniform(at: 1 + round * n + i)) < expected * Double(closest[i]) / potential {
                drawn.append(i)
            }
            guard !drawn.isEmpty else { continue }
            var rows = [Float](repeating: 0, count: drawn.count * d)
            rows.withUnsafeMutableBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return }
                for (j, i) in drawn.enumerated() { (base + j * d).update(from: x + i * d, count: d) }
            }
            var workspace = [Float](repeating: 0, count: KMeansAssign.workspaceCount(k: drawn.count))
            assign(x: x, n: n, d: d, centroids: rows, k: drawn.count, labels: &labels, distances: &distances, workspace: &workspace)
            let offset = Int32(candidates.count)
            for i in 0..<n where distances[i] < closest[i] {
                closest[i] = distances[i]
                owner[i] = offset + labels[i]
            }
            candidates += drawn
            potential = closest.reduce(0.0) { $0 + Double($1) }
        }
        // Candidates weighted by the rows nearest to them; too few of them: plain k-means++ on a sample.
        guard candidates.count >= k else {
            initialize(x: x, n: n, d: d, k: k, options: options, into: centroids)
            return
        }
        var weights = [Float](repeating: 0, count: candidates.count)
        for i in 0..<n { weights[Int(owner[i])] += 1 }
        var points = [Float](repeating: 0, count: candidates.count * d)
        points.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            for (j, i) in candidates.enumerated() { (base + j * d).update(from: x + i * d, count: d) }
        }
        let trials = max(1, options.localTrials ?? (2 + Int(log(Double(k)))))
        let draws = Philox(seed: options.seed, step: 1, node: 0x6B6D_0005)
        points.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            greedyPlusPlus(points: base, m: candidates.count, d: d, k: k, weights: weights, trials: trials, draws: draws, into: centroids)
        }
    }

    /// Greedy k-means++ over `m` points (optionally weighted: a point counts `weights[i]` times in the potential and
    /// in the D^2 sampling) into `centroids` (`[k, d]`).
    static func greedyPlusPlus(
        points: UnsafePointer<Float>, m: Int, d: Int, k: Int, weights: [Float]?, trials: Int, draws: Philox,
        into centroids: UnsafeMutablePointer<Float>
    ) {
        var norms = [Float](repeating: 0, count: m)
        KMeansAssign.squaredNorms(points, rows: m, d: d, into: &norms)
        var closest = [Float](repeating: 0, count: m)
        var cumulative = [Double](repeating: 0, count: m)
        var candidateDistances = [Float](repeating: 0, count: trials * m)
        var candidateRows = [Float](repeating: 0, count: trials * d)
        let w = weights ?? [Float](repeating: 1, count: m)

        let first: Int
        if let weights {
            // The first centre drawn in proportion to the weights.
            var total = 0.0
            for i in 0..<m { total += Double(weights[i]); cumulative[i] = total }
            let target = Double(draws.uniform(at: 0)) * total
            first = cumulative.firstIndex { $0 > target } ?? (m - 1)
        } else {
            first = draws.integer(at: 0, below: m)
        }
        centroids.update(from: points + first * d, count: d)
        distancesTo(points + first * d, count: 1, points: points, norms: norms, m: m, d: d, into: &closest)
        var potential = 0.0
        for i in 0..<m { potential += Double(w[i]) * Double(closest[i]) }
        for c in 1..<k {
            // Candidates by D^2 sampling (a zero potential: every row is a centroid already; take them in order).
            var running = 0.0
            for i in 0..<m { running += Double(w[i]) * Double(closest[i]); cumulative[i] = running }
            var candidates = [Int]()
            for t in 0..<trials {
                let target = Double(draws.uniform(at: 1 + c * trials + t)) * potential
                var low = 0, high = m - 1
                while low < high {
                    let mid = (low + high) / 2
                    if cumulative[mid] < target { low = mid + 1 } else { high = mid }
                }
                candidates.append(potential > 0 ? low : (c + t) % m)
            }
            candidateRows.withUnsafeMutableBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return }
                for t in 0..<trials { (base + t * d).update(from: points + candidates[t] * d, count: d) }
            }
            candidateRows.withUnsafeBufferPointer { r in
                guard let base = r.baseAddress else { return }
                distancesTo(base, count: trials, points: points, norms: norms, m: m, d: d, into: &candidateDistances)
            }
            // The candidate that lowers the potential most.
            var best = 0, bestPotential = Double.infinity
            for t in 0..<trials {
                var total = 0.0
                for i in 0..<m { total += Double(w[i]) * Double(min(closest[i], candidateDistances[t * m + i])) }
                if total < bestPotential { bestPotential = total; best = t }
            }
            for i in 0..<m { closest[i] = min(closest[i], candidateDistances[best * m + i]) }
            potential = bestPotential
            (centroids + c * d).update(from: points + candidates[best] * d, count: d)
        }
    }

    /// Squared distances of `m` points to each of `count` rows: `out[r * m + i]`.
    static func distancesTo(
        _ rows: UnsafePointer<Float>, count: Int, points: UnsafePointer<Float>, norms: [Float], m: Int, d: Int,
        into out: inout [Float]
    ) {
        out.withUnsafeMutableBufferPointer { o in
            guard let products = o.baseAddress else { return }
            Gemm.multiply(transA: false, transB: true, m: count, n: m, k: d, a: rows, lda: d, b: points, ldb: d, c: products, ldc: m)
            for r in 0..<count {
                let rowNorm = Reduce.dot(rows + r * d, rows + r * d, count: d)
                let line = products + r * m
                Parallel.forChunks(m, grain: 16_384) { range in
                    for i in range { line[i] = max(0, norms[i] + rowNorm - 2 * line[i]) }
                }
            }
        }
    }

    // MARK: - Lloyd

    /// Moves each centroid to the mean of its rows; repairs empty clusters. Returns the clusters repaired.
    static func update(
        x: UnsafePointer<Float>, n: Int, d: Int, k: Int, labels: inout [Int32], distances: [Float], centroids: inout [Float]
    ) -> Int {
        // Rows grouped by cluster, in index order (counting sort).
        var counts = [Int](repeating: 0, count: k + 1)
        for i in 0..<n { counts[Int(labels[i]) + 1] += 1 }
        // Empty clusters take the farthest rows of clusters with more than one row.
        var repaired = 0
        let empty = (0..<k).filter { counts[$0 + 1] == 0 }
        if !empty.isEmpty {
            let far = (0..<n).sorted { distances[$0] != distances[$1] ? distances[$0] > distances[$1] : $0 < $1 }
            var next = 0
            for cluster in empty {
                while next < far.count, counts[Int(labels[far[next]]) + 1] <= 1 { next += 1 }
                guard next < far.count else { break }
                let row = far[next]
                counts[Int(labels[row]) + 1] -= 1
                labels[row] = Int32(cluster)
                counts[cluster + 1] += 1
                repaired += 1
                next += 1
            }
        }
        var offsets = counts
        for j in 0..<k { offsets[j + 1] += offsets[j] }
        var order = [Int](repeating: 0, count: n)
        var cursor = offsets
        for i in 0..<n {
            let j = Int(labels[i])
            order[cursor[j]] = i
            cursor[j] += 1
        }
        centroids.withUnsafeMutableBufferPointer { c in
            guard let centroidBase = c.baseAddress else { return }
            order.withUnsafeBufferPointer { o in
                guard let orderBase = o.baseAddress else { return }
                Parallel.forChunks(k) { range in
                    var sums = [Double](repeating: 0, count: d)
                    for j in range {
                        let begin = offsets[j], end = offsets[j + 1]
                        guard end > begin else { continue }
                        for i in 0..<d { sums[i] = 0 }
                        for position in begin..<end {
                            let row = x + orderBase[position] * d
                            for i in 0..<d { sums[i] += Double(row[i]) }
                        }
                        let scale = 1 / Double(end - begin)
                        let target = centroidBase + j * d
                        for i in 0..<d { target[i] = Float(sums[i] * scale) }
                    }
                }
            }
        }
        return repaired
    }

    // MARK: - Mini-batch

    static func miniBatch(x: UnsafePointer<Float>, n: Int, d: Int, k: Int, batchSize: Int, options: Options, centroids: inout [Float]) -> Int {
        var counts = [Double](repeating: 0, count: k)
        var batch = [Float](repeating: 0, count: batchSize * d)
        var labels = [Int32](repeating: 0, count: batchSize)
        var workspace = [Float](repeating: 0, count: KMeansAssign.workspaceCount(k: k))
        for iteration in 0..<options.iterations {
            let stream = Philox(seed: options.seed, step: UInt64(2 + iteration), node: 0x6B6D_0003)
            var rows = [Int]()
            for b in 0..<batchSize { rows.append(stream.integer(at: b, below: n)) }
            batch.withUnsafeMutableBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return }
                for b in 0..<batchSize { (base + b * d).update(from: x + rows[b] * d, count: d) }
            }
            var distances = [Float](repeating: 0, count: batchSize)
            batch.withUnsafeBufferPointer { b in
                guard let base = b.baseAddress else { return }
                assign(x: base, n: batchSize, d: d, centroids: centroids, k: k, labels: &labels, distances: &distances, workspace: &workspace)
            }
            for b in 0..<batchSize {
                let j = Int(labels[b])
                counts[j] += 1
                let rate = Float(1 / counts[j])
                for i in 0..<d { centroids[j * d + i] += rate * (batch[b * d + i] - centroids[j * d + i]) }
            }
        }
        return 0
    }
}

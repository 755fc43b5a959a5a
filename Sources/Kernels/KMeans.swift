/// k-means clustering of Float32 rows: k-means|| or greedy k-means++ initialisation (`KMeansInitialization.swift`),
/// then Lloyd iterations (or mini-batch updates) with GEMM-based assignment, empty clusters repaired, deterministic
/// for a seed and thread count.
///
/// - **Initialisation, by default k-means||** (Bahmani et al. 2012): 3 rounds, each drawing about `k` rows by D^2
///   sampling over all rows (over a random `256 k` of them when there are more, faiss's rule for its training set)
///   and updating every row's nearest candidate with one GEMM pass; then greedy k-means++ on the candidates, each
///   weighted by the rows nearest to it, reading the candidates' pairwise distances from a matrix computed once. It
///   matches k-means++ on all rows within 1 % of inertia at a fraction of its cost.
/// - **Greedy k-means++** (scikit-learn's, `parallelRounds: nil`): the first centroid is a uniformly drawn row; each next
///   one is the best of `localTrials` candidates (default `2 + floor(ln k)`) drawn with probability proportional to
///   the squared distance to the nearest centroid so far, "best" meaning the lowest total squared distance once it
///   is added. It runs on a random sample of `initSample` rows (default `min(n, max(16,384, 32k))`), because each new
///   centroid costs a pass over the rows it is drawn from.
/// - **Lloyd**: assign every row, then move each centroid to the mean of its rows (sums in Float64, rows in index
///   order, so any thread count gives the same centroids). After the first pass, bounds (`BoundedLloyd`) skip the
///   rows whose cluster cannot change; the labels are those of plain Lloyd. It stops when no row changes cluster. A
///   cluster left empty takes the row farthest from its centroid among clusters of more than one row
///   (scikit-learn's repair), one row per empty cluster.
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
        /// The rows k-means|| draws its candidates from: a random sample of this many when there are more (default
        /// `256 k`, faiss's rule for the rows it trains on; Lloyd always uses every row).
        public var parallelSample: Int?

        public init(k: Int, iterations: Int = 20, seed: UInt64 = 0, initSample: Int? = nil, localTrials: Int? = nil, batchSize: Int? = nil,
                    parallelRounds: Int? = 3, oversampling: Double = 1, parallelSample: Int? = nil) {
            self.parallelRounds = parallelRounds
            self.oversampling = oversampling
            self.parallelSample = parallelSample
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
        /// Wall-clock seconds of the initialisation (the rest of the fit is the iterations and the final inertia).
        public var initializationSeconds: Double = 0
    }

    /// Clusters `n` rows of `x` (`[n, d]`); `k` must be at most `n`. With `shards`, these are this process's rows
    /// of a fit over several processes (`KMeansShards`), which all call `fit` and get the same result; `k` is then
    /// at most the rows of all of them.
    public static func fit(x: UnsafePointer<Float>, n: Int, d: Int, options: Options, shards: KMeansShards? = nil) -> Result {
        let shards = shards ?? .whole(n)
        if options.batchSize != nil, !shards.isWhole {
            // Mini-batch updates draw from every row: on the gathered rows, the same in every process.
            let all = shards.gather(Array(UnsafeBufferPointer(start: x, count: n * d)))
            return all.withUnsafeBufferPointer { buffer in
                fit(x: buffer.baseAddress ?? x, n: all.count / max(1, d), d: d, options: options)
            }
        }
        let k = max(1, min(options.k, shards.total))
        var centroids = [Float](repeating: 0, count: k * d)
        var repaired = 0
        guard shards.total > 0, d > 0 else { return Result(centroids: centroids, inertia: 0, iterations: 0, repairedClusters: 0) }
        let clock = ContinuousClock()
        let start = clock.now
        centroids.withUnsafeMutableBufferPointer { c in
            guard let base = c.baseAddress else { return }
            if let rounds = options.parallelRounds {
                initializeParallel(x: x, n: n, d: d, k: k, rounds: rounds, options: options, shards: shards, into: base)
            } else {
                initialize(x: x, n: n, d: d, k: k, options: options, shards: shards, into: base)
            }
        }
        if !shards.isWhole {
            var result = lloydOverShards(x: x, n: n, d: d, k: k, options: options, shards: shards, centroids: centroids)
            let initialization = clock.now - start
            result.initializationSeconds = Double(initialization.components.seconds) + Double(initialization.components.attoseconds) * 1e-18
            return result
        }
        let initialization = clock.now - start
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
            var previous = [Int32](repeating: -1, count: n)
            // Lloyd with Hamerly's bounds: after the first pass only rows whose cluster may change are assigned again.
            var lloyd = BoundedLloyd(x: x, n: n, d: d, k: k)
            lloyd.assign(nil, centroids: centroids)
            while iterations < options.iterations {
                // Converged: no row changed cluster, so the centroids would not move (scikit-learn's strict
                // convergence).
                if lloyd.labels == previous { break }
                previous = lloyd.labels
                let before = centroids
                iterations += 1
                if !lloyd.counts.contains(0) {
                    // The means from the sums kept with the labels.
                    for j in 0..<k {
                        let scale = 1 / Double(lloyd.counts[j])
                        for t in 0..<d { centroids[j * d + t] = Float(lloyd.sums[j * d + t] * scale) }
                    }
                } else {
                    labels = lloyd.labels
                    for i in 0..<n { distances[i] = lloyd.upper[i] * lloyd.upper[i] }
                    repaired += update(x: x, n: n, d: d, k: k, labels: &labels, distances: distances, centroids: &centroids)
                    if labels != lloyd.labels {
                        // Empty clusters were repaired (rows moved by hand): start the bounds afresh.
                        lloyd.labels = labels
                        lloyd.assign(nil, centroids: centroids)
                        continue
                    }
                }
                lloyd.reassign(after: before, centroids: centroids, previous: previous)
            }
            labels = lloyd.labels
            // Exact distances to the final centroids, for the inertia.
            centroids.withUnsafeBufferPointer { c in
                guard let base = c.baseAddress else { return }
                for i in 0..<n { distances[i] = Reduce.squaredDistance(x + i * d, base + Int(labels[i]) * d, count: d) }
            }
            distancesAreCurrent = true
        }
        if !distancesAreCurrent {
            assign(x: x, n: n, d: d, centroids: centroids, k: k, labels: &labels, distances: &distances, workspace: &workspace)
        }
        var inertia = 0.0
        for i in 0..<n { inertia += Double(distances[i]) }
        return Result(centroids: centroids, inertia: inertia, iterations: iterations, repairedClusters: repaired,
                      initializationSeconds: Double(initialization.components.seconds) + Double(initialization.components.attoseconds) * 1e-18)
    }

    /// `KMeansAssign.assign` over arrays.
    static func assign(
        x: UnsafePointer<Float>, n: Int, d: Int, centroids: [Float], k: Int, labels: inout [Int32], distances: inout [Float],
        workspace: inout [Float], rowNorms: [Float]? = nil
    ) {
        centroids.withUnsafeBufferPointer { c in
            guard let base = c.baseAddress else { return }
            (rowNorms ?? []).withUnsafeBufferPointer { norms in
                KMeansAssign.assign(x: x, n: n, d: d, centroids: base, k: k, labels: &labels, distances: &distances, workspace: &workspace,
                                    rowNorms: rowNorms == nil ? nil : norms.baseAddress)
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
                    let sums = UnsafeMutablePointer<Double>.allocate(capacity: d)
                    defer { sums.deallocate() }
                    for j in range {
                        let begin = offsets[j], end = offsets[j + 1]
                        guard end > begin else { continue }
                        sums.initialize(repeating: 0, count: d)
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

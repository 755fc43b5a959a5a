#if canImport(Glibc)
import Glibc
#endif

/// The initial centroids of `KMeans.fit`: k-means|| over every row (the default) or greedy k-means++ on a sample.
extension KMeans {
    /// `m` of `0 ..< n`, drawn at random without replacement, in increasing order (all of them when `m >= n`).
    static func randomIndices(_ n: Int, count m: Int, stream: Philox) -> [Int] {
        var rows = Array(0..<n)
        guard m < n else { return rows }
        for i in 0..<m {
            let j = i + stream.integer(at: i, below: n - i)
            rows.swapAt(i, j)
        }
        return Array(rows[0..<m]).sorted()
    }

    /// Greedy k-means++ on a random sample of `initSample` rows (gathered from the processes holding them).
    static func initialize(
        x: UnsafePointer<Float>, n: Int, d: Int, k: Int, options: Options, shards: KMeansShards, into centroids: UnsafeMutablePointer<Float>
    ) {
        let m = min(shards.total, max(k, options.initSample ?? max(16_384, 32 * k)))
        let indices = randomIndices(shards.total, count: m, stream: Philox(seed: options.seed, step: 0, node: 0x6B6D_0001))
        let sample = shards.rows(indices, x: x, n: n, d: d)
        let trials = max(1, options.localTrials ?? (2 + Int(log(Double(k)))))
        let draws = Philox(seed: options.seed, step: 1, node: 0x6B6D_0002)
        sample.withUnsafeBufferPointer { s in
            guard let points = s.baseAddress else { return }
            greedyPlusPlus(points: points, m: m, d: d, k: k, weights: nil, trials: trials, draws: draws, into: centroids)
        }
    }

    /// k-means||: candidates drawn over every row (or over `parallelSample` of them) in a few GEMM rounds, reclustered
    /// by weighted greedy k-means++. Over processes: each draws among its rows by their index over all rows, the
    /// drawn rows are gathered (in index order, as one process draws them) and the potential and weights summed.
    static func initializeParallel(
        x: UnsafePointer<Float>, n: Int, d: Int, k: Int, rounds: Int, options: Options, shards: KMeansShards,
        into centroids: UnsafeMutablePointer<Float>
    ) {
        let total = shards.total
        let limit = max(k, options.parallelSample ?? 256 * k)
        if total > limit {
            var options = options
            options.parallelSample = limit
            let indices = randomIndices(total, count: limit, stream: Philox(seed: options.seed, step: 0, node: 0x6B6D_0006))
            let mine = indices.filter { $0 >= shards.first && $0 < shards.first + n }
            let before = indices.prefix { $0 < shards.first }.count
            var sample = [Float](repeating: 0, count: max(1, mine.count * d))
            sample.withUnsafeMutableBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return }
                for (j, i) in mine.enumerated() { (base + j * d).update(from: x + (i - shards.first) * d, count: d) }
                initializeParallel(x: base, n: mine.count, d: d, k: k, rounds: rounds, options: options,
                                   shards: shards.subset(total: limit, before: before), into: centroids)
            }
            return
        }
        let stream = Philox(seed: options.seed, step: 0, node: 0x6B6D_0004)
        var closest = [Float](repeating: 0, count: n)
        var owner = [Int32](repeating: 0, count: n)
        var candidates = shards.rows([stream.integer(at: 0, below: total)], x: x, n: n, d: d)
        var candidateCount = 1
        candidates.withUnsafeBufferPointer { first in
            guard let row = first.baseAddress else { return }
            for i in 0..<n { closest[i] = Reduce.squaredDistance(x + i * d, row, count: d) }
        }
        var norms = [Float](repeating: 0, count: n)
        KMeansAssign.squaredNorms(x, rows: n, d: d, into: &norms)
        var potential = shards.sum([closest.reduce(0.0) { $0 + Double($1) }])[0]
        var labels = [Int32](repeating: 0, count: n), distances = [Float](repeating: 0, count: n)
        for round in 0..<rounds where potential > 0 {
            let expected = options.oversampling * Double(k)
            var drawn = [Float]()
            for i in 0..<n where Double(stream.uniform(at: 1 + round * total + shards.first + i)) < expected * Double(closest[i]) / potential {
                drawn += UnsafeBufferPointer(start: x + i * d, count: d)
            }
            let rows = shards.gather(drawn)
            let count = rows.count / max(1, d)
            guard count > 0 else { continue }
            if n > 0 {
                var workspace = [Float](repeating: 0, count: KMeansAssign.workspaceCount(k: count))
                assign(x: x, n: n, d: d, centroids: rows, k: count, labels: &labels, distances: &distances, workspace: &workspace,
                       rowNorms: norms)
            }
            let offset = Int32(candidateCount)
            for i in 0..<n where distances[i] < closest[i] {
                closest[i] = distances[i]
                owner[i] = offset + labels[i]
            }
            candidates += rows
            candidateCount += count
            potential = shards.sum([closest.reduce(0.0) { $0 + Double($1) }])[0]
        }
        // Candidates weighted by the rows nearest to them; too few of them: plain k-means++ on a sample.
        guard candidateCount >= k else {
            initialize(x: x, n: n, d: d, k: k, options: options, shards: shards, into: centroids)
            return
        }
        var counts = [Double](repeating: 0, count: candidateCount)
        for i in 0..<n { counts[Int(owner[i])] += 1 }
        let weights = shards.sum(counts).map(Float.init)
        let trials = max(1, options.localTrials ?? (2 + Int(log(Double(k)))))
        let draws = Philox(seed: options.seed, step: 1, node: 0x6B6D_0005)
        candidates.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            greedyPlusPlus(points: base, m: candidateCount, d: d, k: k, weights: weights, trials: trials, draws: draws, into: centroids)
        }
    }

    /// Greedy k-means++ over `m` points (optionally weighted: a point counts `weights[i]` times in the potential and
    /// in the D^2 sampling) into `centroids` (`[k, d]`).
    static func greedyPlusPlus(
        points: UnsafePointer<Float>, m: Int, d: Int, k: Int, weights: [Float]?, trials: Int, draws: Philox,
        into centroids: UnsafeMutablePointer<Float>
    ) {
        let pairs = PointDistances(points: points, m: m, d: d, rowsToRead: k * trials)
        var closest = [Float](repeating: 0, count: m)
        var cumulative = [Double](repeating: 0, count: m)
        var candidateDistances = [Float](repeating: 0, count: trials * m)
        var totals = [Double](repeating: 0, count: trials)
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
        pairs.rows([first], into: &closest)
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
            pairs.rows(candidates, into: &candidateDistances)
            // The candidate that lowers the potential most (each total a sum in index order: any thread count gives
            // the same choice).
            candidateDistances.withUnsafeBufferPointer { distances in
                closest.withUnsafeBufferPointer { near in
                    w.withUnsafeBufferPointer { weight in
                        totals.withUnsafeMutableBufferPointer { out in
                            Parallel.forChunks(trials, grain: max(1, 32_768 / max(1, m))) { range in
                                for t in range {
                                    var total = 0.0
                                    for i in 0..<m { total += Double(weight[i]) * Double(min(near[i], distances[t * m + i])) }
                                    out[t] = total
                                }
                            }
                        }
                    }
                }
            }
            var best = 0
            for t in 1..<trials where totals[t] < totals[best] { best = t }
            for i in 0..<m { closest[i] = min(closest[i], candidateDistances[best * m + i]) }
            potential = totals[best]
            (centroids + c * d).update(from: points + candidates[best] * d, count: d)
        }
    }
}

/// Squared distances between `m` points, for k-means++: rows of the whole `m x m` matrix computed once by GEMM and
/// kept in half precision (each k-means++ step then reads a few rows instead of passing over all the points), or
/// each asked row computed by GEMM against the points. The matrix is made when it takes at most `budgetBytes` and
/// the rows to be read, `rowsToRead`, are at least a quarter of `m` (k-means|| candidates, about 3 K of them for
/// K centroids and 2 + ln K trials each, always are); a thin product per step is memory-bound, the matrix compute-
/// bound, so below that the steps cost less.
///
/// Half precision keeps 11 significant bits (a relative error below 5e-4, which moves D^2 sampling probabilities
/// and potentials by as little); the distances are scaled so that the largest possible one, `4 max ||p||^2`, is
/// 60,000, within Float16's range.
struct PointDistances {
    let points: UnsafePointer<Float>
    let m: Int
    let d: Int
    private var norms: [Float]
    private var matrix: [Float16] = []
    private var scale: Float = 1

    init(points: UnsafePointer<Float>, m: Int, d: Int, rowsToRead: Int, budgetBytes: Int = 512 << 20) {
        self.points = points
        self.m = m
        self.d = d
        norms = [Float](repeating: 0, count: m)
        KMeansAssign.squaredNorms(points, rows: m, d: d, into: &norms)
        guard m * m * MemoryLayout<Float16>.size <= budgetBytes, rowsToRead * 4 >= m else { return }
        let largest = 4 * (norms.max() ?? 0)
        scale = largest > 0 ? 60_000 / largest : 1
        matrix = [Float16](repeating: 0, count: m * m)
        let block = max(1, (1 << 22) / max(1, m))
        var products = [Float](repeating: 0, count: min(block, m) * m)
        let m = self.m, scale = self.scale, norms = self.norms
        var start = 0
        while start < m {
            let rows = min(block, m - start)
            products.withUnsafeMutableBufferPointer { p in
                matrix.withUnsafeMutableBufferPointer { out in
                    guard let product = p.baseAddress, let target = out.baseAddress else { return }
                    Gemm.multiply(transA: false, transB: true, m: rows, n: m, k: d, a: points + start * d, lda: d, b: points, ldb: d,
                                  c: product, ldc: m)
                    Parallel.forChunks(rows, grain: max(1, 65_536 / max(1, m))) { range in
                        for r in range {
                            let row = start + r, line = product + r * m, destination = target + row * m
                            for i in 0..<m { destination[i] = Float16(max(0, norms[row] + norms[i] - 2 * line[i]) * scale) }
                            destination[row] = 0
                        }
                    }
                }
            }
            start += rows
        }
    }

    /// `out[r * m + i]`: the squared distance of point `indices[r]` to point `i`.
    func rows(_ indices: [Int], into out: inout [Float]) {
        let m = self.m, d = self.d
        out.withUnsafeMutableBufferPointer { o in
            guard let target = o.baseAddress else { return }
            if !matrix.isEmpty {
                let inverse = 1 / scale
                matrix.withUnsafeBufferPointer { stored in
                    for (r, index) in indices.enumerated() {
                        let line = target + r * m
                        for i in 0..<m { line[i] = Float(stored[index * m + i]) * inverse }
                    }
                }
                return
            }
            var selected = [Float](repeating: 0, count: indices.count * d)
            selected.withUnsafeMutableBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return }
                for (r, index) in indices.enumerated() { (base + r * d).update(from: points + index * d, count: d) }
                Gemm.multiply(transA: false, transB: true, m: indices.count, n: m, k: d, a: base, lda: d, b: points, ldb: d, c: target, ldc: m)
            }
            for (r, index) in indices.enumerated() {
                let line = target + r * m, rowNorm = norms[index]
                Parallel.forChunks(m, grain: 16_384) { range in
                    for i in range { line[i] = max(0, norms[i] + rowNorm - 2 * line[i]) }
                }
                line[index] = 0
            }
        }
    }
}

/// Lloyd iterations over rows spread across processes: the bounds and assignments of each process's rows stay in
/// it; each iteration sums the clusters' row sums and counts over the processes, so every process moves the
/// centroids alike. Empty clusters are repaired as in one process: the farthest rows of all processes are
/// gathered and walked in the same order.
extension KMeans {
    static func lloydOverShards(
        x: UnsafePointer<Float>, n: Int, d: Int, k: Int, options: Options, shards: KMeansShards, centroids initial: [Float]
    ) -> Result {
        var centroids = initial
        var repaired = 0, iterations = 0
        var lloyd = BoundedLloyd(x: x, n: n, d: d, k: k)
        lloyd.assign(nil, centroids: centroids)
        var previous = [Int32](repeating: -1, count: n)
        /// The clusters' sums and counts over all processes (a process without rows adds zeros).
        func totals(_ lloyd: BoundedLloyd) -> (sums: [Double], counts: [Double]) {
            let localSums = lloyd.sums.count == k * d ? lloyd.sums : [Double](repeating: 0, count: k * d)
            let localCounts = lloyd.counts.count == k ? lloyd.counts.map(Double.init) : [Double](repeating: 0, count: k)
            let summed = shards.sum(localSums + localCounts)
            return (Array(summed[0..<(k * d)]), Array(summed[(k * d)...]))
        }
        while iterations < options.iterations {
            // Converged when no row of any process changed cluster.
            var changed = 0
            for i in 0..<n where lloyd.labels[i] != previous[i] { changed += 1 }
            if shards.sum([Double(changed)])[0] == 0 { break }
            previous = lloyd.labels
            let before = centroids
            iterations += 1
            let (sums, counts) = totals(lloyd)
            if !counts.contains(0) {
                for j in 0..<k {
                    let scale = 1 / counts[j]
                    for t in 0..<d { centroids[j * d + t] = Float(sums[j * d + t] * scale) }
                }
            } else {
                var labels = lloyd.labels
                let distances = lloyd.upper.map { $0 * $0 }
                let moved = repairOverShards(x: x, n: n, d: d, k: k, shards: shards, counts: counts.map { Int($0) }, labels: &labels,
                                             distances: distances, centroids: &centroids)
                repaired += moved
                if moved > 0 {
                    lloyd.labels = labels
                    lloyd.assign(nil, centroids: centroids)
                    continue
                }
            }
            lloyd.reassign(after: before, centroids: centroids, previous: previous)
        }
        var local = 0.0
        centroids.withUnsafeBufferPointer { c in
            guard let base = c.baseAddress else { return }
            for i in 0..<n { local += Double(Reduce.squaredDistance(x + i * d, base + Int(lloyd.labels[i]) * d, count: d)) }
        }
        return Result(centroids: centroids, inertia: shards.sum([local])[0], iterations: iterations, repairedClusters: repaired)
    }

    /// `update` over processes: empty clusters (by the summed `counts`) take the farthest rows of all processes
    /// (distance descending, then index over all rows), from clusters of more than one row; then every centroid with
    /// rows moves to their mean. Returns the rows moved (the same in every process).
    static func repairOverShards(
        x: UnsafePointer<Float>, n: Int, d: Int, k: Int, shards: KMeansShards, counts globalCounts: [Int], labels: inout [Int32],
        distances: [Float], centroids: inout [Float]
    ) -> Int {
        var counts = globalCounts
        let empty = (0..<k).filter { counts[$0] == 0 }
        // Each walk skips at most one row per cluster (its last), so the first `empty + k` rows of each process suffice.
        let wanted = min(n, empty.count + k)
        let far = (0..<n).sorted { distances[$0] != distances[$1] ? distances[$0] > distances[$1] : $0 < $1 }.prefix(wanted)
        var words = [Float]()
        for i in far {
            words += [distances[i], Float(bitPattern: UInt32(truncatingIfNeeded: shards.first + i)), Float(bitPattern: UInt32(bitPattern: labels[i]))]
        }
        let gathered = shards.gather(words)
        var rows = [(distance: Float, index: Int, label: Int)]()
        for r in stride(from: 0, to: gathered.count - 2, by: 3) {
            rows.append((gathered[r], Int(gathered[r + 1].bitPattern), Int(Int32(bitPattern: gathered[r + 2].bitPattern))))
        }
        rows.sort { $0.distance != $1.distance ? $0.distance > $1.distance : $0.index < $1.index }
        var moved = 0, next = 0
        for cluster in empty {
            while next < rows.count, counts[rows[next].label] <= 1 { next += 1 }
            guard next < rows.count else { break }
            let row = rows[next]
            counts[row.label] -= 1
            counts[cluster] += 1
            if row.index >= shards.first, row.index < shards.first + n { labels[row.index - shards.first] = Int32(cluster) }
            moved += 1
            next += 1
        }
        // The means of the clusters' rows, summed over the processes (each adds its rows in index order).
        var sums = [Double](repeating: 0, count: k * d + k)
        for i in 0..<n {
            let j = Int(labels[i])
            for t in 0..<d { sums[j * d + t] += Double(x[i * d + t]) }
            sums[k * d + j] += 1
        }
        let totals = shards.sum(sums)
        for j in 0..<k where totals[k * d + j] > 0 {
            let scale = 1 / totals[k * d + j]
            for t in 0..<d { centroids[j * d + t] = Float(totals[j * d + t] * scale) }
        }
        return moved
    }
}

/// Lloyd iterations that skip rows whose cluster cannot change (Hamerly 2010, with the group bounds of Yinyang
/// k-means, Ding et al. 2015): each row keeps an upper bound on the distance to its centroid and, per group of
/// centroids, a lower bound on the distance to every other centroid of the group. When centroids move, the upper
/// bound grows by its centroid's move and each group's bound shrinks by the largest move in the group; a row whose
/// upper bound passes its smallest lower bound gets the exact distance to its centroid; a row whose bounds still
/// overlap is assigned again, against the centroids of the groups whose bounds it passes when they are few, or by
/// GEMM over the gathered rows otherwise. The labels are those of plain Lloyd iterations.
struct BoundedLloyd {
    let x: UnsafePointer<Float>
    let n: Int
    let d: Int
    let k: Int
    var labels: [Int32]
    /// Bounds on the distance (not squared) to the row's centroid, and (`[n, groups]`) to the nearest other centroid
    /// of each group; centroid `j` is in group `j / groupSize`.
    var upper: [Float]
    var lower: [Float]
    let groups: Int
    let groupSize: Int
    /// `||x_i||^2`.
    let rowNorms: [Float]
    /// The sums of each cluster's rows (Float64) and the rows in each cluster, so that the next centroids need no pass
    /// over the rows: added up in index order by each pass over all rows (as `KMeans.update` adds them), then kept
    /// current by `moveRows` after partial passes.
    var sums: [Double] = []
    var counts: [Int] = []
    /// When the bounds keep too few rows out to pay, the next iterations assign every row without them (1, then 2,
    /// 4, ... iterations each time they fail again).
    private var unboundedIterations = 0
    private var backoff = 1

    init(x: UnsafePointer<Float>, n: Int, d: Int, k: Int) {
        self.x = x
        self.n = n
        self.d = d
        self.k = k
        labels = [Int32](repeating: 0, count: n)
        upper = [Float](repeating: .infinity, count: n)
        // About 8 centroids a group, at most 128 groups and 16 M bounds.
        let groupLimit = max(1, min(128, (1 << 24) / max(1, n)))
        groupSize = max(8, (k + groupLimit - 1) / groupLimit)
        groups = (k + groupSize - 1) / groupSize
        lower = [Float](repeating: 0, count: n * groups)
        var norms = [Float](repeating: 0, count: n)
        KMeansAssign.squaredNorms(x, rows: n, d: d, into: &norms)
        rowNorms = norms
    }

    /// After the centroids moved from `before` to `centroids`: the bounds loosened by each centroid's move and the
    /// rows whose cluster may have changed assigned again (or every row, while the bounds do not pay); `previous`
    /// are the labels the sums were made with.
    mutating func reassign(after before: [Float], centroids: [Float], previous: [Int32]) {
        if unboundedIterations > 0 {
            unboundedIterations -= 1
            assign(nil, centroids: centroids)
            return
        }
        var moved = [Float](repeating: 0, count: k)
        let (k, d) = (self.k, self.d)
        centroids.withUnsafeBufferPointer { after in
            before.withUnsafeBufferPointer { earlier in
                guard let a = after.baseAddress, let b = earlier.baseAddress else { return }
                for j in 0..<k { moved[j] = Reduce.squaredDistance(a + j * d, b + j * d, count: d).squareRoot() }
            }
        }
        let stale = loosen(moved: moved, centroids: centroids)
        if isMostOf(stale.count) {
            unboundedIterations = backoff
            backoff *= 2
        }
        if !assign(stale, centroids: centroids) { moveRows(from: previous) }
    }

    /// Whether assigning `count` rows costs about as much as a full pass: the GEMM is per row, but a full pass skips
    /// the gather and the bounds' pass over the rows, which weigh more against few centroids (half the rows at
    /// K <= 64, 90 % from K = 320).
    func isMostOf(_ count: Int) -> Bool {
        Double(count) > max(0.5, min(0.9, 1 - 32 / Double(k))) * Double(n)
    }

    /// Assigns `rows` (all rows when nil) exactly, with their nearest and second-nearest distances. Returns whether
    /// it passed over all rows, and so filled `sums` and `counts`.
    @discardableResult
    mutating func assign(_ rows: [Int32]?, centroids: [Float]) -> Bool {
        // Most rows stale: all of them in place, cheaper than gathering the stale ones.
        let rows = rows.flatMap { isMostOf($0.count) ? nil : $0 }
        let count = rows?.count ?? n
        guard count > 0 else { return false }
        if rows == nil {
            sums = [Double](repeating: 0, count: k * d)
            counts = [Int](repeating: 0, count: k)
        }
        // Blocks of at most 2,048 rows, still in cache when a full pass takes their sums.
        let block = min(2_048, KMeansAssign.blockRows(k: k))
        var gathered = [Float](repeating: 0, count: rows == nil ? 0 : min(block, count) * d)
        var scores = [Float](repeating: 0, count: min(block, count) * k)
        var norms = [Float](repeating: 0, count: k)
        centroids.withUnsafeBufferPointer { c in
            guard let cBase = c.baseAddress else { return }
            KMeansAssign.squaredNorms(cBase, rows: k, d: d, into: &norms)
            var start = 0
            while start < count {
                let length = min(block, count - start)
                // Score (r, j) is at r * rowStride + j * columnStride.
                let (rowStride, columnStride) = scores.withUnsafeMutableBufferPointer { s in
                    guard let sBase = s.baseAddress else { return (k, 1) }
                    guard let rows else {
                        return KMeansAssign.products(of: x + start * d, count: length, d: d, centroids: cBase, k: k, into: sBase)
                    }
                    return gathered.withUnsafeMutableBufferPointer { g in
                        guard let gBase = g.baseAddress else { return (k, 1) }
                        for r in 0..<length { (gBase + r * d).update(from: x + Int(rows[start + r]) * d, count: d) }
                        return KMeansAssign.products(of: gBase, count: length, d: d, centroids: cBase, k: k, into: sBase)
                    }
                }
                // Nearest and second nearest per row (ties to the lowest index); rows are distinct, so chunks write
                // disjoint places.
                let clusters = k, rowNorms = self.rowNorms, groups = self.groups, groupSize = self.groupSize
                scores.withUnsafeBufferPointer { s in
                    norms.withUnsafeBufferPointer { cn in
                        labels.withUnsafeMutableBufferPointer { labelOut in
                            upper.withUnsafeMutableBufferPointer { upperOut in
                                lower.withUnsafeMutableBufferPointer { lowerOut in
                                    Parallel.forChunks(length, grain: max(1, 16_384 / max(1, clusters))) { range in
                                        for r in range {
                                            let row = rows.map { Int($0[start + r]) } ?? (start + r)
                                            let line = r * rowStride
                                            var best = 0, first = Float.infinity
                                            for j in 0..<clusters {
                                                let value = cn[j] - 2 * s[line + j * columnStride]
                                                if value < first { first = value; best = j }
                                            }
                                            labelOut[row] = Int32(best)
                                            upperOut[row] = max(0, rowNorms[row] + first).squareRoot()
                                            for g in 0..<groups {
                                                var nearest = Float.infinity
                                                for j in (g * groupSize)..<min(clusters, (g + 1) * groupSize) where j != best {
                                                    nearest = min(nearest, cn[j] - 2 * s[line + j * columnStride])
                                                }
                                                lowerOut[row * groups + g] = max(0, rowNorms[row] + nearest).squareRoot()
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                if rows == nil { accumulate(start: start, length: length) }
                start += length
            }
        }
        return rows == nil
    }

    /// Moves the rows whose cluster changed since `previous` between the sums, in index order.
    mutating func moveRows(from previous: [Int32]) {
        let x = self.x, d = self.d
        labels.withUnsafeBufferPointer { labelIn in
            sums.withUnsafeMutableBufferPointer { total in
                guard let totalBase = total.baseAddress else { return }
                for i in 0..<n where labelIn[i] != previous[i] {
                    let row = x + i * d, from = totalBase + Int(previous[i]) * d, to = totalBase + Int(labelIn[i]) * d
                    for t in 0..<d {
                        from[t] -= Double(row[t])
                        to[t] += Double(row[t])
                    }
                    counts[Int(previous[i])] -= 1
                    counts[Int(labelIn[i])] += 1
                }
            }
        }
    }

    /// Adds rows `start..<start + length` to the sums of their clusters: threads split the dimensions, each adding
    /// rows in index order.
    private mutating func accumulate(start: Int, length: Int) {
        let x = self.x, d = self.d
        for r in start..<(start + length) { counts[Int(labels[r])] += 1 }
        labels.withUnsafeBufferPointer { labelIn in
            sums.withUnsafeMutableBufferPointer { total in
                guard let totalBase = total.baseAddress else { return }
                Parallel.forChunks(d, grain: 64) { dims in
                    for r in start..<(start + length) {
                        let row = UnsafeRawPointer(x + r * d), target = UnsafeMutableRawPointer(totalBase + Int(labelIn[r]) * d)
                        var t = dims.lowerBound
                        while t + 8 <= dims.upperBound {
                            let values = SIMD8<Double>(row.loadUnaligned(fromByteOffset: t * 4, as: SIMD8<Float>.self))
                            let sum = target.loadUnaligned(fromByteOffset: t * 8, as: SIMD8<Double>.self) + values
                            target.storeBytes(of: sum, toByteOffset: t * 8, as: SIMD8<Double>.self)
                            t += 8
                        }
                        let rowFloats = x + r * d, targetDoubles = totalBase + Int(labelIn[r]) * d
                        while t < dims.upperBound {
                            targetDoubles[t] += Double(rowFloats[t])
                            t += 1
                        }
                    }
                }
            }
        }
    }

    /// After the centroids moved by `moved` (per centroid), updates the bounds and returns the rows to assign again
    /// by GEMM. A row whose bounds overlap first gets its upper bound tightened to the exact distance to its
    /// centroid; if they still overlap in only a few groups (at most `k / 8` centroids in them), the row is assigned
    /// here against those groups' centroids (Yinyang's local filter); otherwise it is returned.
    mutating func loosen(moved: [Float], centroids: [Float]) -> [Int32] {
        var groupMoves = [Float](repeating: 0, count: groups)
        for j in 0..<k { groupMoves[j / groupSize] = max(groupMoves[j / groupSize], moved[j]) }
        var isStale = [Bool](repeating: false, count: n)
        let x = self.x, d = self.d, k = self.k, groups = self.groups, groupSize = self.groupSize
        let localLimit = max(groupSize, k / 8)
        centroids.withUnsafeBufferPointer { c in
            labels.withUnsafeMutableBufferPointer { labelOut in
                upper.withUnsafeMutableBufferPointer { upperOut in
                    lower.withUnsafeMutableBufferPointer { lowerOut in
                        isStale.withUnsafeMutableBufferPointer { staleOut in
                            guard let cBase = c.baseAddress else { return }
                            Parallel.forChunks(n, grain: 1_024) { range in
                                var failing = [Int](), checked = [(centroid: Int, distance: Float)]()
                                for i in range {
                                    let own = Int(labelOut[i]), row = x + i * d, bounds = i * groups
                                    upperOut[i] += moved[own]
                                    var nearest = Float.infinity
                                    for g in 0..<groups {
                                        let bound = lowerOut[bounds + g] - groupMoves[g]
                                        lowerOut[bounds + g] = bound
                                        nearest = min(nearest, bound)
                                    }
                                    // A little slack for rounding: a row is kept only when its bounds are clearly apart.
                                    guard upperOut[i] >= nearest * 0.9999 else { continue }
                                    let distance = Reduce.squaredDistance(row, cBase + own * d, count: d).squareRoot()
                                    upperOut[i] = distance
                                    guard distance >= nearest * 0.9999 else { continue }
                                    failing.removeAll(keepingCapacity: true)
                                    for g in 0..<groups where distance >= lowerOut[bounds + g] * 0.9999 { failing.append(g) }
                                    guard failing.count * groupSize <= localLimit else {
                                        staleOut[i] = true
                                        continue
                                    }
                                    // Exact distances to the centroids of the failing groups; the nearest of them and
                                    // the current centroid is the row's new centroid.
                                    checked.removeAll(keepingCapacity: true)
                                    var best = own, bestDistance = distance
                                    for g in failing {
                                        for j in (g * groupSize)..<min(k, (g + 1) * groupSize) where j != own {
                                            let candidate = Reduce.squaredDistance(row, cBase + j * d, count: d).squareRoot()
                                            checked.append((j, candidate))
                                            if candidate < bestDistance || (candidate == bestDistance && j < best) {
                                                best = j
                                                bestDistance = candidate
                                            }
                                        }
                                    }
                                    // New bounds: failing groups exactly from those distances (the old centroid now one
                                    // of the others); the others keep theirs, the old centroid's group capped by its
                                    // distance.
                                    for g in failing { lowerOut[bounds + g] = .infinity }
                                    for (j, value) in checked where j != best {
                                        lowerOut[bounds + j / groupSize] = min(lowerOut[bounds + j / groupSize], value)
                                    }
                                    if best != own {
                                        let ownGroup = own / groupSize
                                        lowerOut[bounds + ownGroup] = min(lowerOut[bounds + ownGroup], distance)
                                    }
                                    labelOut[i] = Int32(best)
                                    upperOut[i] = bestDistance
                                }
                            }
                        }
                    }
                }
            }
        }
        var stale = [Int32]()
        for i in 0..<n where isStale[i] { stale.append(Int32(i)) }
        return stale
    }
}

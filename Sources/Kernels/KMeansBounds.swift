/// Lloyd iterations that skip rows whose cluster cannot change (Hamerly 2010): each row keeps an upper bound on the
/// distance to its centroid and a lower bound on the distance to every other; when centroids move, the bounds move
/// by the distances moved, and only rows whose upper bound passes their lower bound are assigned again (by GEMM over
/// the gathered rows). The labels are those of plain Lloyd iterations.
struct BoundedLloyd {
    let x: UnsafePointer<Float>
    let n: Int
    let d: Int
    let k: Int
    var labels: [Int32]
    /// Bounds on the distance (not squared) to the row's centroid, and to its nearest other centroid.
    var upper: [Float]
    var lower: [Float]
    /// `||x_i||^2`.
    let rowNorms: [Float]

    init(x: UnsafePointer<Float>, n: Int, d: Int, k: Int) {
        self.x = x
        self.n = n
        self.d = d
        self.k = k
        labels = [Int32](repeating: 0, count: n)
        upper = [Float](repeating: .infinity, count: n)
        lower = [Float](repeating: 0, count: n)
        var norms = [Float](repeating: 0, count: n)
        KMeansAssign.squaredNorms(x, rows: n, d: d, into: &norms)
        rowNorms = norms
    }

    /// Assigns `rows` (all rows when nil) exactly, with their nearest and second-nearest distances.
    mutating func assign(_ rows: [Int32]?, centroids: [Float]) {
        let count = rows?.count ?? n
        guard count > 0 else { return }
        let block = KMeansAssign.blockRows(k: k)
        var gathered = [Float](repeating: 0, count: rows == nil ? 0 : min(block, count) * d)
        var scores = [Float](repeating: 0, count: min(block, count) * k)
        var norms = [Float](repeating: 0, count: k)
        centroids.withUnsafeBufferPointer { c in
            guard let cBase = c.baseAddress else { return }
            KMeansAssign.squaredNorms(cBase, rows: k, d: d, into: &norms)
            var start = 0
            while start < count {
                let length = min(block, count - start)
                scores.withUnsafeMutableBufferPointer { s in
                    guard let sBase = s.baseAddress else { return }
                    if let rows {
                        gathered.withUnsafeMutableBufferPointer { g in
                            guard let gBase = g.baseAddress else { return }
                            for r in 0..<length { (gBase + r * d).update(from: x + Int(rows[start + r]) * d, count: d) }
                            Gemm.multiply(transA: false, transB: true, m: length, n: k, k: d, a: gBase, lda: d, b: cBase, ldb: d, c: sBase, ldc: k)
                        }
                    } else {
                        Gemm.multiply(transA: false, transB: true, m: length, n: k, k: d, a: x + start * d, lda: d, b: cBase, ldb: d,
                                      c: sBase, ldc: k)
                    }
                }
                // Nearest and second nearest per row (ties to the lowest index); rows are distinct, so chunks write
                // disjoint places.
                let clusters = k, rowNorms = self.rowNorms
                scores.withUnsafeBufferPointer { s in
                    norms.withUnsafeBufferPointer { cn in
                        labels.withUnsafeMutableBufferPointer { labelOut in
                            upper.withUnsafeMutableBufferPointer { upperOut in
                                lower.withUnsafeMutableBufferPointer { lowerOut in
                                    Parallel.forChunks(length, grain: max(1, 16_384 / max(1, clusters))) { range in
                                        for r in range {
                                            let row = rows.map { Int($0[start + r]) } ?? (start + r)
                                            let line = r * clusters
                                            var best = 0, first = Float.infinity, second = Float.infinity
                                            for j in 0..<clusters {
                                                let value = cn[j] - 2 * s[line + j]
                                                if value < first { second = first; first = value; best = j } else if value < second { second = value }
                                            }
                                            labelOut[row] = Int32(best)
                                            upperOut[row] = max(0, rowNorms[row] + first).squareRoot()
                                            lowerOut[row] = max(0, rowNorms[row] + second).squareRoot()
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                start += length
            }
        }
    }

    /// After the centroids moved by `moved` (per centroid), loosens the bounds and returns the rows to assign again.
    mutating func loosen(moved: [Float]) -> [Int32] {
        var largest: Float = 0, secondLargest: Float = 0, largestIndex = -1
        for j in 0..<k {
            if moved[j] > largest { secondLargest = largest; largest = moved[j]; largestIndex = j } else if moved[j] > secondLargest { secondLargest = moved[j] }
        }
        var stale = [Int32]()
        for i in 0..<n {
            let own = Int(labels[i])
            upper[i] += moved[own]
            lower[i] -= own == largestIndex ? secondLargest : largest
            // A little slack for rounding: a row is kept only when its bounds are clearly apart.
            if upper[i] >= lower[i] * 0.9999 { stale.append(Int32(i)) }
        }
        return stale
    }
}

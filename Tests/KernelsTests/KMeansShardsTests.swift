import Foundation
import Kernels
import Testing

/// k-means over rows split among processes (threads here, meeting at each collective call as MPI ranks do): the
/// centroids of one process with every row, within the rounding of sums added in another order.
@Suite struct KMeansShardsTests {
    /// Collective calls among `size` threads: each deposits its part, the last to arrive combines them, all leave
    /// with the result.
    final class Meeting: @unchecked Sendable {
        let size: Int
        private let condition = NSCondition()
        private var parts: [[Double]?]
        private var floatParts: [[Float]?]
        private var result: Any?
        private var arrived = 0, generation = 0

        init(size: Int) {
            self.size = size
            parts = Array(repeating: nil, count: size)
            floatParts = Array(repeating: nil, count: size)
        }

        private func meet<T>(_ rank: Int, deposit: () -> Void, combine: () -> T) -> T {
            condition.lock()
            defer { condition.unlock() }
            let mine = generation
            deposit()
            arrived += 1
            if arrived == size {
                result = combine()
                arrived = 0
                generation += 1
                condition.broadcast()
            } else {
                while generation == mine { condition.wait() }
            }
            return result as! T
        }

        func sum(_ rank: Int, _ values: [Double]) -> [Double] {
            meet(rank, deposit: { parts[rank] = values }) {
                var total = [Double](repeating: 0, count: values.count)
                for part in parts { for (i, v) in (part ?? []).enumerated() { total[i] += v } }
                return total
            }
        }

        func gather(_ rank: Int, _ values: [Float]) -> [Float] {
            meet(rank, deposit: { floatParts[rank] = values }) { floatParts.flatMap { $0 ?? [] } }
        }
    }

    /// Fits `x` split into `bounds` (row ranges, one per thread) and returns each thread's result.
    static func fitSharded(_ x: [Float], d: Int, bounds: [Range<Int>], options: KMeans.Options) -> [KMeans.Result] {
        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var values: [Int: KMeans.Result] = [:]
        }
        let meeting = Meeting(size: bounds.count), results = Results()
        let total = x.count / d
        let group = DispatchGroup()
        for (rank, rows) in bounds.enumerated() {
            let local = rows.isEmpty ? [Float](repeating: 0, count: d) : Array(x[(rows.lowerBound * d)..<(rows.upperBound * d)])
            let shards = KMeansShards(total: total, first: rows.lowerBound, sum: { meeting.sum(rank, $0) },
                                      gather: { meeting.gather(rank, $0) })
            group.enter()
            Thread.detachNewThread {
                let result = local.withUnsafeBufferPointer { buffer in
                    KMeans.fit(x: buffer.baseAddress!, n: rows.count, d: d, options: options, shards: shards)
                }
                results.lock.withLock { results.values[rank] = result }
                group.leave()
            }
        }
        group.wait()
        return bounds.indices.map { results.values[$0]! }
    }

    static func relativeDifference(_ a: [Float], _ b: [Float]) -> Float {
        var difference: Float = 0, size: Float = 1e-12
        for (x, y) in zip(a, b) { difference = max(difference, abs(x - y)); size = max(size, abs(x)) }
        return difference / size
    }

    @Test("2 and 3 shards (one of them empty) give the centroids, inertia and iterations of one process")
    func shardsAsOne() {
        let (n, d, k) = (3_000, 12, 24)
        let (x, _) = KMeansTests.mixture(n: n, d: d, centers: 16, spread: 0.8, seed: 5)
        let options = KMeans.Options(k: k, iterations: 25, seed: 9)
        let whole = KMeans.fit(x: x, n: n, d: d, options: options)
        for bounds in [[0..<1_400, 1_400..<3_000], [0..<1_000, 1_000..<1_000, 1_000..<3_000]] {
            let results = Self.fitSharded(x, d: d, bounds: bounds, options: options)
            for result in results {
                #expect(result.centroids == results[0].centroids, "every process gets the same centroids")
                #expect(Self.relativeDifference(whole.centroids, result.centroids) <= 1e-5, "\(bounds)")
                #expect(result.iterations == whole.iterations)
                #expect(abs(result.inertia - whole.inertia) <= 1e-6 * whole.inertia)
            }
        }
    }

    @Test("k-means|| on a sample of the rows (more rows than 256 K), split over 2 shards")
    func sampledInitialisation() {
        let (n, d, k) = (3_000, 6, 8)
        let (x, _) = KMeansTests.mixture(n: n, d: d, centers: 8, spread: 0.5, seed: 6)
        let options = KMeans.Options(k: k, iterations: 10, seed: 3, parallelSample: 500)
        let whole = KMeans.fit(x: x, n: n, d: d, options: options)
        let results = Self.fitSharded(x, d: d, bounds: [0..<1_234, 1_234..<3_000], options: options)
        #expect(Self.relativeDifference(whole.centroids, results[0].centroids) <= 1e-5)
        #expect(results[0].centroids == results[1].centroids)
    }

    @Test("duplicated rows: the empty clusters are repaired from the farthest rows of both shards, as in one process")
    func repairOverShards() {
        let d = 3
        var x = [Float]()
        for i in 0..<40 { x += i < 30 ? [0, 0, 0] : [Float(i), 1, 2] }
        let options = KMeans.Options(k: 12, iterations: 5, seed: 1)
        let whole = KMeans.fit(x: x, n: 40, d: d, options: options)
        let results = Self.fitSharded(x, d: d, bounds: [0..<33, 33..<40], options: options)
        #expect(results[0].centroids == results[1].centroids)
        #expect(results[0].inertia < 1e-6 && whole.inertia < 1e-6)
        #expect(whole.repairedClusters > 0 && results[0].repairedClusters == whole.repairedClusters, "\(whole.repairedClusters) repaired")
        #expect(Set(stride(from: 0, to: whole.centroids.count, by: d).map { whole.centroids[$0] })
                == Set(stride(from: 0, to: results[0].centroids.count, by: d).map { results[0].centroids[$0] }))
    }
}

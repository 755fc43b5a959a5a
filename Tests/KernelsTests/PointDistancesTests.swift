@testable import Kernels
import Testing

/// The pairwise distances greedy k-means++ reads: the half-precision matrix against rows computed by GEMM (the
/// fallback), and both against a plain loop.
@Suite struct PointDistancesTests {
    @Test func matrixRowsMatchComputedRowsAndALoop() {
        let (m, d) = (300, 24)
        var points = [Float](repeating: 0, count: m * d)
        Philox(seed: 4).fillNormal(&points, count: points.count, std: 3)
        // Far from the origin on one axis, as HuBERT states are on a few: the scale must keep small distances.
        for i in 0..<m { points[i * d] += 40 }
        let indices = [0, 17, 299, 150]
        var fromMatrix = [Float](repeating: 0, count: indices.count * m)
        var computed = fromMatrix
        points.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            let matrix = PointDistances(points: base, m: m, d: d, rowsToRead: m)
            let streamed = PointDistances(points: base, m: m, d: d, rowsToRead: m, budgetBytes: 0)
            matrix.rows(indices, into: &fromMatrix)
            streamed.rows(indices, into: &computed)
        }
        for (r, index) in indices.enumerated() {
            #expect(fromMatrix[r * m + index] == 0 && computed[r * m + index] == 0, "a point's distance to itself")
            for i in 0..<m {
                var exact = 0.0
                for t in 0..<d { let delta = Double(points[index * d + t]) - Double(points[i * d + t]); exact += delta * delta }
                let stored = Double(fromMatrix[r * m + i]), gemm = Double(computed[r * m + i])
                // Half precision: 11 significant bits; GEMM: cancellation against norms of ~1,600.
                #expect(abs(stored - exact) <= 1e-3 * exact + 0.05, "row \(index), point \(i): \(stored) vs \(exact)")
                #expect(abs(gemm - exact) <= 1e-4 * exact + 0.05, "row \(index), point \(i): \(gemm) vs \(exact)")
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Kernels
import Testing

@Suite("AM-Softmax loss")
struct AMSoftmaxTests {
    /// One AM-Softmax problem with every buffer its kernels read and write.
    final class Problem {
        let rows: Int, dimension: Int, classes: Int
        let scale: Float, margin: Float
        let features: TestBuffer, weight: TestBuffer
        var targets: [Int32]
        let cosine: TestBuffer, normalizedFeatures: TestBuffer, featureNorms: TestBuffer
        let normalizedWeight: TestBuffer, weightNorms: TestBuffer, logSumExp: TestBuffer
        let dFeatures: TestBuffer, dWeight: TestBuffer, workspace: TestBuffer

        init(rows: Int, dimension: Int, classes: Int, targets: [Int32], scale: Float, margin: Float, seed: UInt64) {
            self.rows = rows
            self.dimension = dimension
            self.classes = classes
            self.targets = targets
            self.scale = scale
            self.margin = margin
            features = TestBuffer(random: rows * dimension, seed: seed, low: -2, high: 2)
            weight = TestBuffer(random: classes * dimension, seed: seed + 1)
            cosine = TestBuffer(count: rows * classes, value: .nan)
            normalizedFeatures = TestBuffer(count: rows * dimension, value: .nan)
            featureNorms = TestBuffer(count: rows, value: .nan)
            normalizedWeight = TestBuffer(count: classes * dimension, value: .nan)
            weightNorms = TestBuffer(count: classes, value: .nan)
            logSumExp = TestBuffer(count: rows, value: .nan)
            dFeatures = TestBuffer(count: rows * dimension, value: .nan)
            dWeight = TestBuffer(count: classes * dimension, value: .nan)
            workspace = TestBuffer(count: AMSoftmax.backwardWorkspaceCount(rows: rows, classes: classes), value: .nan)
        }

        @discardableResult
        func forward() -> AMSoftmax.Result {
            targets.withUnsafeBufferPointer { targets in
                AMSoftmax.forward(
                    features: features.readOnly, weight: weight.readOnly, targets: targets.baseAddress!,
                    scale: scale, margin: margin, cosine: cosine.pointer,
                    normalizedFeatures: normalizedFeatures.pointer, featureNorms: featureNorms.pointer,
                    normalizedWeight: normalizedWeight.pointer, weightNorms: weightNorms.pointer,
                    logSumExp: logSumExp.pointer, rows: rows, dimension: dimension, classes: classes)
            }
        }

        func backward(dLoss: Float) {
            targets.withUnsafeBufferPointer { targets in
                AMSoftmax.backward(
                    dLoss: dLoss, targets: targets.baseAddress!, scale: scale, margin: margin,
                    cosine: cosine.readOnly, normalizedFeatures: normalizedFeatures.readOnly,
                    featureNorms: featureNorms.readOnly, normalizedWeight: normalizedWeight.readOnly,
                    weightNorms: weightNorms.readOnly, logSumExp: logSumExp.readOnly,
                    dFeatures: dFeatures.pointer, dWeight: dWeight.pointer, workspace: workspace.pointer,
                    rows: rows, dimension: dimension, classes: classes)
            }
        }

        /// Naive Float64 AM-Softmax: (cosine, loss over rows with a target in 0..<classes).
        func reference() -> (cosine: [Double], loss: Double, featureNorms: [Double], weightNorms: [Double]) {
            func normalize(_ x: [Double], rows: Int) -> ([Double], [Double]) {
                var out = x, norms = [Double](repeating: 0, count: rows)
                for r in 0..<rows {
                    var total = 0.0
                    for c in 0..<dimension { total += x[r * dimension + c] * x[r * dimension + c] }
                    norms[r] = max(total.squareRoot(), 1e-12)
                    for c in 0..<dimension { out[r * dimension + c] = x[r * dimension + c] / norms[r] }
                }
                return (out, norms)
            }
            let (f, fNorms) = normalize(features.doubles, rows: rows)
            let (w, wNorms) = normalize(weight.doubles, rows: classes)
            var cosine = [Double](repeating: 0, count: rows * classes)
            var total = 0.0, counted = 0
            for i in 0..<rows {
                for j in 0..<classes {
                    var dot = 0.0
                    for c in 0..<dimension { dot += f[i * dimension + c] * w[j * dimension + c] }
                    cosine[i * classes + j] = dot
                }
                let y = Int(targets[i])
                guard y >= 0, y < classes else { continue }
                let logits = (0..<classes).map { Double(scale) * (cosine[i * classes + $0] - ($0 == y ? Double(margin) : 0)) }
                let peak = logits.max()!
                total += peak + log(logits.reduce(0) { $0 + exp($1 - peak) }) - logits[y]
                counted += 1
            }
            return (cosine, counted == 0 ? 0 : total / Double(counted), fNorms, wNorms)
        }
    }

    @Test("forward matches a naive Float64 loop")
    func forwardMatchesReference() {
        let problem = Problem(rows: 7, dimension: 5, classes: 3, targets: [0, 2, 1, 1, 0, 2, 2], scale: 30, margin: 0.35, seed: 1)
        let result = problem.forward()
        let expected = problem.reference()
        expectClose(problem.cosine.array, expected.cosine, rtol: 1e-5, atol: 1e-6, "cosine")
        expectClose(problem.featureNorms.array, expected.featureNorms, rtol: 1e-6, "feature norms")
        expectClose(problem.weightNorms.array, expected.weightNorms, rtol: 1e-6, "weight norms")
        expectClose([result.loss], [expected.loss], rtol: 1e-4, "loss")
        #expect(result.invalidTargets == 0)
    }

    @Test("with margin 0 the loss equals plain cross-entropy over scale * cosine")
    func zeroMarginIsScaledSoftmax() {
        let (rows, classes) = (6, 4)
        let targets: [Int32] = [3, 0, 1, 2, 2, 0]
        let problem = Problem(rows: rows, dimension: 5, classes: classes, targets: targets, scale: 16, margin: 0, seed: 2)
        let result = problem.forward()
        let logits = TestBuffer(problem.cosine.array.map { 16 * $0 })
        let logSumExp = TestBuffer(count: rows)
        let plain = targets.withUnsafeBufferPointer { targets in
            CrossEntropy.forward(
                logits: logits.readOnly, targets: targets.baseAddress!, logSumExp: logSumExp.pointer, rows: rows, classes: classes)
        }
        expectClose([result.loss], [Double(plain.loss)], rtol: 1e-6, "loss")
        expectClose(problem.logSumExp.array, logSumExp.doubles, rtol: 1e-6, "log-sum-exp")
    }

    @Test("backward matches finite differences through both normalisations")
    func backwardGradientCheck() {
        let problem = Problem(rows: 5, dimension: 6, classes: 4, targets: [1, 3, 0, -1, 2], scale: 4, margin: 0.3, seed: 3)
        GradientCheck.check(inputs: [problem.features, problem.weight], forward: {
            [problem.forward().loss]
        }, backward: { dLoss in
            problem.forward()
            problem.backward(dLoss: dLoss[0])
            return [problem.dFeatures.array, problem.dWeight.array]
        }, "AM-Softmax")
        // The row with an invalid target gets no gradient.
        #expect(problem.dFeatures.array[(3 * 6)..<(4 * 6)].allSatisfy { $0 == 0 })
    }

    @Test("out-of-range targets are skipped and counted; a zero feature vector stays finite")
    func invalidTargetsAndZeroFeatures() {
        let problem = Problem(rows: 5, dimension: 4, classes: 3, targets: [2, 3, 0, -100, 1], scale: 10, margin: 0.2, seed: 4)
        for c in 0..<4 { problem.features[2 * 4 + c] = 0 }
        let result = problem.forward()
        #expect(result.invalidTargets == 2)
        let expected = problem.reference()
        expectClose([result.loss], [expected.loss], rtol: 1e-4, "loss over the valid rows")
        #expect(problem.cosine.array[(2 * 3)..<(3 * 3)].allSatisfy { $0 == 0 })
        problem.backward(dLoss: 1)
        #expect(problem.dFeatures.array.allSatisfy { $0.isFinite })
        #expect(problem.dWeight.array.allSatisfy { $0.isFinite })
        #expect(problem.dFeatures.array[4..<8].allSatisfy { $0 == 0 })

        // Nothing counted: loss 0 and zero gradients.
        problem.targets = [-1, 3, 5, -100, Int32.min]
        #expect(problem.forward() == AMSoftmax.Result(loss: 0, invalidTargets: 5))
        problem.backward(dLoss: 1)
        #expect(problem.dFeatures.array.allSatisfy { $0 == 0 })
        #expect(problem.dWeight.array.allSatisfy { $0 == 0 })
    }

    @Test("forward and backward allocate nothing")
    func noAllocation() {
        let problem = Problem(rows: 8, dimension: 16, classes: 5, targets: [0, 1, 2, 3, 4, 0, 1, 9], scale: 30, margin: 0.35, seed: 5)
        let targets = problem.targets
        #expect(allocations {
            targets.withUnsafeBufferPointer { targets in
                AMSoftmax.forward(
                    features: problem.features.readOnly, weight: problem.weight.readOnly, targets: targets.baseAddress!,
                    scale: 30, margin: 0.35, cosine: problem.cosine.pointer,
                    normalizedFeatures: problem.normalizedFeatures.pointer, featureNorms: problem.featureNorms.pointer,
                    normalizedWeight: problem.normalizedWeight.pointer, weightNorms: problem.weightNorms.pointer,
                    logSumExp: problem.logSumExp.pointer, rows: 8, dimension: 16, classes: 5)
                AMSoftmax.backward(
                    dLoss: 1, targets: targets.baseAddress!, scale: 30, margin: 0.35,
                    cosine: problem.cosine.readOnly, normalizedFeatures: problem.normalizedFeatures.readOnly,
                    featureNorms: problem.featureNorms.readOnly, normalizedWeight: problem.normalizedWeight.readOnly,
                    weightNorms: problem.weightNorms.readOnly, logSumExp: problem.logSumExp.readOnly,
                    dFeatures: problem.dFeatures.pointer, dWeight: problem.dWeight.pointer,
                    workspace: problem.workspace.pointer, rows: 8, dimension: 16, classes: 5)
            }
        } == 0)
    }
}

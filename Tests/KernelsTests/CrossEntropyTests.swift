#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Kernels
import Testing

@Suite("Cross-entropy with class weights, ignore index and frame mask")
struct CrossEntropyTests {
    /// Naive Float64 weighted mean cross-entropy (PyTorch's semantics), targets outside 0..<classes skipped.
    static func reference(
        logits: [Double], targets: [Int32], weights: [Double]?, mask: [Double]?, ignoreIndex: Int32,
        rows: Int, classes: Int
    ) -> (loss: Double, denominator: Double, logSumExp: [Double]) {
        var numerator = 0.0, denominator = 0.0
        var logSumExp = [Double](repeating: 0, count: rows)
        for i in 0..<rows {
            let row = Array(logits[(i * classes)..<((i + 1) * classes)])
            let peak = row.max()!
            logSumExp[i] = peak + log(row.reduce(0) { $0 + exp($1 - peak) })
            let target = targets[i]
            guard target != ignoreIndex, target >= 0, Int(target) < classes else { continue }
            let r = (weights?[Int(target)] ?? 1) * (mask?[i] ?? 1)
            numerator += r * (logSumExp[i] - row[Int(target)])
            denominator += r
        }
        return (denominator == 0 ? 0 : numerator / denominator, denominator, logSumExp)
    }

    /// Runs forward (and backward when `dLoss` is given) through optional buffers.
    struct Run {
        var result: CrossEntropy.Result
        var logSumExp: [Float]
        var dLogits: [Float]
    }

    static func run(
        logits: TestBuffer, targets: [Int32], weights: TestBuffer?, mask: TestBuffer?, ignoreIndex: Int32 = -100,
        rows: Int, classes: Int, dLoss: Float = 1
    ) -> Run {
        let logSumExp = TestBuffer(count: rows, value: .nan)
        let dLogits = TestBuffer(count: rows * classes, value: .nan)
        let result = targets.withUnsafeBufferPointer { targets in
            let result = CrossEntropy.forward(
                logits: logits.readOnly, targets: targets.baseAddress!, classWeights: weights?.readOnly,
                frameMask: mask?.readOnly, ignoreIndex: ignoreIndex, logSumExp: logSumExp.pointer,
                rows: rows, classes: classes)
            CrossEntropy.backward(
                logits: logits.readOnly, targets: targets.baseAddress!, classWeights: weights?.readOnly,
                frameMask: mask?.readOnly, ignoreIndex: ignoreIndex, logSumExp: logSumExp.readOnly, dLoss: dLoss,
                dLogits: dLogits.pointer, rows: rows, classes: classes)
            return result
        }
        return Run(result: result, logSumExp: logSumExp.array, dLogits: dLogits.array)
    }

    @Test("plain mean cross-entropy matches a naive Float64 loop, including large logits")
    func plainForward() {
        let (rows, classes) = (7, 5)
        let logits = TestBuffer(random: rows * classes, seed: 1, low: -4, high: 4)
        logits[3] = 80  // a large logit: the log-sum-exp must subtract the maximum first
        let targets: [Int32] = [0, 4, 2, 1, 3, 3, 0]
        let run = Self.run(logits: logits, targets: targets, weights: nil, mask: nil, rows: rows, classes: classes)
        let expected = Self.reference(
            logits: logits.doubles, targets: targets, weights: nil, mask: nil, ignoreIndex: -100, rows: rows, classes: classes)
        expectClose([run.result.loss], [expected.loss], rtol: 1e-5, "loss")
        expectClose(run.logSumExp, expected.logSumExp, rtol: 1e-6, "log-sum-exp")
        #expect(run.result.denominator == 7)
        #expect(run.result.invalidTargets == 0)
        #expect(run.dLogits.allSatisfy { $0.isFinite })
    }

    @Test("class weights, ignore index and frame mask match the weighted-mean reference")
    func weightedIgnoredMasked() {
        let (rows, classes) = (9, 4)
        let logits = TestBuffer(random: rows * classes, seed: 2, low: -3, high: 3)
        let weights = TestBuffer([0.5, 2, 1, 3])
        let mask = TestBuffer([1, 1, 0, 1, 1, 0, 1, 1, 1])
        let targets: [Int32] = [0, 1, 2, -100, 3, 1, 2, 1, 3]
        let run = Self.run(logits: logits, targets: targets, weights: weights, mask: mask, rows: rows, classes: classes)
        let expected = Self.reference(
            logits: logits.doubles, targets: targets, weights: weights.doubles, mask: mask.doubles, ignoreIndex: -100,
            rows: rows, classes: classes)
        expectClose([run.result.loss], [expected.loss], rtol: 1e-5, "loss")
        #expect(abs(run.result.denominator - expected.denominator) < 1e-9)
        #expect(run.result.invalidTargets == 0)
        // Ignored and masked rows get no gradient.
        for row in [2, 3, 5] { #expect(run.dLogits[(row * classes)..<((row + 1) * classes)].allSatisfy { $0 == 0 }) }

        // A custom ignore index that is a valid class (1) drops those rows.
        let custom = Self.run(logits: logits, targets: targets, weights: weights, mask: mask, ignoreIndex: 1, rows: rows, classes: classes)
        let customExpected = Self.reference(
            logits: logits.doubles, targets: targets, weights: weights.doubles, mask: mask.doubles, ignoreIndex: 1,
            rows: rows, classes: classes)
        expectClose([custom.result.loss], [customExpected.loss], rtol: 1e-5, "loss with ignore index 1")
        // -100 is then an invalid target on an included row.
        #expect(custom.result.invalidTargets == 1)
    }

    @Test("backward matches finite differences with weights, mask and an ignored row")
    func backwardGradientCheck() {
        let (rows, classes) = (6, 5)
        let logits = TestBuffer(random: rows * classes, seed: 3, low: -2, high: 2)
        let weights = TestBuffer([1, 0.25, 2, 1.5, 0.75])
        let mask = TestBuffer([1, 0, 1, 1, 0.5, 1])
        let targets: [Int32] = [4, 0, -100, 2, 1, 3]
        GradientCheck.check(inputs: [logits], forward: {
            [Self.run(logits: logits, targets: targets, weights: weights, mask: mask, rows: rows, classes: classes).result.loss]
        }, backward: { dLoss in
            [Self.run(logits: logits, targets: targets, weights: weights, mask: mask, rows: rows, classes: classes, dLoss: dLoss[0]).dLogits]
        }, "cross-entropy")
    }

    @Test("out-of-range targets are ignored and counted, never trap")
    func invalidTargets() {
        let (rows, classes) = (5, 3)
        let logits = TestBuffer(random: rows * classes, seed: 4, low: -2, high: 2)
        let mask = TestBuffer([1, 1, 1, 0, 1])
        let targets: [Int32] = [1, 3, -1, 7, Int32.max]
        let run = Self.run(logits: logits, targets: targets, weights: nil, mask: mask, rows: rows, classes: classes)
        // Rows 1, 2 and 4 are invalid; row 3 is masked, so its label is not inspected.
        #expect(run.result.invalidTargets == 3)
        let expected = Self.reference(
            logits: logits.doubles, targets: targets, weights: nil, mask: mask.doubles, ignoreIndex: -100, rows: rows, classes: classes)
        expectClose([run.result.loss], [expected.loss], rtol: 1e-5, "loss")
        #expect(run.result.denominator == 1)
        #expect(run.dLogits[classes...].allSatisfy { $0 == 0 })
        #expect(run.dLogits[0..<classes].allSatisfy { $0 != 0 })
    }

    @Test("nothing counted gives loss 0 and zero gradients, no NaN")
    func emptyDenominator() {
        let (rows, classes) = (3, 4)
        let logits = TestBuffer(random: rows * classes, seed: 5)
        let mask = TestBuffer([0, 1, 1])
        let weights = TestBuffer([1, 1, 0, 1])
        let targets: [Int32] = [1, -100, 2]
        let run = Self.run(logits: logits, targets: targets, weights: weights, mask: mask, rows: rows, classes: classes)
        #expect(run.result == CrossEntropy.Result(loss: 0, denominator: 0, invalidTargets: 0))
        #expect(run.dLogits.allSatisfy { $0 == 0 })
    }

    @Test("forward and backward allocate nothing")
    func noAllocation() {
        let (rows, classes) = (16, 6)
        let logits = TestBuffer(random: rows * classes, seed: 6)
        let weights = TestBuffer(random: classes, seed: 7, low: 0.5, high: 2)
        let mask = TestBuffer(count: rows, value: 1)
        let logSumExp = TestBuffer(count: rows), dLogits = TestBuffer(count: rows * classes)
        let targets: [Int32] = (0..<rows).map { Int32($0 % (classes + 1)) }
        #expect(allocations {
            targets.withUnsafeBufferPointer { targets in
                let result = CrossEntropy.forward(
                    logits: logits.readOnly, targets: targets.baseAddress!, classWeights: weights.readOnly,
                    frameMask: mask.readOnly, logSumExp: logSumExp.pointer, rows: rows, classes: classes)
                CrossEntropy.backward(
                    logits: logits.readOnly, targets: targets.baseAddress!, classWeights: weights.readOnly,
                    frameMask: mask.readOnly, logSumExp: logSumExp.readOnly, dLoss: result.loss,
                    dLogits: dLogits.pointer, rows: rows, classes: classes)
            }
        } == 0)
    }
}

import Foundation
import Kernels
import Testing

@Suite("Activations and softmax")
struct ActivationTests {
    static func reference(_ kind: Activation, _ x: Double) -> Double {
        switch kind {
        case .gelu: 0.5 * x * (1 + Foundation.erf(x / 2.0.squareRoot()))
        case .tanh: Foundation.tanh(x)
        case .relu: max(x, 0)
        case .sigmoid: 1 / (1 + Foundation.exp(-x))
        }
    }

    @Test("forward against Float64", arguments: Activation.allCases)
    func forward(kind: Activation) {
        let count = 1_031
        let x = TestBuffer(random: count, seed: 1, low: -6, high: 6), y = TestBuffer(count: count)
        kind.forward(x.readOnly, y.pointer, count: count)
        expectClose(y.array, x.doubles.map { Self.reference(kind, $0) }, rtol: 1e-5, atol: 2e-6, kind.rawValue)
    }

    @Test("forward in place (y = x, as the memory planner places it) gives the bits of the out-of-place forward",
          arguments: Activation.allCases)
    func forwardInPlace(kind: Activation) {
        let count = 70_001  // more than one parallel chunk
        let x = TestBuffer(random: count, seed: 3, low: -6, high: 6), y = TestBuffer(count: count)
        kind.forward(x.readOnly, y.pointer, count: count)
        kind.forward(x.readOnly, x.pointer, count: count)
        #expect(x.array.map(\.bitPattern) == y.array.map(\.bitPattern), "\(kind.rawValue)")
    }

    @Test("backward against finite differences", arguments: Activation.allCases)
    func backward(kind: Activation) {
        let count = 37
        // Keep ReLU's inputs away from its kink.
        let x = TestBuffer((0..<count).map { i in Float(i - 18) * 0.21 + 0.05 })
        GradientCheck.check(inputs: [x], forward: {
            let y = TestBuffer(count: count)
            kind.forward(x.readOnly, y.pointer, count: count)
            return y.array
        }, backward: { dyValues in
            let dy = TestBuffer(dyValues), dx = TestBuffer(count: count)
            let saved = TestBuffer(count: count)
            if kind.backwardUsesOutput { kind.forward(x.readOnly, saved.pointer, count: count) } else { saved.pointer.update(from: x.pointer, count: count) }
            kind.backward(saved: saved.readOnly, dy: dy.readOnly, dx: dx.pointer, count: count)
            return [dx.array]
        }, eps: 1e-3, kind.rawValue)
    }

    @Test("softmax and log-softmax forward against Float64, large logits included")
    func softmaxForward() {
        let (rows, columns) = (5, 19)
        let x = TestBuffer(random: rows * columns, seed: 2, low: -4, high: 4)
        x[3] = 95  // would overflow a naive exp in Float32
        let p = TestBuffer(count: rows * columns), logP = TestBuffer(count: rows * columns)
        Softmax.forward(x.readOnly, p.pointer, rows: rows, columns: columns)
        Softmax.logForward(x.readOnly, logP.pointer, rows: rows, columns: columns)
        var expected = [Double](), expectedLog = [Double]()
        for r in 0..<rows {
            let row = Array(x.doubles[r * columns..<(r + 1) * columns])
            let peak = row.max()!
            let total = row.reduce(0) { $0 + Foundation.exp($1 - peak) }
            expected += row.map { Foundation.exp($0 - peak) / total }
            expectedLog += row.map { $0 - peak - Foundation.log(total) }
        }
        expectClose(p.array, expected, rtol: 1e-5, atol: 1e-7, "softmax")
        expectClose(logP.array, expectedLog, rtol: 1e-5, atol: 1e-5, "log-softmax")
    }

    @Test("softmax backward against finite differences")
    func softmaxBackward() {
        let (rows, columns) = (3, 7)
        let x = TestBuffer(random: rows * columns, seed: 3, low: -2, high: 2)
        GradientCheck.check(inputs: [x], forward: {
            let y = TestBuffer(count: rows * columns)
            Softmax.forward(x.readOnly, y.pointer, rows: rows, columns: columns)
            return y.array
        }, backward: { dyValues in
            let y = TestBuffer(count: rows * columns), dy = TestBuffer(dyValues), dx = TestBuffer(count: rows * columns)
            Softmax.forward(x.readOnly, y.pointer, rows: rows, columns: columns)
            Softmax.backward(y: y.readOnly, dy: dy.readOnly, dx: dx.pointer, rows: rows, columns: columns)
            return [dx.array]
        }, eps: 1e-3, "softmax")
    }

    @Test("log-softmax backward against finite differences")
    func logSoftmaxBackward() {
        let (rows, columns) = (4, 6)
        let x = TestBuffer(random: rows * columns, seed: 4, low: -2, high: 2)
        GradientCheck.check(inputs: [x], forward: {
            let y = TestBuffer(count: rows * columns)
            Softmax.logForward(x.readOnly, y.pointer, rows: rows, columns: columns)
            return y.array
        }, backward: { dyValues in
            let y = TestBuffer(count: rows * columns), dy = TestBuffer(dyValues), dx = TestBuffer(count: rows * columns)
            Softmax.logForward(x.readOnly, y.pointer, rows: rows, columns: columns)
            Softmax.logBackward(y: y.readOnly, dy: dy.readOnly, dx: dx.pointer, rows: rows, columns: columns)
            return [dx.array]
        }, eps: 1e-3, "log-softmax")
    }
}

import Kernels
import Testing

@Suite("Weight norm")
struct WeightNormTests {
    /// (outer, size, inner) views: HF's positional conv keeps the kernel axis (dim=2, inner 1); dim=0 has outer 1;
    /// a middle axis has all three.
    static let views: [[Int]] = [[12, 5, 1], [1, 4, 6], [3, 5, 2], [40, 19, 1]]

    @Test("forward against Float64", arguments: views)
    func forward(view: [Int]) {
        let (outer, size, inner) = (view[0], view[1], view[2])
        let v = TestBuffer(random: outer * size * inner, seed: 1), g = TestBuffer(random: size, seed: 2)
        let w = TestBuffer(count: v.count), norms = TestBuffer(count: size)
        WeightNorm.forward(v: v.readOnly, g: g.readOnly, w: w.pointer, norms: norms.pointer, outer: outer, size: size, inner: inner)
        var expected = [Double](repeating: 0, count: v.count)
        for k in 0..<size {
            var total = 0.0
            for o in 0..<outer { for i in 0..<inner { total += v.doubles[(o * size + k) * inner + i] * v.doubles[(o * size + k) * inner + i] } }
            for o in 0..<outer { for i in 0..<inner { let index = (o * size + k) * inner + i; expected[index] = Double(g[k]) * v.doubles[index] / total.squareRoot() } }
        }
        expectClose(w.array, expected, rtol: 1e-5, atol: 1e-6, "weight norm")
    }

    @Test("backward against finite differences", arguments: views.prefix(3))
    func backward(view: [Int]) {
        let (outer, size, inner) = (view[0], view[1], view[2])
        let v = TestBuffer(random: outer * size * inner, seed: 3), g = TestBuffer(random: size, seed: 4)
        let norms = TestBuffer(count: size)
        func run() -> TestBuffer {
            let w = TestBuffer(count: v.count)
            WeightNorm.forward(v: v.readOnly, g: g.readOnly, w: w.pointer, norms: norms.pointer, outer: outer, size: size, inner: inner)
            return w
        }
        GradientCheck.check(inputs: [v, g], forward: { run().array }, backward: { dwValues in
            _ = run()
            let dw = TestBuffer(dwValues), dv = TestBuffer(count: v.count), dg = TestBuffer(count: size), dots = TestBuffer(count: size)
            WeightNorm.backward(v: v.readOnly, g: g.readOnly, norms: norms.readOnly, dw: dw.readOnly, dv: dv.pointer, dg: dg.pointer,
                                dots: dots.pointer, outer: outer, size: size, inner: inner)
            return [dv.array, dg.array]
        }, eps: 1e-3, "weight norm")
    }
}

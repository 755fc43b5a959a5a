import Kernels
import Testing

@Suite("No allocation in kernels")
struct AllocationTests {
    @Test("the allocation counter sees an allocation (positive control)")
    func counterSeesAllocations() {
        var sink = 0
        let count = allocations {
            let array = [Float](repeating: 1, count: 1000 + sink)
            sink = array.count & 1
        }
        #expect(count >= 1)
    }

    @Test("linear forward and backward allocate nothing")
    func linear() {
        let x = TestBuffer(random: 64 * 32, seed: 1), w = TestBuffer(random: 16 * 32, seed: 2), b = TestBuffer(random: 16, seed: 3)
        let y = TestBuffer(count: 64 * 16), dx = TestBuffer(count: 64 * 32), dw = TestBuffer(count: 16 * 32), db = TestBuffer(count: 16)
        #expect(allocations {
            Linear.forward(x: x.readOnly, weight: w.readOnly, bias: b.readOnly, y: y.pointer, rows: 64, inFeatures: 32, outFeatures: 16)
            Linear.backward(x: x.readOnly, weight: w.readOnly, dy: y.readOnly, dx: dx.pointer, dWeight: dw.pointer, dBias: db.pointer,
                            rows: 64, inFeatures: 32, outFeatures: 16)
        } == 0)
    }
}

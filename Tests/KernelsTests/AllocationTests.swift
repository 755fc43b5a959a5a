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

@Suite("No allocation in the other kernels")
struct KernelAllocationTests {
    @Test("conv1d forward and backward, in-place, im2col and direct paths")
    func conv1d() {
        for shape in [Conv1d.Geometry(batch: 2, inChannels: 16, outChannels: 8, inLength: 21, kernel: 3, stride: 2),
                      Conv1d.Geometry(batch: 2, inChannels: 8, outChannels: 8, inLength: 9, kernel: 4, padding: 2, groups: 2),
                      Conv1d.Geometry(batch: 2, inChannels: 1, outChannels: 70, inLength: 30, kernel: 10, stride: 5, padding: 1)] {
            let x = TestBuffer(random: shape.batch * shape.inLength * shape.inChannels, seed: 1)
            let w = TestBuffer(random: shape.outChannels * shape.patchSize, seed: 2), bias = TestBuffer(count: shape.outChannels)
            let y = TestBuffer(count: shape.batch * shape.outLength * shape.outChannels), workspace = TestBuffer(count: shape.workspaceCount)
            let dx = TestBuffer(count: x.count), dw = TestBuffer(count: w.count), db = TestBuffer(count: bias.count)
            #expect(allocations {
                Conv1d.forward(shape, x: x.readOnly, weight: w.readOnly, bias: bias.readOnly, y: y.pointer, workspace: workspace.pointer)
                Conv1d.backward(shape, x: x.readOnly, weight: w.readOnly, dy: y.readOnly, dx: dx.pointer, dWeight: dw.pointer, dBias: db.pointer,
                                workspace: workspace.pointer)
            } == 0)
        }
    }

    @Test("the convolution with its group norm folded in")
    func normalizedConv1d() {
        let shape = Conv1d.Geometry(batch: 2, inChannels: 1, outChannels: 70, inLength: 60, kernel: 10, stride: 5)
        let x = TestBuffer(random: shape.batch * shape.inLength, seed: 1), w = TestBuffer(random: shape.outChannels * 10, seed: 2)
        let gamma = TestBuffer(random: shape.outChannels, seed: 3), beta = TestBuffer(random: shape.outChannels, seed: 4)
        let y = TestBuffer(count: shape.batch * shape.outLength * shape.outChannels)
        let workspace = TestBuffer(count: NormalizedConv1d.workspaceCount(shape))
        let lengths: [Int32] = [Int32(shape.outLength), 3]
        lengths.withUnsafeBufferPointer { lengthPointer in
            expectNoAllocations("normalized conv1d forward") {
                NormalizedConv1d.forward(shape, x: x.readOnly, weight: w.readOnly, bias: gamma.readOnly, gamma: gamma.readOnly,
                                         beta: beta.readOnly, lengths: lengthPointer.baseAddress, groups: 35, eps: 1e-5,
                                         y: y.pointer, workspace: workspace.pointer, activation: .gelu)
            }
        }
    }

    @Test("the FFT path of a long-kernel convolution (given the weight's spectrum)")
    func spectralConv1d() {
        let shape = Conv1d.Geometry(batch: 2, inChannels: 32, outChannels: 32, inLength: 70, kernel: 64, padding: 32, groups: 4)
        let x = TestBuffer(random: shape.batch * shape.inLength * shape.inChannels, seed: 1)
        let w = TestBuffer(random: shape.outChannels * shape.patchSize, seed: 2), bias = TestBuffer(count: shape.outChannels)
        let spectrum = TestBuffer(count: Conv1d.spectralWeightCount(shape))
        Conv1d.spectralWeight(shape, weight: w.readOnly, into: spectrum.pointer)
        let y = TestBuffer(count: shape.batch * shape.outLength * shape.outChannels), workspace = TestBuffer(count: shape.workspaceCount)
        expectNoAllocations("spectral conv1d forward") {
            Conv1d.forward(shape, x: x.readOnly, weight: w.readOnly, bias: bias.readOnly, y: y.pointer, workspace: workspace.pointer,
                           activation: .gelu, spectralWeight: spectrum.readOnly)
        }
    }

    @Test("norms, activations, softmax, weight norm, broadcasting, reductions")
    func pointwiseAndNorms() {
        let (rows, columns) = (12, 32)
        let x = TestBuffer(random: rows * columns, seed: 3), y = TestBuffer(count: rows * columns), dx = TestBuffer(count: rows * columns)
        let gamma = TestBuffer(random: columns, seed: 4), beta = TestBuffer(random: columns, seed: 5)
        let stats = TestBuffer(count: 2 * rows), dGamma = TestBuffer(count: columns), dBeta = TestBuffer(count: columns)
        let workspace = TestBuffer(count: GroupNorm.workspaceCount(channels: columns))
        let lengths: [Int32] = [4, 2, 6]
        let small = TestBuffer(count: columns)
        let matrixShape = [rows, columns], rowShape = [columns], cubeShape = [3, 4, columns]
        lengths.withUnsafeBufferPointer { lengthPointer in
            let lengths = lengthPointer.baseAddress
            expectNoAllocations("layer norm forward") {
                LayerNorm.forward(x: x.readOnly, gamma: gamma.readOnly, beta: beta.readOnly, y: y.pointer, mean: stats.pointer, rstd: stats.pointer + rows,
                                  rows: rows, columns: columns, eps: 1e-5)
            }
            expectNoAllocations("layer norm backward") {
                LayerNorm.backward(x: x.readOnly, gamma: gamma.readOnly, dy: y.readOnly, mean: stats.readOnly, rstd: stats.readOnly + rows,
                                   dx: dx.pointer, dGamma: dGamma.pointer, dBeta: dBeta.pointer, rows: rows, columns: columns)
            }
            expectNoAllocations("group norm forward") {
                GroupNorm.forward(x: x.readOnly, gamma: gamma.readOnly, beta: beta.readOnly, lengths: lengths, y: y.pointer, mean: stats.pointer,
                                  rstd: stats.pointer + rows, workspace: workspace.pointer, batch: 3, frames: 4, channels: columns, groups: 4, eps: 1e-5)
            }
            expectNoAllocations("group norm backward") {
                GroupNorm.backward(x: x.readOnly, gamma: gamma.readOnly, lengths: lengths, dy: y.readOnly, mean: stats.readOnly, rstd: stats.readOnly + rows,
                                   dx: dx.pointer, dGamma: dGamma.pointer, dBeta: dBeta.pointer, workspace: workspace.pointer,
                                   batch: 3, frames: 4, channels: columns, groups: 4)
            }
            for kind in Activation.allCases {
                expectNoAllocations("\(kind)") {
                    kind.forward(x.readOnly, y.pointer, count: x.count)
                    kind.backward(saved: y.readOnly, dy: x.readOnly, dx: dx.pointer, count: x.count)
                }
            }
            expectNoAllocations("softmax") {
                Softmax.forward(x.readOnly, y.pointer, rows: rows, columns: columns)
                Softmax.backward(y: y.readOnly, dy: x.readOnly, dx: dx.pointer, rows: rows, columns: columns)
                Softmax.logForward(x.readOnly, y.pointer, rows: rows, columns: columns)
                Softmax.logBackward(y: y.readOnly, dy: x.readOnly, dx: dx.pointer, rows: rows, columns: columns)
            }
            expectNoAllocations("weight norm") {
                WeightNorm.forward(v: x.readOnly, g: gamma.readOnly, w: y.pointer, norms: small.pointer, outer: rows, size: columns, inner: 1)
                WeightNorm.backward(v: x.readOnly, g: gamma.readOnly, norms: small.readOnly, dw: y.readOnly, dv: dx.pointer, dg: dGamma.pointer,
                                    dots: dBeta.pointer, outer: rows, size: columns, inner: 1)
            }
            expectNoAllocations("broadcasting and reductions") {
                Elementwise.binary(.add, a: x.readOnly, aShape: matrixShape, b: gamma.readOnly, bShape: rowShape, out: y.pointer, outShape: matrixShape)
                Reduce.sum(x.readOnly, shape: cubeShape, into: dGamma.pointer, shape: rowShape)
            }
        }
    }

    @Test("dropout and time masking")
    func randomness() {
        let count = 4_000
        let x = TestBuffer(random: count, seed: 6), y = TestBuffer(count: count), mask = TestBuffer(count: 4 * 100), embedding = TestBuffer(count: 10)
        let lengths: [Int32] = [100, 50, 20, 0]
        lengths.withUnsafeBufferPointer { lengthPointer in
            expectNoAllocations("dropout") {
                Dropout.forward(x.readOnly, y.pointer, count: count, probability: 0.1, stream: Philox(seed: 1))
                Dropout.backward(x.readOnly, y.pointer, count: count, probability: 0.1, stream: Philox(seed: 1))
            }
            expectNoAllocations("time mask spans") {
                TimeMask.spans(mask: mask.pointer, lengths: lengthPointer.baseAddress, batch: 4, frames: 100, probability: 0.5, spanLength: 10,
                               minimumSpans: 2, stream: Philox(seed: 2))
            }
            expectNoAllocations("time mask apply and backward") {
                TimeMask.apply(x: x.readOnly, mask: mask.readOnly, embedding: embedding.readOnly, out: y.pointer, batch: 4, frames: 100, channels: 10)
                TimeMask.backward(dy: x.readOnly, mask: mask.readOnly, dx: y.pointer, dEmbedding: embedding.pointer, batch: 4, frames: 100, channels: 10)
            }
        }
    }
}

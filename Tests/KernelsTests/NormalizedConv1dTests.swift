import Foundation
import Kernels
import Testing

/// The convolution with its group norm folded in (statistics from the input patches' moments) against the
/// convolution then the norm, both as Float64 loops.
@Suite("Normalized conv1d")
struct NormalizedConv1dTests {
    /// Geometries: HuBERT's first layer in small (1 channel, 10 taps, stride 5), two input channels with padding,
    /// and a patch of exactly the limit (32 values).
    static let shapes = [
        Conv1d.Geometry(batch: 3, inChannels: 1, outChannels: 70, inLength: 203, kernel: 10, stride: 5),
        Conv1d.Geometry(batch: 2, inChannels: 2, outChannels: 12, inLength: 41, kernel: 3, stride: 2, padding: 1),
        Conv1d.Geometry(batch: 2, inChannels: 4, outChannels: 16, inLength: 50, kernel: 8, stride: 3),
    ]

    @Test("against conv then group norm (Float64), with and without bias, per channel and grouped, GELU",
          arguments: shapes)
    func againstConvThenNorm(shape: Conv1d.Geometry) {
        let frames = shape.outLength
        // The last sequence is padded (and, with three, one is empty): its frames past the length must be 0.
        let lengths = (0..<shape.batch).map { b in b == shape.batch - 1 ? frames - 7 : (b == 1 && shape.batch > 2 ? 0 : frames) }
        let x = TestBuffer(random: shape.batch * shape.inLength * shape.inChannels, seed: 1, low: -0.5, high: 1.5)
        let w = TestBuffer(random: shape.outChannels * shape.patchSize, seed: 2)
        let bias = TestBuffer(random: shape.outChannels, seed: 3)
        let gamma = TestBuffer(random: shape.outChannels, seed: 4, low: 0.5, high: 1.5)
        let beta = TestBuffer(random: shape.outChannels, seed: 5)
        let lengthBuffer = UnsafeMutablePointer<Int32>.allocate(capacity: shape.batch)
        defer { lengthBuffer.deallocate() }
        for (b, length) in lengths.enumerated() { lengthBuffer[b] = Int32(length) }

        for withBias in [false, true] {
            for groups in [shape.outChannels, shape.outChannels / 2] {
                for activation in [nil, Activation.gelu] {
                    let convolved = Conv1dTests.naive(shape, x: x.doubles, w: w.doubles, bias: withBias ? bias.doubles : nil)
                    var expected = NormalizationTests.naiveGroupNorm(
                        x: convolved, gamma: gamma.doubles, beta: beta.doubles, lengths: lengths, frames: frames,
                        channels: shape.outChannels, groups: groups, eps: 1e-5)
                    if activation == .gelu {
                        expected = expected.map { v in 0.5 * v * (1 + erf(v / 2.0.squareRoot())) }
                    }
                    let y = TestBuffer(count: shape.batch * frames * shape.outChannels, value: .nan)
                    let workspace = TestBuffer(count: NormalizedConv1d.workspaceCount(shape))
                    NormalizedConv1d.forward(
                        shape, x: x.readOnly, weight: w.readOnly, bias: withBias ? bias.readOnly : nil, gamma: gamma.readOnly,
                        beta: beta.readOnly, lengths: UnsafePointer(lengthBuffer), groups: groups, eps: 1e-5, y: y.pointer,
                        workspace: workspace.pointer, activation: activation)
                    expectClose(y.array, expected, rtol: 1e-4, atol: 2e-5,
                                "\(shape.inChannels)x\(shape.kernel) bias \(withBias) groups \(groups) \(activation?.rawValue ?? "-")")
                }
            }
        }
    }

    @Test("the same bits on 1 and 2 threads (moments over fixed blocks of frames)")
    func threadIndependent() {
        let shape = Conv1d.Geometry(batch: 2, inChannels: 1, outChannels: 64, inLength: 4_003, kernel: 10, stride: 5)
        let x = TestBuffer(random: shape.batch * shape.inLength, seed: 6)
        let w = TestBuffer(random: shape.outChannels * shape.patchSize, seed: 7)
        let gamma = TestBuffer(random: shape.outChannels, seed: 8), beta = TestBuffer(random: shape.outChannels, seed: 9)
        func run(threads: Int) -> [Float] {
            let saved = KernelThreads.count
            KernelThreads.set(threads)
            defer { KernelThreads.set(saved) }
            let y = TestBuffer(count: shape.batch * shape.outLength * shape.outChannels)
            let workspace = TestBuffer(count: NormalizedConv1d.workspaceCount(shape))
            NormalizedConv1d.forward(shape, x: x.readOnly, weight: w.readOnly, bias: nil, gamma: gamma.readOnly,
                                     beta: beta.readOnly, lengths: nil, groups: shape.outChannels, eps: 1e-5, y: y.pointer,
                                     workspace: workspace.pointer, activation: .gelu)
            return y.array
        }
        #expect(run(threads: 1) == run(threads: 2))
    }

    @Test("which geometries the fused kernel takes: one group, patches of at most 32 values")
    func applies() {
        #expect(NormalizedConv1d.applies(Conv1d.Geometry(batch: 1, inChannels: 1, outChannels: 512, inLength: 400, kernel: 10, stride: 5)))
        #expect(NormalizedConv1d.applies(Conv1d.Geometry(batch: 1, inChannels: 4, outChannels: 8, inLength: 40, kernel: 8)))
        #expect(!NormalizedConv1d.applies(Conv1d.Geometry(batch: 1, inChannels: 3, outChannels: 8, inLength: 40, kernel: 11)))
        #expect(!NormalizedConv1d.applies(Conv1d.Geometry(batch: 1, inChannels: 4, outChannels: 8, inLength: 40, kernel: 3, groups: 2)))
    }
}

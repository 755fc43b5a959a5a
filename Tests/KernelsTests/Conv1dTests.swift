import Foundation
import Kernels
import Testing

@Suite("Conv1d")
struct Conv1dTests {
    /// Naive Float64 grouped, strided, padded convolution over channels-last [B, L, C] with weight [O, C/g, K].
    static func naive(_ s: Conv1d.Geometry, x: [Double], w: [Double], bias: [Double]?) -> [Double] {
        let outLength = s.outLength
        var y = [Double](repeating: 0, count: s.batch * outLength * s.outChannels)
        for b in 0..<s.batch {
            for t in 0..<outLength {
                for o in 0..<s.outChannels {
                    let g = o / s.outPerGroup
                    var total = bias?[o] ?? 0
                    for c in 0..<s.inPerGroup {
                        for k in 0..<s.kernel {
                            let position = t * s.stride + k - s.padding
                            guard position >= 0, position < s.inLength else { continue }
                            total += x[(b * s.inLength + position) * s.inChannels + g * s.inPerGroup + c] * w[(o * s.inPerGroup + c) * s.kernel + k]
                        }
                    }
                    y[(b * outLength + t) * s.outChannels + o] = total
                }
            }
        }
        return y
    }

    static let shapes: [Conv1d.Geometry] = [
        // HuBERT's first layer in small: one input channel, kernel 10, stride 5 (direct forward, im2col backward).
        .init(batch: 2, inChannels: 1, outChannels: 8, inLength: 63, kernel: 10, stride: 5),
        // The direct forward's vector path (64 output channels at a time) with a scalar tail and zero padding.
        .init(batch: 2, inChannels: 2, outChannels: 70, inLength: 11, kernel: 5, stride: 2, padding: 2),
        // Layers 1-4 in small: kernel 3, stride 2, the input read in place (two tap chunks).
        .init(batch: 2, inChannels: 16, outChannels: 12, inLength: 23, kernel: 3, stride: 2),
        // Layers 5-6: kernel 2, stride 2 (one chunk).
        .init(batch: 1, inChannels: 24, outChannels: 17, inLength: 15, kernel: 2, stride: 2),
        // The positional conv in small: even kernel, padding kernel/2, 4 groups.
        .init(batch: 2, inChannels: 8, outChannels: 8, inLength: 9, kernel: 6, stride: 1, padding: 3, groups: 4),
        // Odd everything: stride 3, padding 2, 3 groups.
        .init(batch: 1, inChannels: 9, outChannels: 6, inLength: 14, kernel: 5, stride: 3, padding: 2, groups: 3),
    ]

    /// Stride 2, three taps and enough frames for the F(3, 2) path (`Conv1d.usesWinograd`): 33 tiles and two outputs
    /// past them; 1,025 tiles over two chunks and two outputs past them; a whole number of tiles.
    static let winogradShapes: [Conv1d.Geometry] = [
        .init(batch: 2, inChannels: 16, outChannels: 20, inLength: 203, kernel: 3, stride: 2),
        .init(batch: 1, inChannels: 16, outChannels: 20, inLength: 6_155, kernel: 3, stride: 2),
        .init(batch: 1, inChannels: 24, outChannels: 17, inLength: 2 * 98 + 3, kernel: 3, stride: 2),
    ]

    @Test("the F(3, 2) path serves stride-2, three-tap convolutions of at least 96 outputs, and no others")
    func winogradSelection() {
        for shape in Self.winogradShapes { #expect(Conv1d.usesWinograd(shape), "\(shape.testDescription)") }
        for shape in Self.shapes + Self.spectralShapes { #expect(!Conv1d.usesWinograd(shape), "\(shape.testDescription)") }
        for shape in Self.shapes + Self.winogradShapes { #expect(!Conv1d.usesSpectral(shape), "\(shape.testDescription)") }
        #expect(Self.winogradShapes[1].outLength / 3 > Conv1d.tilesPerChunk, "the long shape spans two chunks")
        #expect(Self.winogradShapes[2].outLength % 3 == 0)
    }

    /// Long kernels for the FFT path (`Conv1d.usesSpectral`): the positional conv in small (4 groups, even kernel,
    /// padding kernel / 2, three overlap-save blocks); one group with channel counts that leave lane tails.
    static let spectralShapes: [Conv1d.Geometry] = [
        .init(batch: 2, inChannels: 8, outChannels: 8, inLength: 150, kernel: 64, stride: 1, padding: 32, groups: 4),
        .init(batch: 1, inChannels: 20, outChannels: 18, inLength: 100, kernel: 70, stride: 1),
    ]

    @Test("the FFT path from the weight's spectrum against a naive loop, with and without bias and GELU",
          arguments: spectralShapes)
    func spectral(shape: Conv1d.Geometry) {
        #expect(Conv1d.usesSpectral(shape))
        let x = TestBuffer(random: shape.batch * shape.inLength * shape.inChannels, seed: 21)
        let w = TestBuffer(random: shape.outChannels * shape.patchSize, seed: 22)
        let bias = TestBuffer(random: shape.outChannels, seed: 23)
        let spectrum = TestBuffer(count: Conv1d.spectralWeightCount(shape))
        Conv1d.spectralWeight(shape, weight: w.readOnly, into: spectrum.pointer)
        for (withBias, activation) in [(true, Activation?.none), (false, .gelu)] {
            let y = TestBuffer(count: shape.batch * shape.outLength * shape.outChannels, value: .nan)
            let workspace = TestBuffer(count: shape.workspaceCount, value: .nan)
            Conv1d.forward(shape, x: x.readOnly, weight: w.readOnly, bias: withBias ? bias.readOnly : nil, y: y.pointer,
                           workspace: workspace.pointer, activation: activation, spectralWeight: spectrum.readOnly)
            var expected = Self.naive(shape, x: x.doubles, w: w.doubles, bias: withBias ? bias.doubles : nil)
            if activation != nil { expected = expected.map { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) } }
            expectClose(y.array, expected, "spectral conv, bias \(withBias), \(String(describing: activation))")
        }
    }

    func run(_ s: Conv1d.Geometry, x: TestBuffer, w: TestBuffer, bias: TestBuffer?) -> TestBuffer {
        let y = TestBuffer(count: s.batch * s.outLength * s.outChannels, value: .nan)
        let workspace = TestBuffer(count: s.workspaceCount)
        Conv1d.forward(s, x: x.readOnly, weight: w.readOnly, bias: bias?.readOnly, y: y.pointer, workspace: workspace.pointer)
        return y
    }

    @Test("forward against a naive loop", arguments: shapes + winogradShapes)
    func forward(shape: Conv1d.Geometry) {
        let x = TestBuffer(random: shape.batch * shape.inLength * shape.inChannels, seed: 1)
        let w = TestBuffer(random: shape.outChannels * shape.patchSize, seed: 2)
        let bias = TestBuffer(random: shape.outChannels, seed: 3)
        expectClose(run(shape, x: x, w: w, bias: bias).array, Self.naive(shape, x: x.doubles, w: w.doubles, bias: bias.doubles), "conv with bias")
        expectClose(run(shape, x: x, w: w, bias: nil).array, Self.naive(shape, x: x.doubles, w: w.doubles, bias: nil), "conv without bias")
    }

    @Test("a fused activation (the fusion pass's conv1d+gelu) gives the convolution, then the GELU",
          arguments: shapes + winogradShapes)
    func fusedActivation(shape: Conv1d.Geometry) {
        let x = TestBuffer(random: shape.batch * shape.inLength * shape.inChannels, seed: 4)
        let w = TestBuffer(random: shape.outChannels * shape.patchSize, seed: 5)
        let bias = TestBuffer(random: shape.outChannels, seed: 6)
        let y = TestBuffer(count: shape.batch * shape.outLength * shape.outChannels, value: .nan)
        let workspace = TestBuffer(count: shape.workspaceCount)
        Conv1d.forward(shape, x: x.readOnly, weight: w.readOnly, bias: bias.readOnly, y: y.pointer,
                       workspace: workspace.pointer, activation: .gelu)
        let expected = Self.naive(shape, x: x.doubles, w: w.doubles, bias: bias.doubles).map { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) }
        expectClose(y.array, expected, "conv + gelu")
    }

    @Test("backward against finite differences", arguments: shapes)
    func backward(shape: Conv1d.Geometry) {
        let x = TestBuffer(random: shape.batch * shape.inLength * shape.inChannels, seed: 4)
        let w = TestBuffer(random: shape.outChannels * shape.patchSize, seed: 5)
        let bias = TestBuffer(random: shape.outChannels, seed: 6)
        GradientCheck.check(inputs: [x, w, bias], forward: { run(shape, x: x, w: w, bias: bias).array }, backward: { dyValues in
            let dy = TestBuffer(dyValues)
            let dx = TestBuffer(count: x.count, value: .nan), dw = TestBuffer(count: w.count, value: .nan), db = TestBuffer(count: bias.count, value: .nan)
            let workspace = TestBuffer(count: shape.workspaceCount)
            Conv1d.backward(shape, x: x.readOnly, weight: w.readOnly, dy: dy.readOnly, dx: dx.pointer, dWeight: dw.pointer, dBias: db.pointer,
                            workspace: workspace.pointer)
            return [dx.array, dw.array, db.array]
        }, "conv backward")
    }

    @Test("accumulating weight and bias gradients adds to what the buffers hold")
    func accumulate() {
        let shape = Self.shapes[1]
        let x = TestBuffer(random: shape.batch * shape.inLength * shape.inChannels, seed: 7)
        let w = TestBuffer(random: shape.outChannels * shape.patchSize, seed: 8)
        let dy = TestBuffer(random: shape.batch * shape.outLength * shape.outChannels, seed: 9)
        let workspace = TestBuffer(count: shape.workspaceCount)
        let dw = TestBuffer(count: w.count), db = TestBuffer(count: shape.outChannels)
        Conv1d.backward(shape, x: x.readOnly, weight: w.readOnly, dy: dy.readOnly, dx: nil, dWeight: dw.pointer, dBias: db.pointer, workspace: workspace.pointer)
        let once = (dw.array, db.array)
        Conv1d.backward(shape, x: x.readOnly, weight: w.readOnly, dy: dy.readOnly, dx: nil, dWeight: dw.pointer, dBias: db.pointer,
                        workspace: workspace.pointer, accumulate: true)
        expectClose(dw.array, once.0.map { 2 * Double($0) }, "dW twice")
        expectClose(db.array, once.1.map { 2 * Double($0) }, "db twice")
    }

    @Test("output lengths follow floor((L + 2p - k) / s) + 1 and are 0 for short inputs")
    func outputLength() {
        // HuBERT's feature encoder on 4 s of 16 kHz audio: 64,000 samples -> 199 frames.
        var length = 64_000
        for (kernel, stride) in zip([10, 3, 3, 3, 3, 2, 2], [5, 2, 2, 2, 2, 2, 2]) {
            length = Conv1d.Geometry(batch: 1, inChannels: 1, outChannels: 1, inLength: length, kernel: kernel, stride: stride).outLength
        }
        #expect(length == 199)
        #expect(Conv1d.Geometry(batch: 1, inChannels: 1, outChannels: 1, inLength: 5, kernel: 10, stride: 5).outLength == 0)
        #expect(Conv1d.Geometry(batch: 1, inChannels: 768, outChannels: 768, inLength: 199, kernel: 128, padding: 64, groups: 16).outLength == 200)
    }
}

extension Conv1d.Geometry: CustomTestStringConvertible {
    public var testDescription: String {
        "\(inChannels)->\(outChannels) k\(kernel) s\(stride) p\(padding) g\(groups) L\(inLength) B\(batch)"
    }
}

@testable import Kernels
import Testing

/// The kernels written here (everything but OpenBLAS's GEMM) compute each output with the same operations in the
/// same order whatever the thread count; these tests hold them to bitwise equality between 1 and 2 threads on
/// shapes big enough to be split (the determinism contract, docs/architecture.md). Where a kernel also calls a
/// multi-threaded GEMM, its own part is tested alone and the whole within the contract's tolerance.
@Suite("Same results for any thread count")
struct ThreadIndependenceTests {
    func withThreads(_ threads: Int, _ body: () -> [Float]) -> [Float] { ThreadContract.withThreads(threads, body) }

    @Test("group norm, layer norm, GELU, softmax and column sums")
    func normsAndPointwise() {
        let (batch, frames, channels) = (2, 300, 64)
        let x = TestBuffer(random: batch * frames * channels, seed: 1, low: -2, high: 3)
        let gamma = TestBuffer(random: channels, seed: 2), beta = TestBuffer(random: channels, seed: 3)
        let lengths: [Int32] = [300, 171]
        func run() -> [Float] {
            let y = TestBuffer(count: x.count), dx = TestBuffer(count: x.count), stats = TestBuffer(count: 2 * batch * frames)
            let dGamma = TestBuffer(count: channels), dBeta = TestBuffer(count: channels)
            let workspace = TestBuffer(count: GroupNorm.workspaceCount(channels: channels))
            lengths.withUnsafeBufferPointer {
                GroupNorm.forward(x: x.readOnly, gamma: gamma.readOnly, beta: beta.readOnly, lengths: $0.baseAddress, y: y.pointer, mean: stats.pointer,
                                  rstd: stats.pointer + batch * channels, workspace: workspace.pointer, batch: batch, frames: frames,
                                  channels: channels, groups: channels, eps: 1e-5)
                GroupNorm.backward(x: x.readOnly, gamma: gamma.readOnly, lengths: $0.baseAddress, dy: x.readOnly, mean: stats.readOnly,
                                   rstd: stats.readOnly + batch * channels, dx: dx.pointer, dGamma: dGamma.pointer, dBeta: dBeta.pointer,
                                   workspace: workspace.pointer, batch: batch, frames: frames, channels: channels, groups: channels)
            }
            var result = y.array + dx.array + dGamma.array + dBeta.array
            LayerNorm.forward(x: x.readOnly, gamma: gamma.readOnly, beta: beta.readOnly, y: y.pointer, mean: stats.pointer,
                              rstd: stats.pointer + batch * frames, rows: batch * frames, columns: channels, eps: 1e-5)
            LayerNorm.backward(x: x.readOnly, gamma: gamma.readOnly, dy: y.readOnly, mean: stats.readOnly, rstd: stats.readOnly + batch * frames,
                               dx: dx.pointer, dGamma: dGamma.pointer, dBeta: dBeta.pointer, rows: batch * frames, columns: channels)
            result += y.array + dx.array + dGamma.array + dBeta.array
            Activation.gelu.forward(x.readOnly, y.pointer, count: x.count)
            Softmax.forward(y.readOnly, dx.pointer, rows: batch * frames, columns: channels)
            result += dx.array
            Reduce.sum(x.readOnly, shape: [batch * frames, channels], into: dGamma.pointer, shape: [channels])
            return result + dGamma.array
        }
        let one = withThreads(1, run), two = withThreads(2, run)
        #expect(one == two)
    }

    @Test("grouped conv1d forward: groups side by side give the same bits as one at a time")
    func groupedForward() {
        let shape = Conv1d.Geometry(batch: 2, inChannels: 32, outChannels: 32, inLength: 300, kernel: 16, padding: 8, groups: 4)
        let x = TestBuffer(random: shape.batch * shape.inLength * shape.inChannels, seed: 7)
        let w = TestBuffer(random: shape.outChannels * shape.patchSize, seed: 8), bias = TestBuffer(random: shape.outChannels, seed: 9)
        func run() -> [Float] {
            let y = TestBuffer(count: shape.batch * shape.outLength * shape.outChannels), workspace = TestBuffer(count: shape.workspaceCount)
            Conv1d.forward(shape, x: x.readOnly, weight: w.readOnly, bias: bias.readOnly, y: y.pointer, workspace: workspace.pointer)
            return y.array
        }
        #expect(withThreads(1, run) == withThreads(2, run))
    }

    @Test("conv1d backward's scatter of patch gradients (parallel over input frames) gives the same bits for any thread count")
    func convScatter() {
        let shape = Conv1d.Geometry(batch: 1, inChannels: 32, outChannels: 32, inLength: 400, kernel: 16, padding: 8, groups: 4)
        var taps = [Range<Int>]()
        Conv1d.forEachTapBlock(shape) { taps.append($0) }
        let width = (taps.map(\.count).max() ?? 0) * shape.inPerGroup
        let patches = TestBuffer(random: shape.outLength * width, seed: 4)
        ThreadContract.expectBitwiseAcrossThreads {
            let dx = TestBuffer(count: shape.inLength * shape.inChannels)
            for group in 0..<shape.groups {
                for block in taps { Conv1d.scatterPatches(shape, patches.readOnly, group: group, taps: block, into: dx.pointer) }
            }
            return [dx.array]
        }
    }

    @Test("conv1d backward through im2col: the same bits for a repeated thread count, within rounding across counts")
    func convBackward() {
        let shape = Conv1d.Geometry(batch: 1, inChannels: 32, outChannels: 32, inLength: 400, kernel: 16, padding: 8, groups: 4)
        let x = TestBuffer(random: shape.inLength * shape.inChannels, seed: 4), w = TestBuffer(random: shape.outChannels * shape.patchSize, seed: 5)
        let dy = TestBuffer(random: shape.outLength * shape.outChannels, seed: 6)
        ThreadContract.expectThroughGEMM {
            let dx = TestBuffer(count: x.count), dWeight = TestBuffer(count: w.count), workspace = TestBuffer(count: shape.workspaceCount)
            Conv1d.backward(shape, x: x.readOnly, weight: w.readOnly, dy: dy.readOnly, dx: dx.pointer, dWeight: dWeight.pointer,
                            dBias: nil, workspace: workspace.pointer)
            return [dx.array, dWeight.array]
        }
    }
}

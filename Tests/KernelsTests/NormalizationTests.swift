import Kernels
import Testing

@Suite("Layer norm and group norm")
struct NormalizationTests {
    /// Naive Float64 group norm over valid frames of channels-last [B, T, C]; padded frames are 0.
    static func naiveGroupNorm(x: [Double], gamma: [Double], beta: [Double], lengths: [Int], frames: Int, channels: Int, groups: Int, eps: Double) -> [Double] {
        var y = [Double](repeating: 0, count: x.count)
        let perGroup = channels / groups
        for b in 0..<lengths.count {
            for g in 0..<groups {
                var values = [Double]()
                for t in 0..<lengths[b] { for c in g * perGroup..<(g + 1) * perGroup { values.append(x[(b * frames + t) * channels + c]) } }
                let mean = values.reduce(0, +) / Double(values.count)
                let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
                for t in 0..<lengths[b] {
                    for c in g * perGroup..<(g + 1) * perGroup {
                        let i = (b * frames + t) * channels + c
                        y[i] = (x[i] - mean) / (variance + eps).squareRoot() * gamma[c] + beta[c]
                    }
                }
            }
        }
        return y
    }

    @Test("layer norm forward against Float64", arguments: [(3, 7), (5, 768), (1, 33)])
    func layerNormForward(rows: Int, columns: Int) {
        let x = TestBuffer(random: rows * columns, seed: 1, low: -3, high: 5)
        let gamma = TestBuffer(random: columns, seed: 2), beta = TestBuffer(random: columns, seed: 3)
        let y = TestBuffer(count: rows * columns), mean = TestBuffer(count: rows), rstd = TestBuffer(count: rows)
        LayerNorm.forward(x: x.readOnly, gamma: gamma.readOnly, beta: beta.readOnly, y: y.pointer, mean: mean.pointer, rstd: rstd.pointer,
                          rows: rows, columns: columns, eps: 1e-5)
        var expected = [Double]()
        for r in 0..<rows {
            let row = Array(x.doubles[r * columns..<(r + 1) * columns])
            let mu = row.reduce(0, +) / Double(columns)
            let variance = row.reduce(0) { $0 + ($1 - mu) * ($1 - mu) } / Double(columns)
            expected += row.enumerated().map { c, v in (v - mu) / (variance + 1e-5).squareRoot() * Double(gamma[c]) + Double(beta[c]) }
        }
        expectClose(y.array, expected, rtol: 1e-4, atol: 1e-5, "layer norm")
    }

    @Test("layer norm backward against finite differences")
    func layerNormBackward() {
        let (rows, columns) = (3, 9)
        let x = TestBuffer(random: rows * columns, seed: 4, low: -2, high: 2)
        let gamma = TestBuffer(random: columns, seed: 5), beta = TestBuffer(random: columns, seed: 6)
        let mean = TestBuffer(count: rows), rstd = TestBuffer(count: rows)
        func run() -> TestBuffer {
            let y = TestBuffer(count: rows * columns)
            LayerNorm.forward(x: x.readOnly, gamma: gamma.readOnly, beta: beta.readOnly, y: y.pointer, mean: mean.pointer, rstd: rstd.pointer,
                              rows: rows, columns: columns, eps: 1e-5)
            return y
        }
        GradientCheck.check(inputs: [x, gamma, beta], forward: { run().array }, backward: { dyValues in
            _ = run()
            let dy = TestBuffer(dyValues)
            let dx = TestBuffer(count: rows * columns), dGamma = TestBuffer(count: columns), dBeta = TestBuffer(count: columns)
            LayerNorm.backward(x: x.readOnly, gamma: gamma.readOnly, dy: dy.readOnly, mean: mean.readOnly, rstd: rstd.readOnly,
                               dx: dx.pointer, dGamma: dGamma.pointer, dBeta: dBeta.pointer, rows: rows, columns: columns)
            return [dx.array, dGamma.array, dBeta.array]
        }, eps: 1e-3, "layer norm")
    }

    @Test("group norm forward with mixed lengths against Float64", arguments: [(4, 2), (6, 6), (32, 32), (35, 5)])
    func groupNormForward(channels: Int, groups: Int) {
        let (frames, lengths) = (9, [9, 4, 0])
        let batch = lengths.count
        let x = TestBuffer(random: batch * frames * channels, seed: 7, low: -1, high: 3)
        let gamma = TestBuffer(random: channels, seed: 8), beta = TestBuffer(random: channels, seed: 9)
        let y = TestBuffer(count: x.count), mean = TestBuffer(count: batch * groups), rstd = TestBuffer(count: batch * groups)
        let workspace = TestBuffer(count: GroupNorm.workspaceCount(channels: channels))
        let lengthValues = lengths.map(Int32.init)
        lengthValues.withUnsafeBufferPointer { lengthPointer in
            GroupNorm.forward(x: x.readOnly, gamma: gamma.readOnly, beta: beta.readOnly, lengths: lengthPointer.baseAddress, y: y.pointer,
                              mean: mean.pointer, rstd: rstd.pointer, workspace: workspace.pointer,
                              batch: batch, frames: frames, channels: channels, groups: groups, eps: 1e-5)
        }
        let expected = Self.naiveGroupNorm(x: x.doubles, gamma: gamma.doubles, beta: beta.doubles, lengths: lengths,
                                           frames: frames, channels: channels, groups: groups, eps: 1e-5)
        expectClose(y.array, expected, rtol: 1e-4, atol: 1e-5, "group norm")
        #expect(y.array[(frames + 4) * channels..<(2 * frames) * channels].allSatisfy { $0 == 0 }, "padded frames are zero")
    }

    @Test("group norm with a fused activation (the fusion pass's group_norm+gelu) gives the bits of the norm, then the GELU")
    func groupNormFusedActivation() {
        let (batch, frames, channels, groups) = (2, 7, 12, 4)
        let x = TestBuffer(random: batch * frames * channels, seed: 31, low: -2, high: 2)
        let gamma = TestBuffer(random: channels, seed: 32), beta = TestBuffer(random: channels, seed: 33)
        let workspace = TestBuffer(count: GroupNorm.workspaceCount(channels: channels))
        let stats = TestBuffer(count: 2 * batch * groups)
        let lengths: [Int32] = [7, 4]
        func run(_ activation: Activation?) -> [Float] {
            let y = TestBuffer(count: x.count)
            lengths.withUnsafeBufferPointer { lengthPointer in
                GroupNorm.forward(x: x.readOnly, gamma: gamma.readOnly, beta: beta.readOnly, lengths: lengthPointer.baseAddress,
                                  y: y.pointer, mean: stats.pointer, rstd: stats.pointer + batch * groups,
                                  workspace: workspace.pointer, batch: batch, frames: frames, channels: channels,
                                  groups: groups, eps: 1e-5, activation: activation)
            }
            return y.array
        }
        let plain = run(nil)
        // Padded frames stay 0 (GELU(0) = 0), the rest is GELU of the plain output, bit for bit.
        #expect(run(.gelu) == plain.map { FastMath.gelu($0) })
        #expect(run(.tanh) == plain.map { FastMath.tanh($0) })
    }

    @Test("in place (y = x, as the memory planner places them) the norms give the bits of their out-of-place forms",
          arguments: [Activation?.none, .gelu, .tanh])
    func inPlace(activation: Activation?) {
        // Group norm: groups of one channel (HuBERT's first layer), 560 channels: more than one 512-column window.
        let (batch, frames, channels) = (2, 37, 560)
        let x = TestBuffer(random: batch * frames * channels, seed: 41, low: -2, high: 2)
        let gamma = TestBuffer(random: channels, seed: 42), beta = TestBuffer(random: channels, seed: 43)
        let workspace = TestBuffer(count: GroupNorm.workspaceCount(channels: channels))
        let stats = TestBuffer(count: 2 * batch * channels)
        let lengths: [Int32] = [37, 20]
        func groupNorm(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>) {
            lengths.withUnsafeBufferPointer { lengthPointer in
                GroupNorm.forward(x: input, gamma: gamma.readOnly, beta: beta.readOnly, lengths: lengthPointer.baseAddress,
                                  y: output, mean: stats.pointer, rstd: stats.pointer + batch * channels,
                                  workspace: workspace.pointer, batch: batch, frames: frames, channels: channels,
                                  groups: channels, eps: 1e-5, activation: activation)
            }
        }
        let apart = TestBuffer(count: x.count)
        groupNorm(x.readOnly, into: apart.pointer)
        // One thread takes all 560 columns (two windows of the column sums), two threads 280 each: the same bits.
        let saved = KernelThreads.count
        defer { KernelThreads.set(saved) }
        for threads in [1, 2] {
            KernelThreads.set(threads)
            let copy = TestBuffer(count: x.count)
            copy.pointer.update(from: x.readOnly, count: x.count)
            groupNorm(copy.readOnly, into: copy.pointer)
            #expect(copy.array.map(\.bitPattern) == apart.array.map(\.bitPattern), "\(threads) threads")
        }

        // Layer norm, and the residual add + layer norm writing over either operand.
        guard activation == nil else { return }
        let (rows, columns) = (9, 768)
        let a = TestBuffer(random: rows * columns, seed: 44), r = TestBuffer(random: rows * columns, seed: 45)
        let g = TestBuffer(random: columns, seed: 46), bias = TestBuffer(random: columns, seed: 47)
        let rowStats = TestBuffer(count: 2 * rows)
        let separate = TestBuffer(count: a.count)
        LayerNorm.forward(x: a.readOnly, gamma: g.readOnly, beta: bias.readOnly, y: separate.pointer, mean: rowStats.pointer,
                          rstd: rowStats.pointer + rows, rows: rows, columns: columns, eps: 1e-5)
        let same = TestBuffer(count: a.count)
        same.pointer.update(from: a.readOnly, count: a.count)
        LayerNorm.forward(x: same.readOnly, gamma: g.readOnly, beta: bias.readOnly, y: same.pointer, mean: rowStats.pointer,
                          rstd: rowStats.pointer + rows, rows: rows, columns: columns, eps: 1e-5)
        #expect(same.array.map(\.bitPattern) == separate.array.map(\.bitPattern))
        LayerNorm.forward(x: a.readOnly, residual: r.readOnly, gamma: g.readOnly, beta: bias.readOnly, y: separate.pointer,
                          mean: rowStats.pointer, rstd: rowStats.pointer + rows, rows: rows, columns: columns, eps: 1e-5)
        for overwritten in [a, r] {
            let copy = TestBuffer(count: a.count)
            copy.pointer.update(from: overwritten.readOnly, count: a.count)
            let first = overwritten === a ? copy.readOnly : a.readOnly, second = overwritten === r ? copy.readOnly : r.readOnly
            LayerNorm.forward(x: first, residual: second, gamma: g.readOnly, beta: bias.readOnly, y: copy.pointer,
                              mean: rowStats.pointer, rstd: rowStats.pointer + rows, rows: rows, columns: columns, eps: 1e-5)
            #expect(copy.array.map(\.bitPattern) == separate.array.map(\.bitPattern))
        }
    }

    @Test("group norm gives a sequence the same result padded or alone")
    func groupNormPaddingInvariance() {
        let (channels, frames, length) = (16, 11, 6)
        let alone = TestBuffer(random: length * channels, seed: 10)
        let padded = TestBuffer(count: 2 * frames * channels, value: 7)  // garbage in the padding
        for i in 0..<alone.count { padded[frames * channels + i] = alone[i] }
        let gamma = TestBuffer(random: channels, seed: 11), beta = TestBuffer(random: channels, seed: 12)
        let workspace = TestBuffer(count: GroupNorm.workspaceCount(channels: channels))
        let yAlone = TestBuffer(count: alone.count), yPadded = TestBuffer(count: padded.count)
        let stats = TestBuffer(count: 4 * channels)
        GroupNorm.forward(x: alone.readOnly, gamma: gamma.readOnly, beta: beta.readOnly, lengths: nil, y: yAlone.pointer,
                          mean: stats.pointer, rstd: stats.pointer + channels, workspace: workspace.pointer,
                          batch: 1, frames: length, channels: channels, groups: channels, eps: 1e-5)
        let lengths: [Int32] = [Int32(frames), Int32(length)]
        lengths.withUnsafeBufferPointer { lengthPointer in
            GroupNorm.forward(x: padded.readOnly, gamma: gamma.readOnly, beta: beta.readOnly, lengths: lengthPointer.baseAddress, y: yPadded.pointer,
                              mean: stats.pointer, rstd: stats.pointer + 2 * channels, workspace: workspace.pointer,
                              batch: 2, frames: frames, channels: channels, groups: channels, eps: 1e-5)
        }
        #expect(Array(yPadded.array[frames * channels..<(frames + length) * channels]) == yAlone.array)
    }

    @Test("group norm backward with mixed lengths against finite differences", arguments: [(6, 3), (16, 16)])
    func groupNormBackward(channels: Int, groups: Int) {
        let (frames, lengths) = (5, [Int32(5), 3])
        let batch = lengths.count
        let x = TestBuffer(random: batch * frames * channels, seed: 13, low: -2, high: 2)
        let gamma = TestBuffer(random: channels, seed: 14), beta = TestBuffer(random: channels, seed: 15)
        let mean = TestBuffer(count: batch * groups), rstd = TestBuffer(count: batch * groups)
        let workspace = TestBuffer(count: GroupNorm.workspaceCount(channels: channels))
        func run() -> TestBuffer {
            let y = TestBuffer(count: x.count)
            lengths.withUnsafeBufferPointer { lengthPointer in
                GroupNorm.forward(x: x.readOnly, gamma: gamma.readOnly, beta: beta.readOnly, lengths: lengthPointer.baseAddress, y: y.pointer,
                                  mean: mean.pointer, rstd: rstd.pointer, workspace: workspace.pointer,
                                  batch: batch, frames: frames, channels: channels, groups: groups, eps: 1e-5)
            }
            return y
        }
        GradientCheck.check(inputs: [x, gamma, beta], forward: { run().array }, backward: { dyValues in
            _ = run()
            let dy = TestBuffer(dyValues)
            let dx = TestBuffer(count: x.count), dGamma = TestBuffer(count: channels), dBeta = TestBuffer(count: channels)
            lengths.withUnsafeBufferPointer { lengthPointer in
                GroupNorm.backward(x: x.readOnly, gamma: gamma.readOnly, lengths: lengthPointer.baseAddress, dy: dy.readOnly,
                                   mean: mean.readOnly, rstd: rstd.readOnly, dx: dx.pointer, dGamma: dGamma.pointer, dBeta: dBeta.pointer,
                                   workspace: workspace.pointer, batch: batch, frames: frames, channels: channels, groups: groups)
            }
            return [dx.array, dGamma.array, dBeta.array]
        }, eps: 1e-3, "group norm")
    }
}

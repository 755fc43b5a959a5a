import Foundation

/// The forward pass of a stride-2, 3-tap convolution (HuBERT's feature encoder, layers 1-4: 94 % of its products)
/// with two ninths of the multiplications saved, through the minimal filtering algorithm F(3, 2) on its even taps.
///
/// With `e[t] = x[2t]` and `o[t] = x[2t + 1]`, the convolution is `y[t] = W0 e[t] + W2 e[t + 1] + W1 o[t]`: a
/// one-tap product of the odd frames and a two-tap correlation of the even ones. The two-tap part for three
/// consecutive outputs `3s, 3s + 1, 3s + 2` reads `d_j = e[3s + j]`, `j = 0...3`, and takes four products instead of
/// six (Toom-Cook at the points 0, 1, -1 and infinity, transposed):
///
///     T0 = d0 - d2   T1 = d1 + d2   T2 = d2 - d1   T3 = d3 - d1         (input transform, per tile)
///     U0 = W0        U1 = (W0 + W2) / 2   U2 = (W0 - W2) / 2   U3 = W2  (weight transform, once)
///     M_i = U_i T_i
///     y[3s] += M0 + M1 + M2    y[3s + 1] += M1 - M2    y[3s + 2] += M1 + M2 + M3
///
/// so each output costs `1 + 4/3` products of `inChannels x outChannels` instead of 3 (7/9 of the FLOPs). The
/// transforms add, subtract and halve only (exact but for the rounding of one sum), so results agree with the direct
/// product to a few ulps of the sums, not bitwise. Per chunk of `tilesPerChunk` tiles, five products: the odd frames
/// into every output row, `M0` and `M3` added straight into their rows (`beta = 1`, every third row), `M1` and `M2`
/// into a buffer; then one pass adds `M1 +- M2` to the three rows of each tile and applies the activation while they
/// are in cache. The outputs past the last whole tile (0-2 per sequence) take the direct product.
///
/// Measured (`gmptl bench kernels --filter conv1d`, Zen 2, 2 threads, alternating with `GMPTL_CONV=direct`): layers
/// 1-4 at batch 1 88-91 ms against 104-105 direct (the GEMMs of depth 512 run at ~170 GFLOP/s against ~185 for the
/// direct product's depth 1,536, so 22 % fewer FLOPs give 15 %).
extension Conv1d {
    /// Tiles (three outputs each) per chunk. Measured on HuBERT's layers 1-4 at batch 1 (2 threads, one sitting):
    /// 512 tiles 104-106 ms, 768 93-96, 1,100 88-91, 2,200 90. Smaller chunks pack the five weights more often and
    /// give products of 512 rows and less (the packed engine's short path, slower at depth 512); larger ones hold
    /// more workspace (6 floats a tile and channel: 12.6 MB at 512 channels) for no gain.
    public static let tilesPerChunk = 1_024

    /// Whether the F(3, 2) path is on: `GMPTL_CONV=direct` turns it off (every convolution then takes the direct
    /// product, as before it existed: for comparisons).
    public static let winogradEnabled = ProcessInfo.processInfo.environment["GMPTL_CONV"]?.lowercased() != "direct"

    /// Whether `forward` takes this path: one group, no padding, stride 2, three taps, rows wide enough to read in
    /// place, and at least 32 tiles (HuBERT's layers 1-4 on 0.1 s of audio and more; a threshold chosen, not
    /// measured: shorter inputs keep the one direct product instead of the path's six calls and transforms).
    public static func usesWinograd(_ shape: Geometry) -> Bool {
        winogradEnabled && shape.groups == 1 && shape.padding == 0 && shape.stride == 2 && shape.kernel == 3
            && shape.readsInputInPlace && shape.outLength >= 3 * 32
    }

    /// Floats of the path's own buffers, after the two packed-weight slots: the four transformed inputs and two
    /// products of one chunk.
    static func winogradCount(_ shape: Geometry) -> Int {
        usesWinograd(shape) ? tilesPerChunk * (4 * shape.inChannels + 2 * shape.outChannels) : 0
    }

    /// `y = conv(x) (+ y when `biasBeta` is 1)`, then `activation`, for `usesWinograd` geometries. `packed` is the
    /// tap-major weight (`[out, 3, in]`); `workspace` holds `2 * out * in + winogradCount` floats.
    static func winogradForward(
        _ shape: Geometry, x: UnsafePointer<Float>, packed: UnsafePointer<Float>, biasBeta: Float,
        y: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>, activation: Activation?
    ) {
        let channels = shape.inChannels, outChannels = shape.outChannels, outLength = shape.outLength
        let patch = shape.patchSize
        // U1 and U2 (U0, U3 and W1 are the packed weight's taps, read in place with a row stride of 3 * in).
        let half = workspace, difference = workspace + outChannels * channels
        transformWeight(packed, outChannels: outChannels, channels: channels, half: half, difference: difference)
        let transformed = workspace + 2 * outChannels * channels
        let products = transformed + 4 * tilesPerChunk * channels
        let inSequence = shape.inLength * channels, outSequence = outLength * outChannels
        let tiles = outLength / 3

        for b in 0..<shape.batch {
            let input = x + b * inSequence, output = y + b * outSequence
            var first = 0
            while first < tiles {
                let count = min(tilesPerChunk, tiles - first)
                let rows = output + 3 * first * outChannels
                // The odd frames' products write (or add to the bias in) every output row of the chunk.
                Gemm.multiply(
                    transB: true, m: 3 * count, n: outChannels, k: channels,
                    a: input + (6 * first + 1) * channels, lda: 2 * channels, b: packed + channels, ldb: patch,
                    beta: biasBeta, c: rows, ldc: outChannels)
                transformInput(input + 6 * first * channels, tiles: count, channels: channels, into: transformed)
                let chunk = count * channels
                // M0 into rows 3s, M3 into rows 3s + 2; M1 and M2 apart.
                Gemm.multiply(
                    transB: true, m: count, n: outChannels, k: channels, a: transformed, lda: channels,
                    b: packed, ldb: patch, beta: 1, c: rows, ldc: 3 * outChannels)
                Gemm.multiply(
                    transB: true, m: count, n: outChannels, k: channels, a: transformed + 3 * chunk, lda: channels,
                    b: packed + 2 * channels, ldb: patch, beta: 1, c: rows + 2 * outChannels, ldc: 3 * outChannels)
                Gemm.multiply(
                    transB: true, m: count, n: outChannels, k: channels, a: transformed + chunk, lda: channels,
                    b: half, ldb: channels, c: products, ldc: outChannels)
                Gemm.multiply(
                    transB: true, m: count, n: outChannels, k: channels, a: transformed + 2 * chunk, lda: channels,
                    b: difference, ldb: channels, c: products + count * outChannels, ldc: outChannels)
                transformOutput(products, tiles: count, outChannels: outChannels, into: rows, activation: activation)
                first += count
            }
            // The last 0-2 outputs, directly: the input in place, at most `stride` taps a product (OpenBLAS takes no
            // leading dimension below the depth), then the activation.
            let done = 3 * tiles
            if done < outLength {
                let rows = output + done * outChannels
                forEachTapChunk(shape) { firstTap, taps, isFirst in
                    Gemm.multiply(
                        transB: true, m: outLength - done, n: outChannels, k: taps * channels,
                        a: input + (2 * done + firstTap) * channels, lda: 2 * channels, b: packed + firstTap * channels,
                        ldb: patch, beta: isFirst ? biasBeta : 1, c: rows, ldc: outChannels)
                }
                activation?.forward(rows, rows, count: (outLength - done) * outChannels)
            }
        }
    }

    /// `half = (W0 + W2) / 2`, `difference = (W0 - W2) / 2`, each `[out, in]`, from the tap-major weight.
    static func transformWeight(
        _ packed: UnsafePointer<Float>, outChannels: Int, channels: Int, half: UnsafeMutablePointer<Float>,
        difference: UnsafeMutablePointer<Float>
    ) {
        Parallel.forChunks(outChannels, grain: 64) { range in
            for o in range {
                let w0 = packed + o * 3 * channels, w2 = w0 + 2 * channels
                let h = half + o * channels, d = difference + o * channels
                for c in 0..<channels {
                    h[c] = 0.5 * (w0[c] + w2[c])
                    d[c] = 0.5 * (w0[c] - w2[c])
                }
            }
        }
    }

    /// `T0..T3` of `tiles` tiles from the sequence at `input` (tile s reads frames 6s, 6s + 2, 6s + 4, 6s + 6), into
    /// four `[tiles, channels]` blocks one after the other.
    static func transformInput(
        _ input: UnsafePointer<Float>, tiles: Int, channels: Int, into transformed: UnsafeMutablePointer<Float>
    ) {
        let block = tiles * channels
        Parallel.forChunks(tiles, grain: 16) { range in
            for s in range {
                let d0 = input + 6 * s * channels, d1 = d0 + 2 * channels, d2 = d0 + 4 * channels, d3 = d0 + 6 * channels
                let t0 = transformed + s * channels, t1 = t0 + block, t2 = t1 + block, t3 = t2 + block
                for c in 0..<channels {
                    t0[c] = d0[c] - d2[c]
                    t1[c] = d1[c] + d2[c]
                    t2[c] = d2[c] - d1[c]
                    t3[c] = d3[c] - d1[c]
                }
            }
        }
    }

    /// Adds `M1 + M2`, `M1 - M2`, `M1 + M2` to the three rows of each tile (which hold the odd product plus `M0`,
    /// nothing, plus `M3`), then applies `activation` to them.
    static func transformOutput(
        _ products: UnsafePointer<Float>, tiles: Int, outChannels: Int, into rows: UnsafeMutablePointer<Float>,
        activation: Activation?
    ) {
        let block = tiles * outChannels
        Parallel.forChunks(tiles, grain: 16) { range in
            for s in range {
                let m1 = products + s * outChannels, m2 = m1 + block
                let y0 = rows + 3 * s * outChannels, y1 = y0 + outChannels, y2 = y1 + outChannels
                for c in 0..<outChannels {
                    let sum = m1[c] + m2[c], difference = m1[c] - m2[c]
                    y0[c] += sum
                    y1[c] += difference
                    y2[c] += sum
                }
                if let activation { activation.forward(y0, y0, count: 3 * outChannels) }
            }
        }
    }
}

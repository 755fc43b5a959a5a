/// The forward pass of a stride-1 convolution with a long kernel (HuBERT's positional conv: 128 taps, 16 groups of
/// 48 channels) through FFTs: overlap-save blocks of `spectralLength(shape)` points, products per frequency, inverse
/// FFT. For the positional conv this is about 0.1 GFLOP a sequence of 4 s against 1.9 for the direct product.
///
/// The weight's spectrum depends on the weight alone, so callers that keep it across calls (inference with a constant
/// weight: the Runtime's packed-weight cache) pass it in; `forward` takes this path only then.
///
/// With `N` points and `K` taps, a block of `L = N - K + 1` outputs starting at `t0` reads the padded input
/// `x_p[t0 ..< t0 + N]` (`x_p[i] = x[i - padding]`, zero outside the sequence). Its circular convolution with the
/// reversed kernel `w'[j] = w[K - 1 - j]` (zero past `K`) holds, at positions `n >= K - 1`, no wrapped terms:
/// `z[n] = sum_k w[k] x_p[t0 + n - (K - 1) + k] = y[t0 + n - (K - 1)]`. The spectra are kept for the bins `0 ... N/2`
/// (real signals); the inverse transform takes the rest as their conjugates.
extension Conv1d {
    /// Whether `forward` can take the spectral path for this geometry (given the weight's spectrum): stride 1, at least
    /// 64 taps.
    public static func usesSpectral(_ shape: Geometry) -> Bool {
        shape.stride == 1 && shape.kernel >= 64 && shape.isValid
    }

    /// The FFT length: the smallest power of two of at least twice the kernel (so a block has more outputs than taps).
    public static func spectralLength(_ shape: Geometry) -> Int {
        var length = 2
        while length < 2 * shape.kernel { length *= 2 }
        return length
    }

    /// Floats of the weight's spectrum (`spectralWeight`): real and imaginary planes of `[bins, groups, inPerGroup,
    /// outPerGroup]`, `bins = N / 2 + 1`.
    public static func spectralWeightCount(_ shape: Geometry) -> Int {
        2 * (spectralLength(shape) / 2 + 1) * shape.outChannels * shape.inPerGroup
    }

    /// Floats of workspace the spectral forward needs: the transforms of every block of every sequence (inputs and
    /// outputs), so that each bin's weights are read once for the whole batch (6.3 MB a sequence for HuBERT base).
    static func spectralWorkspaceCount(_ shape: Geometry) -> Int {
        guard usesSpectral(shape) else { return 0 }
        return 2 * shape.batch * spectralBlocks(shape) * spectralLength(shape) * (shape.inChannels + shape.outChannels)
    }

    static func spectralBlocks(_ shape: Geometry) -> Int {
        let length = spectralLength(shape), outputs = length - shape.kernel + 1
        return (shape.outLength + outputs - 1) / outputs
    }

    /// The spectrum of the reversed, zero-padded kernel of every (output, input) channel pair of a group, from the
    /// weight in PyTorch's layout `[out, in / groups, kernel]`, into `spectrum` (`spectralWeightCount` floats).
    public static func spectralWeight(_ shape: Geometry, weight: UnsafePointer<Float>, into spectrum: UnsafeMutablePointer<Float>) {
        let length = spectralLength(shape), bins = length / 2 + 1, taps = shape.kernel
        let inPer = shape.inPerGroup, outPer = shape.outPerGroup, pairs = shape.outChannels * inPer
        let imaginaryPlane = spectrum + bins * pairs
        let fft = LaneFFT(length: length)
        // Lanes in the spectrum's order (group, input channel, output channel), 1,024 at a time per thread.
        let chunk = 1_024
        Parallel.forChunks((pairs + chunk - 1) / chunk) { range in
            let lanes = chunk
            let real = UnsafeMutablePointer<Float>.allocate(capacity: 2 * length * lanes)
            defer { real.deallocate() }
            let imaginary = real + length * lanes
            for block in range {
                let first = block * chunk, count = min(chunk, pairs - first)
                real.update(repeating: 0, count: 2 * length * lanes)
                for lane in 0..<count {
                    let pair = first + lane
                    let o = pair % outPer, c = (pair / outPer) % inPer, g = pair / (outPer * inPer)
                    let kernel = weight + ((g * outPer + o) * inPer + c) * taps
                    for j in 0..<taps { real[j * lanes + lane] = kernel[taps - 1 - j] }
                }
                fft.forward(real: real, imaginary: imaginary, lanes: count, stride: lanes)
                for f in 0..<bins {
                    (spectrum + f * pairs + first).update(from: real + f * lanes, count: count)
                    (imaginaryPlane + f * pairs + first).update(from: imaginary + f * lanes, count: count)
                }
            }
        }
    }

    /// `y = conv(x, weight) + bias`, then `activation`, from the weight's spectrum (`spectralWeight`).
    static func spectralForward(
        _ shape: Geometry, x: UnsafePointer<Float>, spectrum: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        y: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>, activation: Activation?
    ) {
        let length = spectralLength(shape), bins = length / 2 + 1, taps = shape.kernel
        let outputsPerBlock = length - taps + 1, blocks = spectralBlocks(shape)
        let channels = shape.inChannels, outChannels = shape.outChannels, outLength = shape.outLength
        let inPer = shape.inPerGroup, outPer = shape.outPerGroup, groups = shape.groups
        let pairs = outChannels * inPer
        let fft = LaneFFT(length: length)
        // Per block: input planes [N, channels] (real, imaginary), then output planes [N, outChannels].
        let inputPlane = length * channels, outputPlane = length * outChannels
        let blockFloats = 2 * (inputPlane + outputPlane)
        // Signals: block `j` of sequence `b` is signal `b * blocks + j`, with its planes at `signal * blockFloats`.
        let signals = shape.batch * blocks
        // Each signal's padded input, transformed; lanes split across threads in runs of 16.
        let inputRuns = (channels + 15) / 16
        Parallel.forChunks(signals * inputRuns) { range in
            for item in range {
                let signal = item % signals, lane0 = (item / signals) * 16, lanes = min(16, channels - lane0)
                let b = signal / blocks, block = signal % blocks
                let input = x + b * shape.inLength * channels
                let real = workspace + signal * blockFloats, imaginary = real + inputPlane
                let start = block * outputsPerBlock - shape.padding
                for n in 0..<length {
                    let position = start + n, row = real + n * channels + lane0
                    if position >= 0 && position < shape.inLength {
                        row.update(from: input + position * channels + lane0, count: lanes)
                    } else {
                        row.update(repeating: 0, count: lanes)
                    }
                    (imaginary + n * channels + lane0).update(repeating: 0, count: lanes)
                }
                fft.forward(real: real + lane0, imaginary: imaginary + lane0, lanes: lanes, stride: channels)
            }
        }
        // Per bin and group: Y[o] = sum_c W[c][o] X[c] (complex), for every signal while the bin's weights are in
        // cache; the upper bins are the conjugates of the lower ones.
        Parallel.forChunks(bins) { range in
            for f in range {
                for g in 0..<groups {
                    let wr = spectrum + f * pairs + g * inPer * outPer
                    let wi = wr + bins * pairs
                    for signal in 0..<signals {
                        let xr = workspace + signal * blockFloats + f * channels, xi = xr + inputPlane
                        let yr = workspace + signal * blockFloats + 2 * inputPlane + f * outChannels, yi = yr + outputPlane
                        spectralProduct(wr: wr, wi: wi, xr: xr + g * inPer, xi: xi + g * inPer,
                                        yr: yr + g * outPer, yi: yi + g * outPer, inPer: inPer, outPer: outPer)
                    }
                }
                guard f > 0 && f < length - f else { continue }
                for signal in 0..<signals {
                    let yr = workspace + signal * blockFloats + 2 * inputPlane, yi = yr + outputPlane
                    let mirror = length - f
                    for o in 0..<outChannels {
                        yr[mirror * outChannels + o] = yr[f * outChannels + o]
                        yi[mirror * outChannels + o] = -yi[f * outChannels + o]
                    }
                }
            }
        }
        // Inverse transforms; the real parts at positions K - 1 ..< N are the block's outputs.
        let outputRuns = (outChannels + 15) / 16
        Parallel.forChunks(signals * outputRuns) { range in
            for item in range {
                let signal = item % signals, lane0 = (item / signals) * 16, lanes = min(16, outChannels - lane0)
                let b = signal / blocks, block = signal % blocks
                let output = y + b * outLength * outChannels
                let real = workspace + signal * blockFloats + 2 * inputPlane, imaginary = real + outputPlane
                fft.inverse(real: real + lane0, imaginary: imaginary + lane0, lanes: lanes, stride: outChannels)
                for n in (taps - 1)..<length {
                    let t = block * outputsPerBlock + n - (taps - 1)
                    guard t < outLength else { break }
                    let source = real + n * outChannels + lane0, target = output + t * outChannels + lane0
                    if let bias {
                        for lane in 0..<lanes { target[lane] = source[lane] + bias[lane0 + lane] }
                    } else {
                        target.update(from: source, count: lanes)
                    }
                }
            }
        }
        if let activation { activation.forward(y, y, count: shape.batch * outLength * outChannels) }
    }

    /// `y[o] = sum_c w[c, o] x[c]` over complex numbers in split planes, `w` row-major `[inPer, outPer]`.
    @inline(__always)
    static func spectralProduct(
        wr: UnsafePointer<Float>, wi: UnsafePointer<Float>, xr: UnsafePointer<Float>, xi: UnsafePointer<Float>,
        yr: UnsafeMutablePointer<Float>, yi: UnsafeMutablePointer<Float>, inPer: Int, outPer: Int
    ) {
        var o = 0
        while o + 16 <= outPer {
            var accR = SIMD16<Float>(), accI = SIMD16<Float>()
            for c in 0..<inPer {
                let rowR = UnsafeRawPointer(wr + c * outPer + o).loadUnaligned(as: SIMD16<Float>.self)
                let rowI = UnsafeRawPointer(wi + c * outPer + o).loadUnaligned(as: SIMD16<Float>.self)
                let vr = SIMD16<Float>(repeating: xr[c]), vi = SIMD16<Float>(repeating: xi[c])
                accR.addProduct(rowR, vr)
                accR.addProduct(-rowI, vi)
                accI.addProduct(rowR, vi)
                accI.addProduct(rowI, vr)
            }
            UnsafeMutableRawPointer(yr + o).storeBytes(of: accR, as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(yi + o).storeBytes(of: accI, as: SIMD16<Float>.self)
            o += 16
        }
        while o < outPer {
            var accR: Float = 0, accI: Float = 0
            for c in 0..<inPer {
                let r = wr[c * outPer + o], i = wi[c * outPer + o]
                accR += r * xr[c] - i * xi[c]
                accI += r * xi[c] + i * xr[c]
            }
            yr[o] = accR
            yi[o] = accI
            o += 1
        }
    }
}

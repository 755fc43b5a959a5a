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

    /// Floats of workspace the spectral forward needs: the spectra (bins `0 ... N/2`) of every block of every sequence,
    /// inputs and outputs, so that each bin's weights are read once for the whole batch (3.2 MB a sequence for HuBERT
    /// base), then one transform scratch per kernel thread (sized by the thread count at the call).
    static func spectralWorkspaceCount(_ shape: Geometry) -> Int {
        guard usesSpectral(shape) else { return 0 }
        let length = spectralLength(shape), bins = length / 2 + 1
        return 2 * shape.batch * spectralBlocks(shape) * bins * (shape.inChannels + shape.outChannels)
            + KernelThreads.count * 2 * length * spectralRun
    }

    /// Channels transformed at a time, in a contiguous `[N, spectralRun]` scratch.
    static let spectralRun = 16

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
        let fft = LaneFFT.shared(length: length)
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
    ///
    /// Each transform runs on 16 channels of one block copied into a contiguous `[N, 16]` scratch (32 KiB with both
    /// planes, in L1): in place in the sequence's layout, the rows of one run lie `channels` floats apart, a stride of
    /// 3 KiB that puts all 256 rows into four L1 sets and made the transforms 5-8x slower. Only the bins `0 ... N/2`
    /// are kept; the inverse rebuilds the others as their conjugates in its scratch.
    static func spectralForward(
        _ shape: Geometry, x: UnsafePointer<Float>, spectrum: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        y: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>, activation: Activation?
    ) {
        let length = spectralLength(shape), bins = length / 2 + 1, taps = shape.kernel
        let outputsPerBlock = length - taps + 1, blocks = spectralBlocks(shape)
        let channels = shape.inChannels, outChannels = shape.outChannels, outLength = shape.outLength
        let inPer = shape.inPerGroup, outPer = shape.outPerGroup, groups = shape.groups
        let pairs = outChannels * inPer
        let fft = LaneFFT.shared(length: length)
        // Signals: block `j` of sequence `b` is signal `b * blocks + j`. The spectra are bin-major, so that one bin of
        // every signal is contiguous for the products: input planes `[bins, signals, channels]` (real, imaginary),
        // then output planes `[bins, signals, outChannels]`.
        let signals = shape.batch * blocks
        let inputPlane = bins * signals * channels, outputPlane = bins * signals * outChannels
        let outputSpectra = workspace + 2 * inputPlane
        let run = spectralRun
        // Each signal's padded input, transformed 16 channels at a time in a contiguous scratch.
        let inputRuns = (channels + run - 1) / run
        let scratchSlots = workspace + 2 * (inputPlane + outputPlane)
        forEachItem(signals * inputRuns, length: length, scratch: scratchSlots) { item, scratch in
            let scratchImaginary = scratch + length * run
            let signal = item % signals, lane0 = (item / signals) * run, lanes = min(run, channels - lane0)
            let b = signal / blocks, block = signal % blocks
            let input = x + b * shape.inLength * channels
            let start = block * outputsPerBlock - shape.padding
            for n in 0..<length {
                let position = start + n, row = scratch + n * run
                if position >= 0 && position < shape.inLength {
                    row.update(from: input + position * channels + lane0, count: lanes)
                } else {
                    row.update(repeating: 0, count: lanes)
                }
            }
            scratchImaginary.update(repeating: 0, count: length * run)
            fft.forward(real: scratch, imaginary: scratchImaginary, lanes: lanes, stride: run)
            for f in 0..<bins {
                let real = workspace + (f * signals + signal) * channels + lane0
                real.update(from: scratch + f * run, count: lanes)
                (real + inputPlane).update(from: scratchImaginary + f * run, count: lanes)
            }
        }
        // Per bin and group: Y[o] = sum_c W[c][o] X[c] (complex), for every signal while the bin's weights are in
        // cache.
        Parallel.forChunks(bins) { range in
            for f in range {
                for g in 0..<groups {
                    let wr = spectrum + f * pairs + g * inPer * outPer
                    let wi = wr + bins * pairs
                    for signal in 0..<signals {
                        let xr = workspace + (f * signals + signal) * channels, xi = xr + inputPlane
                        let yr = outputSpectra + (f * signals + signal) * outChannels, yi = yr + outputPlane
                        spectralProduct(wr: wr, wi: wi, xr: xr + g * inPer, xi: xi + g * inPer,
                                        yr: yr + g * outPer, yi: yi + g * outPer, inPer: inPer, outPer: outPer)
                    }
                }
            }
        }
        // Inverse transforms, 16 channels at a time in the scratch (the upper bins the conjugates of the lower ones);
        // the real parts at positions K - 1 ..< N are the block's outputs.
        let outputRuns = (outChannels + run - 1) / run
        forEachItem(signals * outputRuns, length: length, scratch: scratchSlots) { item, scratch in
            let scratchImaginary = scratch + length * run
            let signal = item % signals, lane0 = (item / signals) * run, lanes = min(run, outChannels - lane0)
            let b = signal / blocks, block = signal % blocks
            let output = y + b * outLength * outChannels
            for f in 0..<bins {
                let real = outputSpectra + (f * signals + signal) * outChannels + lane0
                (scratch + f * run).update(from: real, count: lanes)
                (scratchImaginary + f * run).update(from: real + outputPlane, count: lanes)
            }
            for f in 1..<(length - bins + 1) {
                let source = f * run, mirror = (length - f) * run
                for lane in 0..<lanes {
                    scratch[mirror + lane] = scratch[source + lane]
                    scratchImaginary[mirror + lane] = -scratchImaginary[source + lane]
                }
            }
            fft.inverse(real: scratch, imaginary: scratchImaginary, lanes: lanes, stride: run)
            for n in (taps - 1)..<length {
                let t = block * outputsPerBlock + n - (taps - 1)
                guard t < outLength else { break }
                let source = scratch + n * run, target = output + t * outChannels + lane0
                if let bias {
                    for lane in 0..<lanes { target[lane] = source[lane] + bias[lane0 + lane] }
                } else {
                    target.update(from: source, count: lanes)
                }
            }
        }
        if let activation { activation.forward(y, y, count: shape.batch * outLength * outChannels) }
    }

    /// Runs `body` for items `0..<count` on the kernel threads, each thread with its own transform scratch (slot s of
    /// `scratch`, `2 * length * spectralRun` floats) and items s, s + slots, ...
    private static func forEachItem(
        _ count: Int, length: Int, scratch: UnsafeMutablePointer<Float>,
        _ body: (_ item: Int, _ scratch: UnsafeMutablePointer<Float>) -> Void
    ) {
        let slots = min(KernelThreads.count, count)
        Parallel.forChunks(slots) { slotRange in
            for slot in slotRange {
                for item in stride(from: slot, to: count, by: slots) { body(item, scratch + slot * 2 * length * spectralRun) }
            }
        }
    }

    /// `y[o] = sum_c w[c, o] x[c]` over complex numbers in split planes, `w` row-major `[inPer, outPer]`.
    @inline(__always)
    static func spectralProduct(
        wr: UnsafePointer<Float>, wi: UnsafePointer<Float>, xr: UnsafePointer<Float>, xi: UnsafePointer<Float>,
        yr: UnsafeMutablePointer<Float>, yi: UnsafeMutablePointer<Float>, inPer: Int, outPer: Int
    ) {
        var o = 0
        while o + 16 <= outPer {
            // Four independent sums (one multiply-add each per input channel), so that the loop runs at the FMA
            // units' throughput rather than waiting on two dependent multiply-adds a step (2.5x slower).
            var realReal = SIMD16<Float>(), imaginaryImaginary = SIMD16<Float>()
            var realImaginary = SIMD16<Float>(), imaginaryReal = SIMD16<Float>()
            for c in 0..<inPer {
                let rowR = UnsafeRawPointer(wr + c * outPer + o).loadUnaligned(as: SIMD16<Float>.self)
                let rowI = UnsafeRawPointer(wi + c * outPer + o).loadUnaligned(as: SIMD16<Float>.self)
                let vr = SIMD16<Float>(repeating: xr[c]), vi = SIMD16<Float>(repeating: xi[c])
                realReal.addProduct(rowR, vr)
                imaginaryImaginary.addProduct(rowI, vi)
                realImaginary.addProduct(rowR, vi)
                imaginaryReal.addProduct(rowI, vr)
            }
            UnsafeMutableRawPointer(yr + o).storeBytes(of: realReal - imaginaryImaginary, as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(yi + o).storeBytes(of: realImaginary + imaginaryReal, as: SIMD16<Float>.self)
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

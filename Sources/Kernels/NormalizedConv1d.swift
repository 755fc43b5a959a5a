/// A convolution followed by a group normalisation over time (HuBERT's first layer: 1 -> 512 channels, 10 taps,
/// stride 5, then a norm per channel over each sequence's valid frames), as one pass that writes the output once.
///
/// The norm's statistics need not be read back from the convolution's output: with `p_t` the input patch of frame
/// `t` (`kernel * inChannels` values, tap-major), `m` the patches' mean over the valid frames and `S` their
/// covariance, output channel `o` (`y = w_o . p_t + b_o`) has mean `w_o . m + b_o` and variance `w_o^T S w_o`. A
/// group's mean and variance follow from its channels' (`mean_g = avg mu_o`, `var_g = avg (var_o + (mu_o -
/// mean_g)^2)`). So each sequence's moments are taken from its input (2 x 12,799 patches of 10 values for 4 s: a
/// hundredth of the convolution's work), the norm folds into the weight and bias (`w'_o = s_o w_o`, `b'_o = (b_o -
/// mean_g) s_o + beta_o`, `s_o = gamma_o / sqrt(var_g + eps)`) and the convolution writes the normalised values,
/// with the activation applied to each frame while it is in L1. Unfused, the norm read the convolution's output
/// (26 MB a sequence of 4 s) three times and wrote it again.
///
/// The moments are summed in Float64 over fixed blocks of frames (the same blocks whatever the thread count, so the
/// same bits), centred in a second pass: the statistics are those of `GroupNorm` up to the rounding of its Float32
/// sums. Frames at or past a sequence's length are written as 0, as `GroupNorm` writes them.
public enum NormalizedConv1d {
    /// The largest patch (`kernel * inChannels`) the fused kernel takes: the covariance has `patch^2` entries and the
    /// convolution runs as `Conv1d`'s direct loop.
    public static let maximumPatch = 32

    /// Frames are summed in this many blocks (fixed, so that results do not depend on the thread count).
    static let momentBlocks = 16

    /// Whether the fused kernel takes this convolution: one group and small patches.
    public static func applies(_ shape: Conv1d.Geometry) -> Bool {
        shape.isValid && shape.groups == 1 && shape.patchSize <= maximumPatch
    }

    /// Floats of workspace `forward` needs: one sequence's convolution workspace, the scaled weight and bias, and
    /// the Float64 moments (partial sums per block, then the mean and covariance).
    public static func workspaceCount(_ shape: Conv1d.Geometry) -> Int {
        var single = shape
        single.batch = 1
        let patch = shape.patchSize
        let doubles = momentBlocks * (patch + patch * patch) + patch + patch * patch + 2 * shape.outChannels + patch
        return single.workspaceCount + shape.outChannels * (patch + 1) + 2 * doubles + 2
    }

    /// `y = activation(group_norm(conv(x, weight) + bias))` for `applies` geometries. `gamma` and `beta` are the
    /// norm's per-channel scale and shift (`[outChannels]`), `lengths` the valid output frames per sequence (nil:
    /// all), `groups` the norm's groups (dividing `outChannels`).
    public static func forward(
        _ shape: Conv1d.Geometry, x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, lengths: UnsafePointer<Int32>?, groups: Int, eps: Float,
        y: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>, activation: Activation? = nil
    ) {
        guard applies(shape), groups > 0, shape.outChannels % groups == 0, shape.batch > 0, shape.outLength > 0 else { return }
        var single = shape
        single.batch = 1
        let patch = shape.patchSize, outChannels = shape.outChannels, outLength = shape.outLength
        let scaledWeight = workspace + single.workspaceCount, scaledBias = scaledWeight + outChannels * patch
        let raw = UnsafeMutableRawPointer(scaledBias + outChannels).alignedUp(for: Double.self)
        let moments = raw.assumingMemoryBound(to: Double.self)  // the arena's raw storage, viewed as the tensors view it
        let partials = moments, mean = partials + momentBlocks * (patch + patch * patch)
        let covariance = mean + patch, channelMean = covariance + patch * patch, channelVariance = channelMean + outChannels
        let tapMajor = channelVariance + outChannels

        for b in 0..<shape.batch {
            let input = x + b * shape.inLength * shape.inChannels, output = y + b * outLength * outChannels
            let valid = Lengths.valid(lengths, b, frames: outLength)
            guard valid > 0 else {
                output.update(repeating: 0, count: outLength * outChannels)
                continue
            }
            patchMoments(single, input: input, frames: valid, partials: partials, mean: mean, covariance: covariance)

            // Each channel's mean and variance over the valid frames, in the weight's own layout ([out, in, kernel];
            // the patch is tap-major: element k * inChannels + c).
            let taps = shape.kernel, channels = shape.inChannels
            for o in 0..<outChannels {
                let w = weight + o * patch
                for k in 0..<taps {
                    for c in 0..<channels { tapMajor[k * channels + c] = Double(w[c * taps + k]) }
                }
                var mu = bias.map { Double($0[o]) } ?? 0, variance = 0.0
                for j in 0..<patch {
                    mu += tapMajor[j] * mean[j]
                    var row = 0.0
                    for l in 0..<patch { row += covariance[j * patch + l] * tapMajor[l] }
                    variance += tapMajor[j] * row
                }
                channelMean[o] = mu
                channelVariance[o] = max(0, variance)
            }
            // Per group, then the folded weight and bias.
            let perGroup = outChannels / groups
            for g in 0..<groups {
                let members = g * perGroup..<(g + 1) * perGroup
                var total = 0.0
                for o in members { total += channelMean[o] }
                let groupMean = total / Double(perGroup)
                var spread = 0.0
                for o in members {
                    let offset = channelMean[o] - groupMean
                    spread += channelVariance[o] + offset * offset
                }
                let groupVariance = spread / Double(perGroup)
                let rstd = 1 / (groupVariance + Double(eps)).squareRoot()
                for o in members {
                    let scale = rstd * Double(gamma[o])
                    let w = weight + o * patch, target = scaledWeight + o * patch
                    for j in 0..<patch { target[j] = Float(scale * Double(w[j])) }
                    let shift = (bias.map { Double($0[o]) } ?? 0) - groupMean
                    scaledBias[o] = Float(shift * scale + Double(beta[o]))
                }
            }
            Conv1d.forward(single, x: input, weight: scaledWeight, bias: scaledBias, y: output, workspace: workspace,
                           activation: activation)
            if valid < outLength {
                (output + valid * outChannels).update(repeating: 0, count: (outLength - valid) * outChannels)
            }
        }
    }

    /// The mean and covariance (`[patch, patch]`, biased) of the patches of frames `0..<frames` of one sequence, in
    /// Float64: sums per fixed block of frames, added in block order; the covariance from the centred patches.
    static func patchMoments(
        _ shape: Conv1d.Geometry, input: UnsafePointer<Float>, frames: Int, partials: UnsafeMutablePointer<Double>,
        mean: UnsafeMutablePointer<Double>, covariance: UnsafeMutablePointer<Double>
    ) {
        let patch = shape.patchSize, stride = patch + patch * patch
        let blocks = min(momentBlocks, frames), perBlock = (frames + blocks - 1) / blocks
        /// Patch `t` into `values` (zero outside the input, as the convolution's padding).
        func gather(_ t: Int, into values: UnsafeMutablePointer<Double>) {
            let first = t * shape.stride - shape.padding, channels = shape.inChannels
            if first >= 0 && first + shape.kernel <= shape.inLength {
                // Inside the input: the patch is a contiguous slice (channels last, tap-major).
                let source = input + first * channels
                for j in 0..<patch { values[j] = Double(source[j]) }
                return
            }
            for k in 0..<shape.kernel {
                let position = first + k, inside = position >= 0 && position < shape.inLength
                for c in 0..<channels { values[k * channels + c] = inside ? Double(input[position * channels + c]) : 0 }
            }
        }
        func forEachBlock(_ body: (_ block: Int, _ frames: Range<Int>, _ values: UnsafeMutablePointer<Double>) -> Void) {
            Parallel.forChunks(blocks) { range in
                withUnsafeTemporaryAllocation(of: Double.self, capacity: maximumPatch) { buffer in
                    guard let values = buffer.baseAddress else { return }
                    for block in range {
                        body(block, min(frames, block * perBlock)..<min(frames, (block + 1) * perBlock), values)
                    }
                }
            }
        }
        forEachBlock { block, frames, values in
            let sums = partials + block * stride
            sums.update(repeating: 0, count: patch)
            for t in frames {
                gather(t, into: values)
                for j in 0..<patch { sums[j] += values[j] }
            }
        }
        for j in 0..<patch {
            var total = 0.0
            for block in 0..<blocks { total += partials[block * stride + j] }
            mean[j] = total / Double(frames)
        }
        forEachBlock { block, frames, values in
            let products = partials + block * stride + patch
            products.update(repeating: 0, count: patch * patch)
            for t in frames {
                gather(t, into: values)
                for j in 0..<patch { values[j] -= mean[j] }
                for j in 0..<patch {
                    let vj = values[j], row = products + j * patch
                    for l in j..<patch { row[l] += vj * values[l] }
                }
            }
        }
        for j in 0..<patch {
            for l in j..<patch {
                var total = 0.0
                for block in 0..<blocks { total += partials[block * stride + patch + j * patch + l] }
                covariance[j * patch + l] = total / Double(frames)
                covariance[l * patch + j] = covariance[j * patch + l]
            }
        }
    }
}

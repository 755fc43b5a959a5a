/// Group normalisation over time for channels-last sequences `[batch, frames, channels]`, with statistics over
/// each sequence's valid frames only.
///
/// Channels are split into `groups` contiguous groups; each (sequence, group) is normalised by the mean and
/// biased variance of its values over frames `t < lengths[b]`, then scaled and shifted per channel. Frames at or
/// beyond a sequence's length are written as 0, so that padding never changes a valid frame's result — unlike
/// PyTorch's GroupNorm over a padded batch. HuBERT's first conv layer uses `groups == channels` (a per-channel
/// norm over time). Lengths are clamped into `0...frames`; `lengths == nil` means every frame is valid.
public enum GroupNorm {
    /// Floats of workspace the kernels need: three per channel.
    public static func workspaceCount(channels: Int) -> Int { 3 * channels }

    /// Saves `mean[batch * groups]` and `rstd[batch * groups]` for the backward pass. `y` may be `x`.
    public static func forward(
        x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, lengths: UnsafePointer<Int32>?,
        y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
        workspace: UnsafeMutablePointer<Float>, batch: Int, frames: Int, channels: Int, groups: Int, eps: Float,
        activation: Activation? = nil
    ) {
        guard channels > 0, groups > 0, channels % groups == 0 else { return }
        let perGroup = channels / groups
        // Per channel: the group mean broadcast to the channel, then rstd * gamma.
        let channelMean = workspace, channelScale = workspace + channels
        for b in 0..<batch {
            let valid = Lengths.valid(lengths, b, frames: frames)
            let input = x + b * frames * channels, output = y + b * frames * channels
            let count = Float(valid * perGroup)
            let groupMean = mean + b * groups, groupRstd = rstd + b * groups
            Parallel.forChunks(groups, grain: max(1, 16 / perGroup)) { range in
                let columns = range.lowerBound * perGroup..<range.upperBound * perGroup
                ColumnSums.sum(input, input, rows: valid, rowStride: channels, columns: columns, into: channelMean,
                               vector: { v, _, _ in v }, value: { v, _, _ in v })
                for g in range {
                    let mu = valid > 0 ? groupTotal(channelMean, g, perGroup) / count : 0
                    groupMean[g] = mu
                    for c in g * perGroup..<(g + 1) * perGroup { channelMean[c] = mu }
                }
                ColumnSums.sum(input, input, rows: valid, rowStride: channels, columns: columns, into: channelScale,
                               vector: { v, _, c in
                                   let d = v - UnsafeRawPointer(channelMean).loadUnaligned(fromByteOffset: c * 4, as: SIMD16<Float>.self)
                                   return d * d
                               },
                               value: { v, _, c in let d = v - channelMean[c]; return d * d })
                for g in range {
                    let inverse = valid > 0 ? 1 / (groupTotal(channelScale, g, perGroup) / count + eps).squareRoot() : 0
                    groupRstd[g] = inverse
                    for c in g * perGroup..<(g + 1) * perGroup { channelScale[c] = inverse * gamma[c] }
                }
            }
            Parallel.forChunks(frames, grain: max(1, 16_384 / channels)) { range in
                for t in range {
                    let row = input + t * channels, out = output + t * channels
                    if t < valid {
                        // An activation fused by the compiler runs in this pass (GELU inline, so the loop vectorises).
                        // In place (the memory plan writes over a dead input) the loops read and write one pointer:
                        // with two that may alias, the compiler's vector loop checks for overlap and an exact alias
                        // takes its scalar fallback (5x slower with GELU).
                        if UnsafePointer(out) == row {
                            switch activation {
                            case .gelu?:
                                for c in 0..<channels { out[c] = FastMath.gelu((out[c] - channelMean[c]) * channelScale[c] + beta[c]) }
                            case let other?:
                                for c in 0..<channels { out[c] = (out[c] - channelMean[c]) * channelScale[c] + beta[c] }
                                other.forward(out, out, count: channels)
                            case nil:
                                for c in 0..<channels { out[c] = (out[c] - channelMean[c]) * channelScale[c] + beta[c] }
                            }
                            continue
                        }
                        switch activation {
                        case .gelu?:
                            for c in 0..<channels { out[c] = FastMath.gelu((row[c] - channelMean[c]) * channelScale[c] + beta[c]) }
                        case let other?:
                            for c in 0..<channels { out[c] = (row[c] - channelMean[c]) * channelScale[c] + beta[c] }
                            other.forward(out, out, count: channels)
                        case nil:
                            for c in 0..<channels { out[c] = (row[c] - channelMean[c]) * channelScale[c] + beta[c] }
                        }
                    } else {
                        for c in 0..<channels { out[c] = 0 }
                    }
                }
            }
        }
    }

    /// Gradients from the saved statistics; padded frames get `dx = 0` and add nothing to `dGamma`/`dBeta`
    /// (added to the buffers with `accumulate`). With `g = gamma * dy` and `n` values per group,
    /// `dx = rstd * (g - mean_n(g) - xhat * mean_n(g * xhat))`, which per channel is `k1 * dy + kx * x + k0`.
    /// `dx` may be `dy`.
    public static func backward(
        x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, lengths: UnsafePointer<Int32>?, dy: UnsafePointer<Float>,
        mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>?, dGamma: UnsafeMutablePointer<Float>?, dBeta: UnsafeMutablePointer<Float>?,
        workspace: UnsafeMutablePointer<Float>, batch: Int, frames: Int, channels: Int, groups: Int,
        accumulate: Bool = false
    ) {
        guard channels > 0, groups > 0, channels % groups == 0 else { return }
        let perGroup = channels / groups
        let sumDy = workspace, sumDyXhat = workspace + channels, k0 = workspace + 2 * channels
        if !accumulate {
            dGamma?.update(repeating: 0, count: channels)
            dBeta?.update(repeating: 0, count: channels)
        }
        for b in 0..<batch {
            let valid = Lengths.valid(lengths, b, frames: frames)
            let input = x + b * frames * channels, gradient = dy + b * frames * channels
            let groupMean = mean + b * groups, groupRstd = rstd + b * groups
            let count = Float(valid * perGroup)
            Parallel.forChunks(groups, grain: max(1, 16 / perGroup)) { range in
                let columns = range.lowerBound * perGroup..<range.upperBound * perGroup
                for c in columns { k0[c] = groupMean[c / perGroup] }
                ColumnSums.sum(gradient, gradient, rows: valid, rowStride: channels, columns: columns, into: sumDy,
                               vector: { g, _, _ in g }, value: { g, _, _ in g })
                ColumnSums.sum(gradient, input, rows: valid, rowStride: channels, columns: columns, into: sumDyXhat,
                               vector: { g, v, c in
                                   g * (v - UnsafeRawPointer(k0).loadUnaligned(fromByteOffset: c * 4, as: SIMD16<Float>.self))
                               },
                               value: { g, v, c in g * (v - k0[c]) })
                for g in range {
                    let inverse = groupRstd[g]
                    var a: Float = 0, bSum: Float = 0
                    for c in g * perGroup..<(g + 1) * perGroup {
                        sumDyXhat[c] *= inverse
                        dGamma?[c] += sumDyXhat[c]
                        dBeta?[c] += sumDy[c]
                        a += gamma[c] * sumDy[c]
                        bSum += gamma[c] * sumDyXhat[c]
                    }
                    let meanA = count > 0 ? a / count : 0, meanB = count > 0 ? bSum / count : 0
                    // Reuse the sums' storage for the per-channel coefficients k1 (in sumDy), kx (in sumDyXhat), k0.
                    let mu = groupMean[g]
                    for c in g * perGroup..<(g + 1) * perGroup {
                        sumDy[c] = inverse * gamma[c]
                        sumDyXhat[c] = -inverse * inverse * meanB
                        k0[c] = -inverse * meanA + inverse * inverse * meanB * mu
                    }
                }
            }
            guard let dx else { continue }
            let output = dx + b * frames * channels
            Parallel.forChunks(frames, grain: max(1, 16_384 / channels)) { range in
                for t in range {
                    let out = output + t * channels
                    if t < valid {
                        let row = input + t * channels, grad = gradient + t * channels
                        for c in 0..<channels { out[c] = sumDy[c] * grad[c] + sumDyXhat[c] * row[c] + k0[c] }
                    } else {
                        for c in 0..<channels { out[c] = 0 }
                    }
                }
            }
        }
    }

    @inline(__always)
    static func groupTotal(_ values: UnsafeMutablePointer<Float>, _ group: Int, _ perGroup: Int) -> Float {
        var total: Float = 0
        for c in group * perGroup..<(group + 1) * perGroup { total += values[c] }
        return total
    }
}

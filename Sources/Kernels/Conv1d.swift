import CBLAS
import Dispatch
/// 1-D convolution over channels-last sequences, as PyTorch's `Conv1d` with stride, zero padding and groups.
///
/// Layouts: input `x: [batch, inLength, inChannels]`, output `y: [batch, outLength, outChannels]` (channels last,
/// as the transformer downstream wants them), weight in PyTorch's layout `[outChannels, inChannels / groups,
/// kernel]` (as checkpoints store it), bias `[outChannels]`.
///
/// The product is GEMM: with the weight repacked tap-major into the workspace (`[out, kernel, in / groups]`), each
/// output frame is one row of patches times the packed weight. When there is no padding and one group, a patch of
/// `s` consecutive taps is a contiguous slice of the input, so the input itself is the patch matrix (row stride
/// `stride * inChannels`) and the convolution is `ceil(kernel / stride)` GEMMs with no copy at all — the case of
/// every layer of HuBERT's feature encoder (on the packed engine, one GEMM over all taps: overlapping rows). With
/// padding or groups, the packed engine's forward copies each sequence once group-major with its padding, and each
/// group's patches are overlapping rows of that copy (`regroupedForward`). Otherwise patches are gathered into the workspace (im2col), one
/// sequence and block of taps at a time, and one group at a time or, with several threads, up to 8 groups side by
/// side (each GEMM on one OpenBLAS thread): a block is sized to stay in cache (about 512 KiB), and the blocks'
/// GEMMs accumulate into the output. For the positional conv (48 channels a group, 128 taps, 200 frames) a whole
/// patch matrix would be 4.9 MB a group, written and read back from memory. When the patches are tiny (HuBERT's
/// first layer: 1 channel, 10 taps) the forward pass is a direct vectorised loop instead, since a GEMM with an
/// inner dimension of 10 mostly waits on its output writes.
public enum Conv1d {
    /// Sizes of one convolution.
    public struct Geometry: Sendable, Hashable {
        public var batch: Int
        public var inChannels: Int
        public var outChannels: Int
        public var inLength: Int
        public var kernel: Int
        public var stride: Int
        public var padding: Int
        public var groups: Int

        public init(batch: Int, inChannels: Int, outChannels: Int, inLength: Int, kernel: Int, stride: Int = 1,
                    padding: Int = 0, groups: Int = 1) {
            self.batch = batch
            self.inChannels = inChannels
            self.outChannels = outChannels
            self.inLength = inLength
            self.kernel = kernel
            self.stride = stride
            self.padding = padding
            self.groups = groups
        }

        /// `floor((inLength + 2 padding - kernel) / stride) + 1`, or 0 when the input is shorter than the kernel.
        public var outLength: Int {
            let span = inLength + 2 * padding - kernel
            return span < 0 ? 0 : span / stride + 1
        }

        public var inPerGroup: Int { inChannels / groups }
        public var outPerGroup: Int { outChannels / groups }
        /// The GEMM's inner dimension: taps times input channels of a group.
        public var patchSize: Int { kernel * inPerGroup }

        /// Whether the sizes are consistent (positive, divisible by groups); the kernels do nothing otherwise.
        public var isValid: Bool {
            batch >= 0 && inChannels > 0 && outChannels > 0 && inLength >= 0 && kernel > 0 && stride > 0
                && padding >= 0 && groups > 0 && inChannels % groups == 0 && outChannels % groups == 0
        }

        /// Whether the input serves as its own patch matrix (no padding, one group, wide enough rows).
        public var readsInputInPlace: Bool { groups == 1 && padding == 0 && inChannels >= 16 }

        /// Whether the forward pass runs as a direct loop: one group and patches of at most 32 values.
        public var usesDirectForward: Bool { groups == 1 && patchSize <= 32 }

        /// Taps gathered at a time on the im2col path: as many as keep a block of patches near 512 KiB.
        public var tapsPerBlock: Int {
            max(1, min(kernel, 131_072 / max(1, outLength * inPerGroup)))
        }

        /// Floats of workspace `forward` and `backward` need: the packed weight, its gradient (or, in the direct
        /// forward, its transpose), and a block of patches when the input cannot serve as the patch matrix.
        public var workspaceCount: Int {
            let packed = outChannels * patchSize
            let patches = groupSlots * outLength * tapsPerBlock * inPerGroup
            return 2 * packed
                + (readsInputInPlace ? Conv1d.winogradCount(self)
                    : max(patches, regroupedCount, Conv1d.spectralWorkspaceCount(self)))
        }

        /// Floats of one sequence regrouped group-major with its padding (`[groups, inLength + 2 padding,
        /// inPerGroup]`): each group's patches are then overlapping rows of it.
        public var regroupedCount: Int { (inLength + 2 * padding) * inChannels }

        /// Groups gathered and multiplied at once on the im2col path (one block of patches each): grouped
        /// convolutions run their groups' small GEMMs side by side instead of splitting each one across threads.
        public var groupSlots: Int { min(groups, 8) }

        /// Multiply-adds of the forward pass, counted as two operations.
        public var flops: Double {
            Gemm.flops(m: batch * outLength, n: outChannels, k: patchSize)
        }
    }

    /// `y = conv(x, weight) + bias`, then `activation` when given: in the GEMM's epilogue when the convolution is
    /// one product (the packed engine's in-place path), on each frame in the direct loop, else as a pass over `y`
    /// afterwards. `packedWeight`, when
    /// given, is `packWeight`'s result for this weight (a caller that keeps it across calls saves a pass over the
    /// weight; the direct forward ignores it). `spectralWeight`, when given for a `usesSpectral` geometry, is
    /// `spectralWeight`'s result for this weight, and the convolution runs through FFTs (`Conv1d+Spectral.swift`).
    public static func forward(
        _ geometry: Geometry, x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        y: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>, activation: Activation? = nil,
        packedWeight: UnsafePointer<Float>? = nil, spectralWeight: UnsafePointer<Float>? = nil
    ) {
        if let spectralWeight, usesSpectral(geometry) {
            if geometry.batch > 0 && geometry.outLength > 0 {
                spectralForward(geometry, x: x, spectrum: spectralWeight, bias: bias, y: y, workspace: workspace,
                                activation: activation)
            }
            return
        }
        let applied = product(geometry, x: x, weight: weight, bias: bias, y: y, workspace: workspace, activation: activation,
                              packedWeight: packedWeight)
        if let activation, !applied, geometry.isValid {
            activation.forward(y, y, count: geometry.batch * geometry.outLength * geometry.outChannels)
        }
    }

    /// The convolution; returns whether it applied `activation` in its epilogue.
    static func product(
        _ geometry: Geometry, x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        y: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>, activation: Activation?,
        packedWeight: UnsafePointer<Float>?
    ) -> Bool {
        let shape = geometry
        guard shape.isValid else { return false }
        let outLength = shape.outLength, outChannels = shape.outChannels
        guard shape.batch > 0, outLength > 0 else { return false }
        let ownPacking = packedWeight == nil || shape.usesDirectForward
        if ownPacking { packWeight(shape, weight: weight, into: workspace) }
        let packed: UnsafePointer<Float> = ownPacking ? UnsafePointer(workspace) : packedWeight!
        if shape.usesDirectForward {
            directForward(shape, x: x, packed: workspace, bias: bias, y: y, activation: activation)
            return true
        }
        let outputRows = shape.batch * outLength
        if let bias {
            for row in 0..<outputRows { (y + row * outChannels).update(from: bias, count: outChannels) }
        }
        let biasBeta: Float = bias == nil ? 0 : 1
        let inSequence = shape.inLength * shape.inChannels, outSequence = outLength * outChannels
        if Conv1d.usesWinograd(shape) {
            winogradForward(shape, x: x, packed: packed, biasBeta: biasBeta, y: y,
                            workspace: workspace + outChannels * shape.patchSize, activation: activation)
            return true
        }
        if shape.readsInputInPlace {
            let rowStride = shape.stride * shape.inChannels
            // The packed GEMM reads overlapping rows (leading dimension below k): all taps in one product, at any
            // height (10-25 % faster than OpenBLAS's chunk per `stride` taps on HuBERT's feature encoder).
            let onPackedEngine = Gemm.engine == .packed
            let allTaps = onPackedEngine ? shape.kernel : nil
            for b in 0..<shape.batch {
                forEachTapChunk(shape, maxTaps: allTaps) { firstTap, taps, isFirst in
                    Gemm.multiply(
                        transB: true, m: outLength, n: outChannels, k: taps * shape.inChannels,
                        a: x + b * inSequence + firstTap * shape.inChannels, lda: rowStride,
                        b: packed + firstTap * shape.inChannels, ldb: shape.patchSize,
                        beta: isFirst ? biasBeta : 1, c: y + b * outSequence, ldc: outChannels,
                        epilogue: Gemm.Epilogue(activation: onPackedEngine ? activation : nil))
                }
            }
            return onPackedEngine
        }
        if Gemm.engine == .packed {
            regroupedForward(shape, x: x, packed: packed, biasBeta: biasBeta, y: y,
                             regrouped: workspace + 2 * outChannels * shape.patchSize, activation: activation)
            return true
        }
        let patches = workspace + 2 * outChannels * shape.patchSize
        let block = outLength * shape.tapsPerBlock * shape.inPerGroup
        let slots = min(shape.groupSlots, KernelThreads.count)
        func run(group g: Int, batch b: Int, patches: UnsafeMutablePointer<Float>, serial: Bool) {
            forEachTapBlock(shape) { taps in
                let width = taps.count * shape.inPerGroup, offset = taps.lowerBound * shape.inPerGroup
                gatherPatches(shape, x: x + b * inSequence, group: g, taps: taps, into: patches, serial: serial)
                Gemm.multiply(
                    transB: true, m: outLength, n: shape.outPerGroup, k: width,
                    a: patches, lda: width,
                    b: packed + g * shape.outPerGroup * shape.patchSize + offset, ldb: shape.patchSize,
                    beta: taps.lowerBound == 0 ? biasBeta : 1, c: y + b * outSequence + g * shape.outPerGroup,
                    ldc: outChannels, threads: serial ? 1 : nil)
            }
        }
        guard slots >= 2 else {
            for b in 0..<shape.batch { for g in 0..<shape.groups { run(group: g, batch: b, patches: patches, serial: false) } }
            return false
        }
        // Groups side by side, each GEMM on one thread; every output column belongs to one group, so the
        // result is the same as one group at a time.
        groupsSideBySide(shape, slots: slots) { g, b, slot in run(group: g, batch: b, patches: patches + slot * block, serial: true) }
        return false
    }

    /// The forward pass of a padded or grouped convolution on the packed engine: each sequence is copied once,
    /// group-major with its zero padding (`[groups, inLength + 2 padding, inPerGroup]`), so that frame t's patch
    /// in group g is the contiguous run of `kernel * inPerGroup` values from row `t * stride` of group g: the
    /// patch matrix is that block read in place with overlapping rows (leading dimension `stride * inPerGroup`,
    /// below k), and each group is one product over all its taps, the groups side by side on the kernel threads
    /// (the activation in the epilogue). HuBERT's positional conv (16 groups of 48 channels, 128 taps, padding 64)
    /// copies 1 MB a sequence instead of gathering 78 MB of patches.
    static func regroupedForward(
        _ shape: Geometry, x: UnsafePointer<Float>, packed: UnsafePointer<Float>, biasBeta: Float,
        y: UnsafeMutablePointer<Float>, regrouped: UnsafeMutablePointer<Float>, activation: Activation?
    ) {
        let padded = shape.inLength + 2 * shape.padding, perGroup = shape.inPerGroup
        let inSequence = shape.inLength * shape.inChannels, outSequence = shape.outLength * shape.outChannels
        for b in 0..<shape.batch {
            regroup(shape, x + b * inSequence, into: regrouped)
            Parallel.forChunks(shape.groups) { groups in
                for g in groups {
                    Gemm.multiply(
                        transB: true, m: shape.outLength, n: shape.outPerGroup, k: shape.patchSize,
                        a: regrouped + g * padded * perGroup, lda: shape.stride * perGroup,
                        b: packed + g * shape.outPerGroup * shape.patchSize, ldb: shape.patchSize,
                        beta: biasBeta, c: y + b * outSequence + g * shape.outPerGroup, ldc: shape.outChannels,
                        epilogue: Gemm.Epilogue(activation: activation), threads: 1)
                }
            }
        }
    }

    /// One sequence `[inLength, inChannels]` copied group-major with its zero padding: `[groups, inLength + 2
    /// padding, inPerGroup]`.
    static func regroup(_ shape: Geometry, _ input: UnsafePointer<Float>, into regrouped: UnsafeMutablePointer<Float>) {
        let padded = shape.inLength + 2 * shape.padding, perGroup = shape.inPerGroup
        Parallel.forChunks(shape.groups) { groups in
            for g in groups {
                let target = regrouped + g * padded * perGroup
                for p in 0..<padded {
                    let row = target + p * perGroup, position = p - shape.padding
                    if position >= 0 && position < shape.inLength {
                        let source = input + position * shape.inChannels + g * perGroup
                        for c in 0..<perGroup { row[c] = source[c] }
                    } else {
                        for c in 0..<perGroup { row[c] = 0 }
                    }
                }
            }
        }
    }

    /// Gradients of `forward`. `dx` is overwritten; `dWeight` and `dBias` are overwritten, or added to with
    /// `accumulate`. Any of the three may be nil.
    public static func backward(
        _ geometry: Geometry, x: UnsafePointer<Float>, weight: UnsafePointer<Float>, dy: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>?, dBias: UnsafeMutablePointer<Float>?,
        workspace: UnsafeMutablePointer<Float>, accumulate: Bool = false
    ) {
        let shape = geometry
        guard shape.isValid else { return }
        let outLength = shape.outLength, outChannels = shape.outChannels
        let inSequence = shape.inLength * shape.inChannels, outSequence = outLength * outChannels
        if let dx { dx.update(repeating: 0, count: shape.batch * inSequence) }
        if let dBias {
            Reduce.sumRows(dy, rows: shape.batch * outLength, columns: outChannels, into: dBias, accumulate: accumulate)
        }
        if let dWeight, !accumulate { dWeight.update(repeating: 0, count: outChannels * shape.patchSize) }
        guard shape.batch > 0, outLength > 0 else { return }
        let packed = workspace, packedGradient = workspace + outChannels * shape.patchSize
        packWeight(shape, weight: weight, into: packed)
        packedGradient.update(repeating: 0, count: outChannels * shape.patchSize)

        if shape.readsInputInPlace {
            let rowStride = shape.stride * shape.inChannels
            for b in 0..<shape.batch {
                forEachTapChunk(shape) { firstTap, taps, _ in
                    let offset = firstTap * shape.inChannels, width = taps * shape.inChannels
                    if dWeight != nil {
                        // dW[:, chunk] += dy^T (outChannels x outLength) * patches (outLength x width)
                        Gemm.multiply(
                            transA: true, m: outChannels, n: width, k: outLength,
                            a: dy + b * outSequence, lda: outChannels,
                            b: x + b * inSequence + offset, ldb: rowStride,
                            beta: 1, c: packedGradient + offset, ldc: shape.patchSize)
                    }
                    if let dx {
                        // The chunk's patches of different frames do not overlap (taps <= stride), so the product
                        // can be added straight into dx through the same strided view.
                        Gemm.multiply(
                            m: outLength, n: width, k: outChannels,
                            a: dy + b * outSequence, lda: outChannels,
                            b: packed + offset, ldb: shape.patchSize,
                            beta: 1, c: dx + b * inSequence + offset, ldc: rowStride)
                    }
                }
            }
        } else {
            let patches = workspace + 2 * outChannels * shape.patchSize
            let groupWeights = shape.outPerGroup * shape.patchSize
            let block = outLength * shape.tapsPerBlock * shape.inPerGroup
            let slots = min(shape.groupSlots, KernelThreads.count)
            func run(group g: Int, batch b: Int, patches: UnsafeMutablePointer<Float>, serial: Bool) {
                let gradient = dy + b * outSequence + g * shape.outPerGroup
                let threads: Int? = serial ? 1 : nil
                forEachTapBlock(shape) { taps in
                    let width = taps.count * shape.inPerGroup, offset = taps.lowerBound * shape.inPerGroup
                    if dWeight != nil {
                        gatherPatches(shape, x: x + b * inSequence, group: g, taps: taps, into: patches, serial: serial)
                        Gemm.multiply(
                            transA: true, m: shape.outPerGroup, n: width, k: outLength,
                            a: gradient, lda: outChannels, b: patches, ldb: width,
                            beta: 1, c: packedGradient + g * groupWeights + offset, ldc: shape.patchSize, threads: threads)
                    }
                    if let dx {
                        Gemm.multiply(
                            m: outLength, n: width, k: shape.outPerGroup,
                            a: gradient, lda: outChannels, b: packed + g * groupWeights + offset, ldb: shape.patchSize,
                            c: patches, ldc: width, threads: threads)
                        scatterPatches(shape, patches, group: g, taps: taps, into: dx + b * inSequence, serial: serial)
                    }
                }
            }
            if slots < 2 {
                for b in 0..<shape.batch { for g in 0..<shape.groups { run(group: g, batch: b, patches: patches, serial: false) } }
            } else {
                // Groups side by side as in the forward pass: each group's gradients are its own columns of dx
                // and its own rows of the weight gradient, so the result is the same as one group at a time.
                groupsSideBySide(shape, slots: slots) { g, b, slot in
                    run(group: g, batch: b, patches: patches + slot * block, serial: true)
                }
            }
        }
        if let dWeight { unpackAdding(shape, packedGradient, into: dWeight) }
    }

    // MARK: - Direct forward

    /// `y[b, t, :] (+)= sum over (k, c) of x[b, t * stride + k - padding, c] * weight[:, c, k]`, 64 output channels
    /// at a time in vector registers, parallel over frames. Reads the packed weight transposed (`[patch, out]`),
    /// which it builds in the second packed slot of the workspace.
    static func directForward(
        _ shape: Geometry, x: UnsafePointer<Float>, packed: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?,
        y: UnsafeMutablePointer<Float>, activation: Activation?
    ) {
        let outChannels = shape.outChannels, patch = shape.patchSize, channels = shape.inChannels
        let transposed = packed + outChannels * patch
        for o in 0..<outChannels {
            for j in 0..<patch { transposed[j * outChannels + o] = packed[o * patch + j] }
        }
        let outLength = shape.outLength
        let vectorChannels = outChannels / 64 * 64
        let rawWeights = UnsafeRawPointer(transposed)
        Parallel.forChunks(shape.batch * outLength, grain: max(1, 4_096 / outChannels)) { range in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 32) { edgeBuffer in
                // A 32-float stack buffer always has an address.
                guard let edge = edgeBuffer.baseAddress else { return }
                for row in range {
                    let b = row / outLength, t = row % outLength
                    let out = y + row * outChannels
                    // The patch of this frame: a contiguous slice of the input, or a zero-padded copy at the edges.
                    let first = t * shape.stride - shape.padding
                    let values: UnsafePointer<Float>
                    if first >= 0 && first + shape.kernel <= shape.inLength {
                        values = x + (b * shape.inLength + first) * channels
                    } else {
                        for k in 0..<shape.kernel {
                            let position = first + k
                            let inside = position >= 0 && position < shape.inLength
                            for c in 0..<channels {
                                edge[k * channels + c] = inside ? x[(b * shape.inLength + position) * channels + c] : 0
                            }
                        }
                        values = UnsafePointer(edge)
                    }
                    var o = 0
                    while o < vectorChannels {
                        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
                        for j in 0..<patch {
                            let v = SIMD16<Float>(repeating: values[j])
                            let base = (j * outChannels + o) * 4
                            a0.addProduct(v, rawWeights.loadUnaligned(fromByteOffset: base, as: SIMD16<Float>.self))
                            a1.addProduct(v, rawWeights.loadUnaligned(fromByteOffset: base + 64, as: SIMD16<Float>.self))
                            a2.addProduct(v, rawWeights.loadUnaligned(fromByteOffset: base + 128, as: SIMD16<Float>.self))
                            a3.addProduct(v, rawWeights.loadUnaligned(fromByteOffset: base + 192, as: SIMD16<Float>.self))
                        }
                        store(a0, a1, a2, a3, to: out + o, adding: bias.map { $0 + o })
                        o += 64
                    }
                    while o < outChannels {
                        var total: Float = bias?[o] ?? 0
                        for j in 0..<patch { total += values[j] * transposed[j * outChannels + o] }
                        out[o] = total
                        o += 1
                    }
                    // The activation on the frame while it is in L1 (a pass afterwards would read the output again).
                    activation?.forward(out, out, count: outChannels)
                }
            }
        }
    }

    /// Stores 64 accumulated outputs, plus the bias at `adding` when given (read from the bias vector, so the
    /// output is written once and never read).
    @inline(__always)
    static func store(
        _ a0: SIMD16<Float>, _ a1: SIMD16<Float>, _ a2: SIMD16<Float>, _ a3: SIMD16<Float>,
        to out: UnsafeMutablePointer<Float>, adding bias: UnsafePointer<Float>?
    ) {
        let raw = UnsafeMutableRawPointer(out)
        var vectors = (a0, a1, a2, a3)
        if let bias {
            let source = UnsafeRawPointer(bias)
            vectors.0 += source.loadUnaligned(fromByteOffset: 0, as: SIMD16<Float>.self)
            vectors.1 += source.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
            vectors.2 += source.loadUnaligned(fromByteOffset: 128, as: SIMD16<Float>.self)
            vectors.3 += source.loadUnaligned(fromByteOffset: 192, as: SIMD16<Float>.self)
        }
        raw.storeBytes(of: vectors.0, toByteOffset: 0, as: SIMD16<Float>.self)
        raw.storeBytes(of: vectors.1, toByteOffset: 64, as: SIMD16<Float>.self)
        raw.storeBytes(of: vectors.2, toByteOffset: 128, as: SIMD16<Float>.self)
        raw.storeBytes(of: vectors.3, toByteOffset: 192, as: SIMD16<Float>.self)
    }

    // MARK: - Weight packing

    /// Floats of the packed weight (`packWeight`).
    public static func packedWeightCount(_ shape: Geometry) -> Int { shape.outChannels * shape.patchSize }

    /// The weight repacked tap-major, `[out, kernel, in / groups]`, as `forward` multiplies it:
    /// `packed[o, k, c] = weight[o, c, k]`.
    public static func packWeight(_ shape: Geometry, weight: UnsafePointer<Float>, into packed: UnsafeMutablePointer<Float>) {
        let taps = shape.kernel, channels = shape.inPerGroup
        Parallel.forChunks(shape.outChannels, grain: 64) { range in
            for o in range {
                let source = weight + o * shape.patchSize, target = packed + o * shape.patchSize
                for c in 0..<channels {
                    for k in 0..<taps { target[k * channels + c] = source[c * taps + k] }
                }
            }
        }
    }

    /// `weight[o, c, k] += packed[o, k, c]`.
    static func unpackAdding(_ shape: Geometry, _ packed: UnsafePointer<Float>, into weight: UnsafeMutablePointer<Float>) {
        let taps = shape.kernel, channels = shape.inPerGroup
        Parallel.forChunks(shape.outChannels, grain: 64) { range in
            for o in range {
                let source = packed + o * shape.patchSize, target = weight + o * shape.patchSize
                for c in 0..<channels {
                    for k in 0..<taps { target[c * taps + k] += source[k * channels + c] }
                }
            }
        }
    }

    /// Runs `body(group, batch, slot)` for every group of every sequence, `slots` groups at a time on the kernel
    /// threads (slot `s` takes groups `s`, `s + slots`, ...: its own patches block), each GEMM on one thread.
    /// `body` must write only its group's part of the outputs.
    static func groupsSideBySide(_ shape: Geometry, slots: Int, _ body: (Int, Int, Int) -> Void) {
        withoutActuallyEscaping(body) { body in
            // The slots write disjoint places (the contract of `body`), so sharing it across threads is safe.
            let shared = UncheckedSendable(body)
            Gemm.serialProducts {
                for b in 0..<shape.batch {
                    DispatchQueue.concurrentPerform(iterations: slots) { slot in
                        for g in stride(from: slot, to: shape.groups, by: slots) { shared.value(g, b, slot) }
                    }
                }
            }
        }
    }

    // MARK: - In-place patches

    /// Calls `body(firstTap, tapCount, isFirst)` for consecutive chunks of at most `stride` taps.
    @inline(__always)
    static func forEachTapChunk(_ shape: Geometry, maxTaps: Int? = nil, _ body: (Int, Int, Bool) -> Void) {
        var firstTap = 0
        while firstTap < shape.kernel {
            let taps = min(maxTaps ?? shape.stride, shape.kernel - firstTap)
            body(firstTap, taps, firstTap == 0)
            firstTap += taps
        }
    }

    // MARK: - im2col

    /// Calls `body` for consecutive blocks of `tapsPerBlock` taps.
    @inline(__always)
    static func forEachTapBlock(_ shape: Geometry, _ body: (Range<Int>) -> Void) {
        var first = 0
        while first < shape.kernel {
            let end = min(shape.kernel, first + shape.tapsPerBlock)
            body(first..<end)
            first = end
        }
    }

    /// `patches[t, k - taps.lowerBound, c] = x[t * stride + k - padding, group * inPerGroup + c]` for `k` in
    /// `taps`, zero outside the sequence.
    static func gatherPatches(
        _ shape: Geometry, x: UnsafePointer<Float>, group: Int, taps: Range<Int>, into patches: UnsafeMutablePointer<Float>,
        serial: Bool = false
    ) {
        let channels = shape.inPerGroup, firstChannel = group * channels, width = taps.count * channels
        Parallel.forChunks(shape.outLength, grain: serial ? shape.outLength : max(1, 16_384 / max(1, width))) { range in
            for t in range {
                let row = patches + t * width
                for k in taps {
                    let position = t * shape.stride + k - shape.padding
                    let target = row + (k - taps.lowerBound) * channels
                    if position >= 0 && position < shape.inLength {
                        // An inline loop, not memmove: the segments are short (48 floats for HuBERT's pos conv).
                        let source = x + position * shape.inChannels + firstChannel
                        for c in 0..<channels { target[c] = source[c] }
                    } else {
                        for c in 0..<channels { target[c] = 0 }
                    }
                }
            }
        }
    }

    /// Adds `patches[t, k - taps.lowerBound, c]` back into `dx[t * stride + k - padding, group * inPerGroup + c]`:
    /// for each input frame, the taps of the block that read it, in tap order (parallel over frames,
    /// deterministic).
    static func scatterPatches(
        _ shape: Geometry, _ patches: UnsafePointer<Float>, group: Int, taps: Range<Int>, into dx: UnsafeMutablePointer<Float>,
        serial: Bool = false
    ) {
        let channels = shape.inPerGroup, firstChannel = group * channels, outLength = shape.outLength
        let width = taps.count * channels
        Parallel.forChunks(shape.inLength, grain: serial ? shape.inLength : max(1, 4_096 / max(1, channels))) { range in
            for position in range {
                let target = dx + position * shape.inChannels + firstChannel
                for k in taps {
                    let shifted = position + shape.padding - k
                    guard shifted >= 0, shifted % shape.stride == 0 else { continue }
                    let t = shifted / shape.stride
                    guard t < outLength else { continue }
                    let source = patches + t * width + (k - taps.lowerBound) * channels
                    for c in 0..<channels { target[c] += source[c] }
                }
            }
        }
    }
}

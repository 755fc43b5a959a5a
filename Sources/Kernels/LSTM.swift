/// A one-layer bidirectional LSTM over a padded batch with per-sequence lengths, forward and backward through time.
///
/// The semantics are PyTorch's `nn.LSTM(batch_first=True, bidirectional=True)` run on a packed sequence
/// (`pack_padded_sequence`).
///
/// Layouts (Float32, row-major; `B` batch, `T` steps, `In` input size, `H` hidden size):
/// - `x: [B, T, In]`, `lengths: [B]` (Int32), `y: [B, T, 2H]`: the forward direction in `y[b, t, 0..<H]`, the
///   reverse direction in `y[b, t, H..<2H]`.
/// - The parameters of each direction are PyTorch's (`weight_ih_l0`, ..., `bias_hh_l0_reverse`), see `Weights`;
///   their gate blocks are in the order i, f, g, o.
///
/// Semantics: `gates = x_t W_ih^T + b_ih + h_prev W_hh^T + b_hh`; `i, f, o = sigmoid`, `g = tanh` of their blocks;
/// `c = f * c_prev + i * g`; `h = o * tanh(c)`; initial states are zero. Sequence `b` has the frames
/// `0..<lengths[b]`: the forward direction runs up from frame 0, the reverse direction starts fresh at the
/// sequence's own last frame `lengths[b] - 1` and runs down to 0. `y` is exactly 0 at padded frames
/// (`t >= lengths[b]`), and the values of `x` and `dy` there are never read (they may hold anything, NaN included).
/// A length outside `0...T` is clamped into it.
///
/// Memory: the kernels allocate nothing. `forward` stores what `backward` needs (post-activation gates and cell
/// states) in `saved`, `savedCount(shape)` floats whose content is private to this type; `backward` needs
/// `workspace`, `backwardWorkspaceCount(shape)` floats of scratch. `forward` needs `saved` even for inference (it
/// is where the gates are computed). No output buffer may alias another buffer.
///
/// Threads: the per-step gate arithmetic may run in parallel over sequences, each value computed the same way for
/// any thread count; reductions are never split across threads.
public enum LSTM {
    /// The sizes of one call.
    public struct Shape: Sendable, Hashable {
        public var batch: Int
        /// The padded sequence length `T` (frames per sequence in `x` and `y`).
        public var steps: Int
        public var inputSize: Int
        public var hiddenSize: Int

        public init(batch: Int, steps: Int, inputSize: Int, hiddenSize: Int) {
            self.batch = batch
            self.steps = steps
            self.inputSize = inputSize
            self.hiddenSize = hiddenSize
        }
    }

    /// The parameters of one direction, PyTorch's layout: `weightIH: [4H, In]`, `weightHH: [4H, H]`,
    /// `biasIH: [4H]`, `biasHH: [4H]`, rows in gate order i, f, g, o.
    public struct Weights {
        public var weightIH: UnsafePointer<Float>
        public var weightHH: UnsafePointer<Float>
        public var biasIH: UnsafePointer<Float>
        public var biasHH: UnsafePointer<Float>

        public init(
            weightIH: UnsafePointer<Float>, weightHH: UnsafePointer<Float>, biasIH: UnsafePointer<Float>,
            biasHH: UnsafePointer<Float>
        ) {
            self.weightIH = weightIH
            self.weightHH = weightHH
            self.biasIH = biasIH
            self.biasHH = biasHH
        }
    }

    /// The gradients of the parameters of one direction, laid out like `Weights`.
    public struct Gradients {
        public var weightIH: UnsafeMutablePointer<Float>
        public var weightHH: UnsafeMutablePointer<Float>
        public var biasIH: UnsafeMutablePointer<Float>
        public var biasHH: UnsafeMutablePointer<Float>

        public init(
            weightIH: UnsafeMutablePointer<Float>, weightHH: UnsafeMutablePointer<Float>,
            biasIH: UnsafeMutablePointer<Float>, biasHH: UnsafeMutablePointer<Float>
        ) {
            self.weightIH = weightIH
            self.weightHH = weightHH
            self.biasIH = biasIH
            self.biasHH = biasHH
        }
    }

    /// Floats of the `saved` buffer that `forward` fills and `backward` reads: `2 * B * T * 5H` (gates and cell
    /// states of both directions).
    public static func savedCount(_ shape: Shape) -> Int {
        2 * shape.batch * shape.steps * 5 * shape.hiddenSize
    }

    /// Floats of the scratch `workspace` of `backward`: `B * T * 4H + 2 * B * H`.
    public static func backwardWorkspaceCount(_ shape: Shape) -> Int {
        shape.batch * shape.steps * 4 * shape.hiddenSize + 2 * shape.batch * shape.hiddenSize
    }

    /// Runs both directions over the batch: writes `y: [B, T, 2H]` (0 at padded frames) and fills `saved`
    /// (`savedCount(shape)` floats) for `backward`.
    ///
    /// `weights` are the forward direction's parameters, `reverseWeights` the reverse direction's.
    public static func forward(
        x: UnsafePointer<Float>, lengths: UnsafePointer<Int32>, weights: Weights, reverseWeights: Weights,
        y: UnsafeMutablePointer<Float>, saved: UnsafeMutablePointer<Float>, shape: Shape
    ) {
        let batch = shape.batch, steps = shape.steps, hidden = shape.hiddenSize
        guard batch > 0, steps > 0, hidden > 0 else { return }
        let layout = SavedLayout(shape)

        // Padded frames: zero outputs (read as the reverse direction's initial state) and zero saved values.
        var maxLength = 0
        for b in 0..<batch {
            let length = Lengths.valid(lengths, b, frames: steps)
            maxLength = max(maxLength, length)
            let padded = steps - length
            guard padded > 0 else { continue }
            let row = b * steps + length
            (y + row * 2 * hidden).update(repeating: 0, count: padded * 2 * hidden)
            for direction in 0..<2 {
                (saved + layout.gates(direction) + row * 4 * hidden).update(repeating: 0, count: padded * 4 * hidden)
                (saved + layout.cells(direction) + row * hidden).update(repeating: 0, count: padded * hidden)
            }
        }

        for direction in 0..<2 {
            forwardDirection(
                x: x, lengths: lengths, weights: direction == 0 ? weights : reverseWeights, reverse: direction == 1,
                output: y + direction * hidden, gates: saved + layout.gates(direction),
                cells: saved + layout.cells(direction),
                maxLength: maxLength, shape: shape)
        }
    }

    /// Gradients of `forward`: from `dy: [B, T, 2H]` (read only at valid frames), writes `dx: [B, T, In]`
    /// (overwritten, 0 at padded frames; pass nil when not needed) and the parameter gradients of both directions.
    ///
    /// `x`, `lengths`, the weights, `y` and `saved` must be those of the `forward` call. The parameter gradients are
    /// overwritten, or added to what the buffers hold with `accumulate` (shared weights, several batches).
    /// `workspace` is `backwardWorkspaceCount(shape)` floats of scratch.
    public static func backward(
        x: UnsafePointer<Float>, lengths: UnsafePointer<Int32>, weights: Weights, reverseWeights: Weights,
        y: UnsafePointer<Float>, saved: UnsafePointer<Float>, dy: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>?, gradients: Gradients, reverseGradients: Gradients,
        workspace: UnsafeMutablePointer<Float>, shape: Shape, accumulate: Bool = false
    ) {
        let batch = max(0, shape.batch), steps = max(0, shape.steps)
        let input = max(0, shape.inputSize), hidden = max(0, shape.hiddenSize)
        if !accumulate {
            for direction in 0..<2 {
                let target = direction == 0 ? gradients : reverseGradients
                target.weightIH.update(repeating: 0, count: 4 * hidden * input)
                target.weightHH.update(repeating: 0, count: 4 * hidden * hidden)
                target.biasIH.update(repeating: 0, count: 4 * hidden)
                target.biasHH.update(repeating: 0, count: 4 * hidden)
            }
        }
        guard batch > 0, steps > 0, hidden > 0 else {
            dx?.update(repeating: 0, count: batch * steps * input)
            return
        }
        var maxLength = 0
        for b in 0..<batch {
            let length = Lengths.valid(lengths, b, frames: steps)
            maxLength = max(maxLength, length)
            if let dx, length < steps {
                (dx + (b * steps + length) * input).update(repeating: 0, count: (steps - length) * input)
            }
        }
        let layout = SavedLayout(shape)
        let gateGradients = workspace
        let recurrent = workspace + batch * steps * 4 * hidden
        let cellGradients = recurrent + batch * hidden

        for direction in 0..<2 {
            let reverse = direction == 1
            let parameters = reverse ? reverseWeights : weights
            let target = reverse ? reverseGradients : gradients
            let output = y + direction * hidden
            backwardDirection(
                lengths: lengths, weightHH: parameters.weightHH, reverse: reverse,
                gates: saved + layout.gates(direction), cells: saved + layout.cells(direction),
                dy: dy + direction * hidden,
                gateGradients: gateGradients, recurrent: recurrent, cellGradients: cellGradients,
                maxLength: maxLength, shape: shape)

            // Input-side products over the valid frames, in blocks of contiguous rows.
            forEachValidBlock(lengths, batch: batch, steps: steps) { first, count in
                let dG = gateGradients + first * 4 * hidden
                if let dx {
                    Gemm.multiply(
                        m: count, n: input, k: 4 * hidden, a: dG, lda: 4 * hidden, b: parameters.weightIH,
                        ldb: input, beta: reverse ? 1 : 0, c: dx + first * input, ldc: input)
                }
                Gemm.multiply(
                    transA: true, m: 4 * hidden, n: input, k: count, a: dG, lda: 4 * hidden, b: x + first * input,
                    ldb: input, beta: 1, c: target.weightIH, ldc: input)
                Reduce.sumRows(dG, rows: count, columns: 4 * hidden, into: target.biasIH, accumulate: true)
                Reduce.sumRows(dG, rows: count, columns: 4 * hidden, into: target.biasHH, accumulate: true)
            }

            // dW_hh = sum_t dG_t^T h_prev_t: per sequence, the gate gradients of frames that have a previous
            // state against the shifted view of the outputs.
            for b in 0..<batch {
                let length = Lengths.valid(lengths, b, frames: steps)
                guard length >= 2 else { continue }
                let row = b * steps
                let dGRow = reverse ? row : row + 1
                let hRow = reverse ? row + 1 : row
                Gemm.multiply(
                    transA: true, m: 4 * hidden, n: hidden, k: length - 1,
                    a: gateGradients + dGRow * 4 * hidden, lda: 4 * hidden, b: output + hRow * 2 * hidden,
                    ldb: 2 * hidden, beta: 1, c: target.weightHH, ldc: hidden)
            }
        }
    }

    // MARK: - One direction

    /// The forward recursion of one direction. `output` is `y` offset to the direction's half (row stride 2H).
    private static func forwardDirection(
        x: UnsafePointer<Float>, lengths: UnsafePointer<Int32>, weights: Weights, reverse: Bool,
        output: UnsafeMutablePointer<Float>, gates: UnsafeMutablePointer<Float>, cells: UnsafeMutablePointer<Float>,
        maxLength: Int, shape: Shape
    ) {
        let batch = shape.batch, steps = shape.steps, input = shape.inputSize, hidden = shape.hiddenSize
        let gateWidth = 4 * hidden

        // Input projections and both biases for every valid frame.
        forEachValidBlock(lengths, batch: batch, steps: steps) { first, count in
            for row in first..<(first + count) {
                let line = gates + row * gateWidth
                for j in 0..<gateWidth { line[j] = weights.biasIH[j] + weights.biasHH[j] }
            }
            Gemm.multiply(
                transB: true, m: count, n: gateWidth, k: input, a: x + first * input, lda: input,
                b: weights.weightIH, ldb: input, beta: 1, c: gates + first * gateWidth, ldc: gateWidth)
        }

        for step in 0..<maxLength {
            let t = reverse ? maxLength - 1 - step : step
            let span = activeSpan(lengths, batch: batch, steps: steps, frame: t)
            guard !span.isEmpty else { continue }
            if step > 0 {
                // The previous hidden states of all sequences of the span (0 where a sequence starts fresh).
                let previous = reverse ? t + 1 : t - 1
                Gemm.multiply(
                    transB: true, m: span.count, n: gateWidth, k: hidden,
                    a: output + (span.lowerBound * steps + previous) * 2 * hidden, lda: steps * 2 * hidden,
                    b: weights.weightHH, ldb: hidden, beta: 1,
                    c: gates + (span.lowerBound * steps + t) * gateWidth, ldc: steps * gateWidth)
            }
            Parallel.forChunks(span.count, grain: rowGrain(hidden)) { range in
                for index in range {
                    let b = span.lowerBound + index
                    let length = Lengths.valid(lengths, b, frames: steps)
                    let row = b * steps + t
                    guard t < length else {
                        // A padded frame inside the span: undo what the recurrent product added.
                        (gates + row * gateWidth).update(repeating: 0, count: gateWidth)
                        continue
                    }
                    let hasPrevious = reverse ? t + 1 < length : t > 0
                    let previousRow = reverse ? row + 1 : row - 1
                    cellForward(
                        gates: gates + row * gateWidth,
                        previousCell: hasPrevious ? UnsafePointer(cells + previousRow * hidden) : nil,
                        cell: cells + row * hidden, hidden: output + row * 2 * hidden, size: hidden)
                }
            }
        }
    }

    /// Backward through time for one direction: fills `gateGradients: [B, T, 4H]` with the gradients of the
    /// pre-activation gates (0 at padded frames). `recurrent` and `cellGradients` are `[B, H]` scratch.
    private static func backwardDirection(
        lengths: UnsafePointer<Int32>, weightHH: UnsafePointer<Float>, reverse: Bool,
        gates: UnsafePointer<Float>, cells: UnsafePointer<Float>, dy: UnsafePointer<Float>,
        gateGradients: UnsafeMutablePointer<Float>, recurrent: UnsafeMutablePointer<Float>,
        cellGradients: UnsafeMutablePointer<Float>, maxLength: Int, shape: Shape
    ) {
        let batch = shape.batch, steps = shape.steps, hidden = shape.hiddenSize
        let gateWidth = 4 * hidden
        gateGradients.update(repeating: 0, count: batch * steps * gateWidth)

        // Frames in the opposite order of the forward recursion.
        for step in 0..<maxLength {
            let t = reverse ? step : maxLength - 1 - step
            let span = activeSpan(lengths, batch: batch, steps: steps, frame: t)
            guard !span.isEmpty else { continue }
            Parallel.forChunks(span.count, grain: rowGrain(hidden)) { range in
                for index in range {
                    let b = span.lowerBound + index
                    let length = Lengths.valid(lengths, b, frames: steps)
                    guard t < length else { continue }
                    let row = b * steps + t
                    // The first frame of this recursion (the forward recursion's last) starts with zero
                    // recurrent and cell gradients.
                    if reverse ? t == 0 : t == length - 1 {
                        (recurrent + b * hidden).update(repeating: 0, count: hidden)
                        (cellGradients + b * hidden).update(repeating: 0, count: hidden)
                    }
                    let hasPrevious = reverse ? t + 1 < length : t > 0
                    let previousRow = reverse ? row + 1 : row - 1
                    cellBackward(
                        gates: gates + row * gateWidth, cell: cells + row * hidden,
                        previousCell: hasPrevious ? cells + previousRow * hidden : nil, dy: dy + row * 2 * hidden,
                        recurrent: recurrent + b * hidden, cellGradient: cellGradients + b * hidden,
                        gateGradient: gateGradients + row * gateWidth, size: hidden)
                }
            }
            if step + 1 < maxLength {
                // dh for the next frame of the recursion: dG_t W_hh. Sequences inactive at t inside the span have
                // zero gate gradients; those that start at the next frame reset it there.
                Gemm.multiply(
                    m: span.count, n: hidden, k: gateWidth,
                    a: gateGradients + (span.lowerBound * steps + t) * gateWidth, lda: steps * gateWidth,
                    b: weightHH, ldb: hidden, c: recurrent + span.lowerBound * hidden, ldc: hidden)
            }
        }
    }

    // MARK: - Per-frame arithmetic

    /// Gate nonlinearities and the state update of one sequence at one frame: `gates` (pre-activations in,
    /// post-activations i, f, g, o out), the new cell state and hidden state.
    ///
    /// Written as short loops over one or two arrays each: a single loop over all seven arrays needs more runtime
    /// alias checks than the vectoriser will emit, and runs scalar (a third of the BiLSTM's forward time).
    @inline(__always)
    private static func cellForward(
        gates: UnsafeMutablePointer<Float>, previousCell: UnsafePointer<Float>?, cell: UnsafeMutablePointer<Float>,
        hidden: UnsafeMutablePointer<Float>, size: Int
    ) {
        let gi = gates, gf = gates + size, gg = gates + 2 * size, go = gates + 3 * size
        for j in 0..<(2 * size) { gates[j] = FastMath.sigmoid(gates[j]) }
        for j in 0..<size { gg[j] = FastMath.tanh(gg[j]) }
        for j in 0..<size { go[j] = FastMath.sigmoid(go[j]) }
        if let previousCell {
            for j in 0..<size { cell[j] = gf[j] * previousCell[j] + gi[j] * gg[j] }
        } else {
            for j in 0..<size { cell[j] = gi[j] * gg[j] }
        }
        for j in 0..<size { hidden[j] = go[j] * FastMath.tanh(cell[j]) }
    }

    /// The gradient of one sequence at one frame: from `dy` plus the recurrent `dh` and the carried cell gradient
    /// `cellGradient` (both 0 at the recursion's first frame), writes the pre-activation gate gradients and
    /// replaces `cellGradient` with the gradient of the previous cell state (nil `previousCell`: a zero state).
    ///
    /// Short loops over a few arrays each, so that they vectorise (see `cellForward`); the gate-gradient slots
    /// hold intermediate values (dh, tanh c) until their own gradient is written.
    @inline(__always)
    private static func cellBackward(
        gates: UnsafePointer<Float>, cell: UnsafePointer<Float>, previousCell: UnsafePointer<Float>?,
        dy: UnsafePointer<Float>, recurrent: UnsafePointer<Float>, cellGradient: UnsafeMutablePointer<Float>,
        gateGradient: UnsafeMutablePointer<Float>, size: Int
    ) {
        let gi = gates, gf = gates + size, gg = gates + 2 * size, go = gates + 3 * size
        let di = gateGradient, df = gateGradient + size, dg = gateGradient + 2 * size, dout = gateGradient + 3 * size
        let dc = cellGradient
        for j in 0..<size { di[j] = dy[j] + recurrent[j] }  // dh
        for j in 0..<size { dout[j] = FastMath.tanh(cell[j]) }  // tanh c
        for j in 0..<size { dc[j] += di[j] * go[j] * (1 - dout[j] * dout[j]) }
        for j in 0..<size { dout[j] = di[j] * dout[j] * go[j] * (1 - go[j]) }
        for j in 0..<size { di[j] = dc[j] * gg[j] * gi[j] * (1 - gi[j]) }
        if let previousCell {
            for j in 0..<size { df[j] = dc[j] * previousCell[j] * gf[j] * (1 - gf[j]) }
        } else {
            for j in 0..<size { df[j] = 0 }
        }
        for j in 0..<size { dg[j] = dc[j] * gi[j] * (1 - gg[j] * gg[j]) }
        for j in 0..<size { dc[j] *= gf[j] }
    }

    // MARK: - Helpers

    /// Where the gates and cell states of each direction lie in the `saved` buffer (offsets in floats): gates
    /// `[2, B, T, 4H]`, then cell states `[2, B, T, H]`.
    private struct SavedLayout {
        let cellsCount: Int

        init(_ shape: Shape) { cellsCount = shape.batch * shape.steps * shape.hiddenSize }

        func gates(_ direction: Int) -> Int { direction * 4 * cellsCount }
        func cells(_ direction: Int) -> Int { 8 * cellsCount + direction * cellsCount }
    }

    /// The smallest range of sequences that holds every sequence with frame `frame` valid.
    private static func activeSpan(_ lengths: UnsafePointer<Int32>, batch: Int, steps: Int, frame: Int) -> Range<Int> {
        var first = batch, end = batch
        for b in 0..<batch where Lengths.valid(lengths, b, frames: steps) > frame {
            if first == batch { first = b }
            end = b + 1
        }
        return first..<max(first, end)
    }

    /// Calls `body(firstRow, rowCount)` for each maximal run of contiguous valid rows of the `[B * T]` frame rows
    /// (the valid frames of sequence `b` are rows `b * T ..< b * T + length`).
    @inline(__always)
    private static func forEachValidBlock(
        _ lengths: UnsafePointer<Int32>, batch: Int, steps: Int, _ body: (_ first: Int, _ count: Int) -> Void
    ) {
        var start = 0, end = 0
        for b in 0..<batch {
            let length = Lengths.valid(lengths, b, frames: steps)
            guard length > 0 else { continue }
            let rowStart = b * steps
            if rowStart != end {
                if end > start { body(start, end - start) }
                start = rowStart
            }
            end = rowStart + length
        }
        if end > start { body(start, end - start) }
    }

    /// Sequences per chunk of the parallel per-frame loops: enough work per chunk to pay for a thread hop.
    @inline(__always)
    private static func rowGrain(_ hidden: Int) -> Int {
        max(1, 8192 / max(1, hidden))
    }
}

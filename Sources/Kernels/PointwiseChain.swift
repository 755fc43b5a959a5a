/// Pointwise ops applied one after the other in one pass over memory (the compiler's fused `gelu+dropout`): the
/// elements go block by block, each block through every step while it is in L1, instead of one pass over the whole
/// tensor per op. Each element gets the steps' own operations in order (a dropout step draws its stream at the
/// element's index), so the result is bitwise the one of the separate kernels.
public enum PointwiseChain {
    public enum Step: Sendable {
        case activation(Activation)
        case scale(Float)
        /// Inverted dropout drawing `stream` at element `offset + i` (`Dropout.forward`).
        case dropout(probability: Float, stream: Philox, offset: Int)
        /// The identity (a dropout outside training).
        case identity
    }

    /// Elements per block (16 KiB): the block and its scratch stay in L1 and L2 while the steps pass. A multiple of 4,
    /// so a dropout step's stream blocks of four are never split between blocks.
    static let block = 4_096

    /// `y = step_n(... step_1(x))`; `y` may be `x`.
    public static func run(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, steps: [Step]) {
        blockwise(x, y, count: count, steps: steps) { step, start, source, target, n in
            switch step {
            case let .activation(function): function.forward(source, target, count: n)
            case let .scale(factor): Elementwise.scale(source, by: factor, into: target, count: n)
            case let .dropout(probability, stream, offset):
                Dropout.forward(source, target, count: n, probability: probability, stream: stream, offset: offset + start)
            case .identity: target.update(from: source, count: n)
            }
        }
    }

    /// Runs `steps` over the elements block by block: each step reads its source block and writes a block that is not
    /// its source (two scratch blocks in turn, the last step `output`), because a loop over two pointers that may be
    /// the same takes the compiler's scalar fallback (GELU's gradient in place ran 4x slower). `apply(step, start,
    /// source, target, n)` runs one step on the `n` elements from `start`.
    static func blockwise<Step>(
        _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, count: Int, steps: [Step],
        _ apply: (Step, Int, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void
    ) {
        let blocks = (count + block - 1) / block
        // Each step's kernel sees one block, below its own parallel grain: it runs on the block's thread.
        Parallel.forChunks(blocks, grain: 4) { range in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * block) { scratch in
                guard let scratch = scratch.baseAddress else { return }
                for index in range {
                    let start = index * block, n = min(block, count - start)
                    var source = input + start
                    for (position, step) in steps.enumerated() {
                        let target = position == steps.count - 1 ? output + start : scratch + (position % 2) * block
                        apply(step, start, source, target, n)
                        source = UnsafePointer(target)
                    }
                }
            }
        }
    }

    /// One member of a gradient chain, as its gradient runs.
    public enum GradientStep {
        /// `dx = dy * f'(saved)`, `saved` the whole forward input or output (`Activation.backward`).
        case activation(Activation, saved: UnsafePointer<Float>)
        case scale(Float)
        /// The forward's mask again (`Dropout.backward`).
        case dropout(probability: Float, stream: Philox, offset: Int)
    }

    /// `dx` from `dy` through every step's gradient in order, block by block; `dx` may be `dy`.
    public static func runGradients(dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int, steps: [GradientStep]) {
        blockwise(dy, dx, count: count, steps: steps) { step, start, source, target, n in
            switch step {
            case let .activation(function, saved): function.backward(saved: saved + start, dy: source, dx: target, count: n)
            case let .scale(factor): Elementwise.scale(source, by: factor, into: target, count: n)
            case let .dropout(probability, stream, offset):
                Dropout.backward(source, target, count: n, probability: probability, stream: stream, offset: offset + start)
            }
        }
    }
}

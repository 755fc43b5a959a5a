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

    /// Elements per block: 16 KiB in and 16 KiB out stay in L1 (32 KiB) while the steps pass. A multiple of 4, so a
    /// dropout step's stream blocks of four are never split between blocks.
    static let block = 4_096

    /// `y = step_n(... step_1(x))`; `y` may be `x`.
    public static func run(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, steps: [Step]) {
        let blocks = (count + block - 1) / block
        // Each step's kernel sees one block, below its own parallel grain: it runs on the block's thread.
        Parallel.forChunks(blocks, grain: 4) { range in
            for index in range {
                let start = index * block, n = min(block, count - start)
                var source = x + start
                let target = y + start
                for step in steps {
                    switch step {
                    case let .activation(function): function.forward(source, target, count: n)
                    case let .scale(factor): Elementwise.scale(source, by: factor, into: target, count: n)
                    case let .dropout(probability, stream, offset):
                        Dropout.forward(source, target, count: n, probability: probability, stream: stream, offset: offset + start)
                    case .identity: if source != UnsafePointer(target) { target.update(from: source, count: n) }
                    }
                    source = UnsafePointer(target)
                }
            }
        }
    }
}

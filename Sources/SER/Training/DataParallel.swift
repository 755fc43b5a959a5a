import Compiler
import GraphIR
import Kernels
import Runtime

/// The arithmetic of data-parallel training: which rows of each global batch a process takes, and how much of each
/// loss term's mean its rows make up.
///
/// Every process makes the same global batches (the plan is a function of the seed and the epoch) and takes a
/// contiguous share of each, padded to the whole batch's length so that its rows draw the dropout and time masks
/// they draw in one process (`RunMode.training(firstRow:)`). A loss term is a mean, `sum / divisor`, over the rows
/// it counts (class weights and frame masks included); each process feeds `divisor(its rows) / divisor(all rows)`
/// as the term's scale, so that the processes' scaled losses and gradients add up to those of the whole batch.
enum DataParallel {
    /// The rows of a batch of `count` that `rank` of `size` takes: contiguous, lower ranks first, sizes differing by
    /// at most one (ranks past the count take none).
    static func rows(count: Int, rank: Int, size: Int) -> Range<Int> {
        let base = count / size, extra = count % size
        let start = rank * base + min(rank, extra)
        return start..<(start + base + (rank < extra ? 1 : 0))
    }

    /// What a loss term's mean divides by over `rows` of the whole batch: `targets` is its `[B]` or `[B, T]`
    /// targets, `mask` the whole batch's time mask (`[B, T]`) for a term over the masked frames.
    static func divisor(of term: TrainingGraph.Term, targets: HostTensor, classWeights: HostTensor?, mask: [Float]?, rows: Range<Int>) -> Double {
        let batch = max(1, targets.shape.first ?? 1)
        let width = targets.count / batch
        var total = 0.0
        for index in (rows.lowerBound * width)..<(rows.upperBound * width) {
            let target = Int(targets.int32s[index])
            guard target >= 0, target < term.classes else { continue }
            switch term.kind {
            case .amSoftmax:
                total += 1
            case .crossEntropy:
                let weight = classWeights.map { $0.floats[target] } ?? 1
                let masked = mask.map { $0[index] } ?? 1
                guard masked != 0 else { continue }
                total += Double(weight * masked)
            }
        }
        return total
    }

    /// The mask the time-mask `node` draws over a whole batch whose rows have `frameLengths` valid frames of
    /// `frames` in step `step` (the kernel the interpreter runs, with the node's stream).
    static func timeMask(of node: Node, seed: UInt64, step: UInt64, frameLengths: [Int32], frames: Int) -> [Float] {
        guard case let .timeMask(probability, spanLength, minimumSpans) = node.op else { return [] }
        var mask = [Float](repeating: 0, count: frameLengths.count * frames)
        TimeMask.spans(mask: &mask, lengths: frameLengths, batch: frameLengths.count, frames: frames, probability: probability,
                       spanLength: spanLength, minimumSpans: minimumSpans,
                       stream: Philox(seed: seed, step: step, node: Philox.key(node.streamName)))
        return mask
    }

    /// Rows `rows` of a `[B, ...]` tensor.
    static func slice(_ tensor: HostTensor, rows: Range<Int>) -> HostTensor {
        let batch = max(1, tensor.shape.first ?? 1)
        let width = tensor.count / batch
        let part = HostTensor(tensor.dtype, shape: [rows.count] + tensor.shape.dropFirst())
        part.storage.copyMemory(from: tensor.storage + rows.lowerBound * width * 4, byteCount: rows.count * width * 4)
        return part
    }
}

import Compiler
import GraphIR
import Kernels

/// What each kernel takes besides its outputs, for the memory plan: one entry per `scratch` call of `execute` and
/// `executeGradient`, in the order they make them. A forward node's statistics for its gradient node are `saved`
/// (the plan keeps them until that node); the rest are workspaces of the call. Some sizes depend on the kernel
/// thread count (one attention plane per thread), so memory plans are cached per thread count.
///
/// A kernel call that asks for more than planned here still runs (its scratch comes from the pool) and is counted
/// in `Interpreter.unplannedScratch`; the tests require none.
extension Interpreter {
    public static func auxiliaryBuffers(of node: Node, shape: (ValueID) -> [Int]) -> [MemoryPlan.AuxiliaryBuffer] {
        let x = node.inputs.map(shape)
        func count(_ dims: [Int]) -> Int { dims.reduce(1, *) }
        func workspace(_ floats: Int) -> MemoryPlan.AuxiliaryBuffer { .init(.workspace, bytes: floats * 4) }
        func saved(_ floats: Int) -> MemoryPlan.AuxiliaryBuffer { .init(.saved, bytes: floats * 4) }
        func geometry(stride: Int, padding: Int, groups: Int) -> Conv1d.Geometry {
            Conv1d.Geometry(batch: x[0][0], inChannels: x[0][2], outChannels: x[1][0], inLength: x[0][1], kernel: x[1][2],
                            stride: stride, padding: padding, groups: groups)
        }
        func rows(_ dims: [Int]) -> Int { count(dims) / max(1, dims.last ?? 1) }

        switch node.op {
        case let .conv1d(stride, padding, groups), let .activated(.conv1d(stride, padding, groups), _):
            return [workspace(geometry(stride: stride, padding: padding, groups: groups).workspaceCount)]
        case let .normalizedConv1d(stride, padding, groups, _, _),
             let .activated(.normalizedConv1d(stride, padding, groups, _, _), _):
            return [workspace(NormalizedConv1d.workspaceCount(geometry(stride: stride, padding: padding, groups: groups)))]
        case let .groupNorm(groups, _):
            return [saved(2 * x[0][0] * groups), workspace(GroupNorm.workspaceCount(channels: x[0][2]))]
        case let .activated(.groupNorm(groups, _), _):
            return [workspace(2 * x[0][0] * groups), workspace(GroupNorm.workspaceCount(channels: x[0][2]))]
        case .layerNorm:
            return [saved(2 * rows(x[0]))]
        case .addLayerNorm:
            return [workspace(2 * rows(x[0]))]
        case let .weightNorm(axis):
            let dims = x[0], kept = axis < 0 ? axis + dims.count : axis
            return [saved(dims[kept])]
        case .attention:
            return [workspace(Attention.forwardWorkspaceCount(sequenceLength: x[0][1]))]
        case let .lstm(hidden):
            return [saved(LSTM.savedCount(LSTM.Shape(batch: x[0][0], steps: x[0][1], inputSize: x[0][2], hiddenSize: hidden)))]
        case .crossEntropy:
            return [saved(rows(x[0]))]
        case .amSoftmax:
            let (rows, dimension, classes) = (x[0][0], x[0][1], x[1][0])
            return [saved(rows * classes + rows * dimension + rows + classes * dimension + classes + rows)]
        case .kmeansAssign:
            return [workspace(KMeansAssign.workspaceCount(k: x[1][0]))]
        case .cosineSimilarity:
            return [workspace(CosineSimilarity.workspaceCount(rows: x[0][0], classes: x[1][0], dimension: x[0][1]))]
        case let .gradient(forward, wrt):
            let y = x[wrt.count]
            switch forward {
            case let .conv1d(stride, padding, groups):
                return [workspace(geometry(stride: stride, padding: padding, groups: groups).workspaceCount)]
            case .groupNorm:
                return [workspace(GroupNorm.workspaceCount(channels: x[0][2]))]
            case let .weightNorm(axis):
                let dims = x[0], kept = axis < 0 ? axis + dims.count : axis
                return [workspace(dims[kept])]
            case .binary(.multiply):
                return wrt.filter { $0 }.map { _ in workspace(count(y)) }
            case .attention:
                let spares = (0..<3).filter { !wrt[$0] }.map { _ in workspace(count(y)) }
                return [workspace(Attention.backwardWorkspaceCount(sequenceLength: y[1], recomputing: true))] + spares
            case let .lstm(hidden):
                let shape = LSTM.Shape(batch: y[0], steps: y[1], inputSize: x[0][2], hiddenSize: hidden)
                let spares = (2..<wrt.count).filter { !wrt[$0] }.map { workspace(count(x[$0])) }
                return [workspace(LSTM.backwardWorkspaceCount(shape))] + spares
            case .amSoftmax:
                let spares = (0..<2).filter { !wrt[$0] }.map { workspace(count(x[$0])) }
                return [workspace(AMSoftmax.backwardWorkspaceCount(rows: x[0][0], classes: x[1][0]))] + spares
            default:
                return []
            }
        default:
            return []
        }
    }
}

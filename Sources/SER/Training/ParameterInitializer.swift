import GraphIR
import Kernels
import Runtime

/// Random initial values for a graph's parameters, chosen by the op that reads each one, as PyTorch's modules
/// initialise themselves:
///
/// - linear and conv1d weights and biases: uniform in ±1/sqrt(fan_in) (`nn.Linear`, `nn.Conv1d`: Kaiming uniform
///   with a = sqrt(5)); fan_in is the weight's input size (times the kernel for a convolution);
/// - weight norm (`weight_v`, `weight_g`): v as the convolution's weight, g the norm of v, so w = v at first;
/// - layer and group norm: weight 1, bias 0;
/// - LSTM: uniform in ±1/sqrt(hidden) (`nn.LSTM`);
/// - time-mask embedding: uniform in [0, 1) (HuBERT's `masked_spec_embed`);
/// - cosine-similarity class weights: uniform in ±1/sqrt(width);
/// - anything else: normal(0, 0.02).
///
/// Each parameter draws from its own stream keyed by (seed, its name), so adding a parameter changes no other.
public enum ParameterInitializer {
    public static func initialize(_ graph: Graph, seed: UInt64, only names: Set<String>? = nil) -> [String: HostTensor] {
        // The first reader of each parameter and the input slot it reads it at.
        var reader = [ValueID: (node: Node, slot: Int)]()
        for node in graph.nodes {
            for (slot, input) in node.inputs.enumerated() where reader[input] == nil { reader[input] = (node, slot) }
        }
        var result = [String: HostTensor]()
        for node in graph.parameterNodes {
            guard case let .parameter(name, dims) = node.op, names?.contains(name) ?? true else { continue }
            let shape = dims.map { $0.constantValue ?? 0 }
            let tensor = HostTensor(.f32, shape: shape)
            let stream = Philox(seed: seed, step: 0, node: Philox.key(name))
            func uniform(_ bound: Float) { stream.fillUniform(tensor.floats, count: tensor.count, low: -bound, high: bound) }
            func constant(_ value: Float) { tensor.floats.update(repeating: value, count: tensor.count) }
            /// The constant shape of the reader's weight (its input 1).
            func weightShape(_ reader: Node) -> [Int] { graph[reader.inputs[1]].type.shape.map { $0.constantValue ?? 0 } }
            if let (reader, slot) = reader[node.outputs[0]] {
                switch reader.op {
                case .linear: uniform(1 / Float(max(1, weightShape(reader)[1])).squareRoot())
                case .conv1d:
                    let weight = weightShape(reader)
                    uniform(1 / Float(max(1, weight[1] * weight[2])).squareRoot())
                case .layerNorm, .groupNorm: constant(slot == 1 ? 1 : 0)
                case .weightNorm:
                    // v like the convolution's weight ([out, in / groups, kernel]); g is set from v below.
                    uniform(1 / Float(max(1, shape.dropFirst().reduce(1, *))).squareRoot())
                case let .lstm(hidden): uniform(1 / Float(max(1, hidden)).squareRoot())
                case .timeMask: stream.fillUniform(tensor.floats, count: tensor.count, low: 0, high: 1)
                case .cosineSimilarity: uniform(1 / Float(max(1, shape.last ?? 1)).squareRoot())
                default: stream.fillNormal(tensor.floats, count: tensor.count, mean: 0, std: 0.02)
                }
            } else {
                stream.fillNormal(tensor.floats, count: tensor.count, mean: 0, std: 0.02)
            }
            result[name] = tensor
        }
        // Weight-norm gains: the norm of v over every axis but the kept one, so that w = v at the start.
        for node in graph.nodes {
            guard case let .weightNorm(axis) = node.op else { continue }
            guard case let .parameter(vName, _) = graph.producer(of: node.inputs[0]).op,
                  case let .parameter(gName, _) = graph.producer(of: node.inputs[1]).op,
                  let v = result[vName], let g = result[gName] else { continue }
            let kept = axis < 0 ? axis + v.shape.count : axis
            let outer = v.shape[..<kept].reduce(1, *), size = v.shape[kept], inner = v.shape[(kept + 1)...].reduce(1, *)
            for k in 0..<size {
                var sum: Float = 0
                for o in 0..<outer {
                    for i in 0..<inner { let value = v.floats[(o * size + k) * inner + i]; sum += value * value }
                }
                if k < g.count { g.floats[k] = sum.squareRoot() }
            }
        }
        return result
    }
}

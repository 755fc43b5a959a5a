import GraphIR

/// The graph of a k-means stage: the model's nodes its taps need, and one `kmeans_assign` node per tap and K, whose
/// centroids are a (fitted, not trained) parameter `<stage>.<tap>.k<K>.centroids` `[K, D]`. Outputs are the
/// pseudo-label targets (`pseudo_labels.hidden.6.k64`, i32 `[B, T]`), the names training stages read them by.
public struct PseudoLabelGraph: Sendable {
    public var graph: Graph
    /// (target, tap, K, centroids parameter) per output, in stage order.
    public var targets: [(target: String, tap: String, k: Int, centroids: String)]

    /// The centroids parameter of a pseudo-label target.
    public static func centroidsName(of target: String) -> String { target + ".centroids" }

    public init(model: Graph, settings: PseudoLabelSettings) throws(CompileError) {
        let stage = (name: settings.stage, location: settings.location)
        var builder = GraphBuilder(extending: model)
        var outputs = [NamedValue]()
        var targets = [(target: String, tap: String, k: Int, centroids: String)]()
        for tap in settings.taps {
            guard let value = model.taps.first(where: { $0.name == tap })?.value, model[value].type.rank == 3,
                  let width = model[value].type.shape.last else {
                throw CompileError("k-means tap '\(tap)' must be a [B, T, D] tap of the model", at: stage.location)
            }
            for k in settings.k {
                let target = "\(stage.name).\(tap).k\(k)"
                let centroids = Self.centroidsName(of: target)
                let parameter = builder.parameter(centroids, shape: [Dim(k), width], scope: [stage.name], at: stage.location)
                let labels = builder.add(.kmeansAssign, [value, parameter], name: target, scope: [stage.name], at: stage.location)[0]
                outputs.append(NamedValue(target, labels, at: stage.location))
                targets.append((target, tap, k, centroids))
            }
        }
        builder.setOutputs(outputs, taps: model.taps.filter { settings.taps.contains($0.name) })
        do { graph = try builder.finish().subgraph(computing: outputs.map(\.value)) } catch { throw CompileError(error.diagnostics) }
        self.targets = targets
    }
}

import Compiler
import GraphIR
import Runtime
import Testing

extension GraphBuilder {
    /// Appends the backward pass of `loss` (gradients for the parameters `trains` accepts) and finishes the graph,
    /// with the loss and every gradient (`grad.NAME`) as outputs.
    mutating func finishTraining(loss: ValueID, trains: (String) -> Bool = { _ in true }, taps: [NamedValue] = []) throws -> Graph {
        let gradients = try Autodiff.appendGradients(of: loss, to: &self, isTrainable: trains)
        setOutputs([NamedValue("loss", loss)] + gradients.map { NamedValue("grad.\($0.name)", $0.gradient) }, taps: taps)
        return try finish()
    }
}

/// Runs `graph` through its optimised and its plain (`optimize: false`) plans and expects every fetched value to
/// be the same, bit for bit.
func expectOptimizedBitwisePlain(
    _ graph: Graph, inputs: [String: HostTensor], parameters: [String: HostTensor], fetch: [String], mode: RunMode,
    sourceLocation: Testing.SourceLocation = #_sourceLocation
) throws {
    let a = try Interpreter(graph: graph).run(inputs: inputs, parameters: parameters, fetch: fetch, mode: mode)
    let b = try Interpreter(graph: graph, optimize: false).run(inputs: inputs, parameters: parameters, fetch: fetch, mode: mode)
    for name in fetch {
        let x = try #require(a[name], sourceLocation: sourceLocation), y = try #require(b[name], sourceLocation: sourceLocation)
        #expect(x.floatArray.map(\.bitPattern) == y.floatArray.map(\.bitPattern), "\(mode): \(name)", sourceLocation: sourceLocation)
    }
}

import GraphIR

/// The entry point of the graph language: a spec file (plus `--set` overrides) in, a typed graph out, or every
/// problem found with its file:line:column.
public enum SpecCompiler {
    /// Reads, checks and lowers the spec at `path`.
    public static func compile(path: String, overrides: [String] = []) throws(SpecError) -> Graph {
        let root = try YAMLReader.read(contentsOf: path)
        return try compile(root, file: path, overrides: overrides)
    }

    /// Reads, checks and lowers spec text (`file` names it in messages).
    public static func compile(text: String, file: String, overrides: [String] = []) throws(SpecError) -> Graph {
        let root = try YAMLReader.parse(text, file: file)
        return try compile(root, file: file, overrides: overrides)
    }

    static func compile(_ root: YAMLNode, file: String, overrides: [String]) throws(SpecError) -> Graph {
        let sink = DiagnosticSink()
        let spec = SpecDecoder(sink: sink).decode(root, file: file)
        let config = ConfigTable(spec?.config, sink: sink)
        config.apply(overrides: overrides, sink: sink)
        guard let spec, spec.inputsComplete else { try sink.check(); throw SpecError("the spec could not be read") }
        var lowering = Lowering(spec: spec, config: config, sink: sink)
        let graph = lowering.run()
        try sink.check()
        guard let graph else { throw SpecError("the spec could not be lowered") }
        let problems = graph.verify()
        guard problems.isEmpty else { throw SpecError(problems) }
        return graph
    }
}

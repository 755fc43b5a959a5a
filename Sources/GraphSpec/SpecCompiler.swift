import GraphIR

/// A compiled spec: the typed graph and the checked schedule.
public struct CompiledSpec: Sendable {
    public var graph: Graph
    public var stages: [Stage]
    /// The classes and label map of `config.data`, when the spec has them.
    public var data: DataSettings?
}

/// The entry point of the graph language: a spec file (plus `--set` overrides) in, a typed graph out, or every
/// problem found with its file:line:column.
public enum SpecCompiler {
    /// Reads, checks and lowers the spec at `path`.
    public static func compile(path: String, overrides: [String] = []) throws(SpecError) -> CompiledSpec {
        let root = try YAMLReader.read(contentsOf: path)
        return try compile(root, file: path, overrides: overrides)
    }

    /// Reads, checks and lowers spec text (`file` names it in messages).
    public static func compile(text: String, file: String, overrides: [String] = []) throws(SpecError) -> CompiledSpec {
        let root = try YAMLReader.parse(text, file: file)
        return try compile(root, file: file, overrides: overrides)
    }

    static func compile(_ root: YAMLNode, file: String, overrides: [String]) throws(SpecError) -> CompiledSpec {
        let sink = DiagnosticSink()
        let spec = SpecDecoder(sink: sink).decode(root, file: file)
        let config = ConfigTable(spec?.config, sink: sink)
        guard let spec, spec.inputsComplete else { try sink.check(); throw SpecError("the spec could not be read") }
        var modules = [Module(spec: spec, configPrefix: "", imports: [:])]
        loadImports(of: 0, modules: &modules, config: config, stack: [file], sink: sink)
        config.apply(overrides: overrides, sink: sink)
        guard modules.allSatisfy(\.spec.inputsComplete) else { try sink.check(); throw SpecError("an imported spec could not be read") }
        var lowering = Lowering(modules: modules, config: config, sink: sink)
        let graph = lowering.run()
        try sink.check()
        guard let graph else { throw SpecError("the spec could not be lowered") }
        let problems = graph.verify()
        guard problems.isEmpty else { throw SpecError(problems) }
        let scope = LoweringScope(config: config, prefix: "", locals: [:], symbols: [])
        let stages = StageDecoder(graph: graph, scope: scope, sink: sink).decode(spec.stages)
        let data = DataSettings.read(config, sink: sink)
        try sink.check()
        return CompiledSpec(graph: graph, stages: stages, data: data)
    }

    /// Reads the specs a module imports (paths relative to the importing file), recursively; an import cycle or an
    /// unreadable file is reported at the import.
    static func loadImports(of index: Int, modules: inout [Module], config: ConfigTable, stack: [String], sink: DiagnosticSink) {
        let importer = modules[index]
        for item in importer.spec.imports {
            let path = resolve(item.path, relativeTo: importer.spec.file)
            let keyPath = "imports.\(item.alias)"
            if stack.contains(path) {
                sink.error("import cycle: \((stack + [path]).joined(separator: " -> "))", at: item.node, keyPath: keyPath)
                continue
            }
            guard modules.count < SpecLimits.modules else {
                sink.error("more than \(SpecLimits.modules) spec files would be read (an import of a spec that imports others counts each time)",
                           at: item.node, keyPath: keyPath)
                return
            }
            let root: YAMLNode
            do {
                root = try YAMLReader.read(contentsOf: path)
            } catch {
                sink.absorb(error, keyPath: keyPath, at: item.node.location)
                continue
            }
            guard let spec = SpecDecoder(sink: sink).decode(root, file: path) else { continue }
            let prefix = importer.configPrefix + item.alias
            config.merge(spec.config, prefix: prefix, sink: sink)
            modules.append(Module(spec: spec, configPrefix: prefix + ".", imports: [:]))
            let imported = modules.count - 1
            modules[index].imports[item.alias] = imported
            loadImports(of: imported, modules: &modules, config: config, stack: stack + [path], sink: sink)
        }
    }

    /// `path` relative to the directory of `file` (unless absolute).
    static func resolve(_ path: String, relativeTo file: String) -> String {
        guard !path.hasPrefix("/"), let slash = file.lastIndex(of: "/") else { return path }
        return String(file[...slash]) + path
    }
}

import GraphIR

/// Collects the problems found while reading and lowering a spec, so that independent errors are reported
/// together. A reference type: every reader and lowering step shares one.
final class DiagnosticSink {
    private(set) var diagnostics: [Diagnostic] = []

    var isEmpty: Bool { diagnostics.isEmpty }

    /// Adds a diagnostic unless the same one is already there: an error inside a block body would otherwise be
    /// reported once per instance of the block.
    func report(_ diagnostic: Diagnostic) {
        if !diagnostics.contains(diagnostic) { diagnostics.append(diagnostic) }
    }

    func error(_ message: String, at node: YAMLNode?, keyPath: String, hint: String? = nil, notes: [Diagnostic.Note] = []) {
        report(Diagnostic(message, at: node?.location, keyPath: keyPath, hint: hint, notes: notes))
    }

    /// Adds an error's diagnostics, giving those without a key path or a place these.
    func absorb(_ error: SpecError, keyPath: String? = nil, at location: SourceLocation? = nil) {
        for var diagnostic in error.diagnostics {
            if diagnostic.keyPath == nil { diagnostic.keyPath = keyPath }
            if diagnostic.location == nil { diagnostic.location = location }
            report(diagnostic)
        }
    }

    /// Throws everything collected, if anything.
    func check() throws(SpecError) {
        guard diagnostics.isEmpty else { throw SpecError(diagnostics) }
    }
}

/// Reads the keys of one YAML mapping: each key read is marked, and `finish` reports the keys nobody read as
/// unknown, with a did-you-mean among the keys the mapping may have.
struct MappingReader {
    let node: YAMLNode
    let keyPath: String
    let sink: DiagnosticSink
    private(set) var allowed: [String] = []

    /// Nil (and a reported error) when `node` is not a mapping.
    init?(_ node: YAMLNode, keyPath: String, sink: DiagnosticSink, what: String) {
        guard node.entries != nil else {
            sink.error("\(what) must be a mapping (key: value), got \(node.kindDescription)", at: node, keyPath: keyPath)
            return nil
        }
        self.node = node
        self.keyPath = keyPath
        self.sink = sink
    }

    func path(_ key: String) -> String { keyPath.isEmpty ? key : "\(keyPath).\(key)" }

    /// The value of an optional key.
    mutating func optional(_ key: String) -> YAMLNode? {
        allowed.append(key)
        return node.value(forKey: key)
    }

    /// The value of a required key; reports it missing otherwise.
    mutating func required(_ key: String, what: String) -> YAMLNode? {
        allowed.append(key)
        guard let value = node.value(forKey: key) else {
            sink.error("missing '\(key)': \(what)", at: node, keyPath: keyPath)
            return nil
        }
        return value
    }

    /// Marks keys as allowed without reading them (read elsewhere).
    mutating func allow(_ keys: [String]) { allowed += keys }

    /// Reports every key that was not read.
    func finish(context: String) {
        for entry in node.entries ?? [] {
            guard let key = entry.key.scalar, !allowed.contains(key) else { continue }
            sink.error("unknown key '\(key)' in \(context)", at: entry.key, keyPath: path(key),
                       hint: Suggestion.hint(for: key, in: allowed) ?? "valid keys: \(allowed.joined(separator: ", "))")
        }
    }
}

import GraphIR

/// The classes of an experiment and how a corpus's labels map onto them, from a spec's config: `data.classes` (the
/// class names in the classifier's output order) and `data.labels.<corpus label>` (a class name each). The data
/// layer reads corpora with them, so class names and their order come from the spec, not from code.
public struct DataSettings: Hashable, Sendable {
    public var classes: [String]
    public var labels: [String: String]

    /// The settings in `config`, nil when it has no `data.classes`; problems go to the sink.
    static func read(_ config: ConfigTable, sink: DiagnosticSink) -> DataSettings? {
        let value: ConfigValue?
        do { value = try config.value(of: "data.classes") } catch {
            sink.absorb(error, keyPath: "config.data.classes")
            return nil
        }
        guard let value else { return nil }
        guard case let .list(items) = value, !items.isEmpty,
              case let names = items.compactMap(\.stringValue), names.count == items.count, Set(names).count == names.count else {
            sink.report(Diagnostic("data.classes must be a list of distinct class names, got \(value)",
                                   at: config.location(of: "data.classes"), keyPath: "config.data.classes"))
            return nil
        }
        var labels = [String: String]()
        for key in config.keys where key.hasPrefix("data.labels.") {
            let label = String(key.dropFirst("data.labels.".count))
            do {
                guard let name = try config.value(of: key)?.stringValue, names.contains(name) else {
                    sink.report(Diagnostic("data.labels.\(label) must name one of the classes \(names.joined(separator: ", "))",
                                           at: config.location(of: key), keyPath: "config.\(key)"))
                    continue
                }
                labels[label] = name
            } catch {
                sink.absorb(error, keyPath: "config.\(key)")
            }
        }
        if labels.isEmpty { for name in names { labels[name] = name } }
        return DataSettings(classes: names, labels: labels)
    }
}

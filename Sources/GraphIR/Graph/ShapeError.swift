/// The error of building or checking a graph: ops whose inputs do not fit, each pointing at the node that made
/// the bad value and showing the shapes involved.
public struct ShapeError: DiagnosticError, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

    public var description: String { Diagnostic.render(self) }
}

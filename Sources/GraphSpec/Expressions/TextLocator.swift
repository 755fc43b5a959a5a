import GraphIR

/// Where each character of a YAML value is in its file: the value's start location plus the character's offset,
/// counted in Unicode scalars (as libyaml counts columns).
///
/// A value is on one line; a value that holds a line break (a block scalar, a folded plain scalar) has no reliable
/// column for its characters, so every offset maps to the value's start.
struct TextLocator {
    let start: SourceLocation
    let isSingleLine: Bool

    init(_ scalars: [Unicode.Scalar], start: SourceLocation) {
        self.start = start
        isSingleLine = !scalars.contains { $0 == "\n" || $0 == "\r" }
    }

    func location(at offset: Int) -> SourceLocation {
        guard isSingleLine else { return start }
        let (column, overflow) = start.column.addingReportingOverflow(offset)
        guard !overflow else { return start }
        var location = start
        location.column = column
        return location
    }

    /// The text of `scalars[start..<end]`, the range clamped to the array's bounds.
    static func text(_ scalars: [Unicode.Scalar], from start: Int, to end: Int) -> String {
        let lower = max(0, min(start, scalars.count))
        let upper = max(lower, min(end, scalars.count))
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[lower..<upper])
        return String(view)
    }
}

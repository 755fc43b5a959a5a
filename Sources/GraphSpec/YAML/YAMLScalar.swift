/// The text of a scalar node and how it was written.
///
/// The style matters for typing: a plain `123` is a number, a quoted `"123"` stays a string (see `YAMLNode.int`).
public struct YAMLScalar: Hashable, Sendable {
    public enum Style: Hashable, Sendable {
        /// `value`
        case plain
        /// `'value'`
        case singleQuoted
        /// `"value"`
        case doubleQuoted
        /// `|` block
        case literal
        /// `>` block
        case folded
    }

    /// The scalar's value after escapes, folding and chomping (what the text means, not how it was written).
    public var text: String
    public var style: Style

    public init(_ text: String, style: Style = .plain) {
        self.text = text
        self.style = style
    }
}

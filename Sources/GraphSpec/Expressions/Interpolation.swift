import GraphIR

/// A string value with embedded expressions.
///
/// Two forms:
/// - `${expr}` in config and attribute values. A value that is exactly one `${...}` keeps the expression's type
///   (`"${hidden * 4}"` is the integer 3072); text with embedded parts is a string (`"layer ${i}"`).
/// - `{expr}` in name templates: parameter scopes and tap names (`encoder.layers.{i}`, `hidden.{i + 1}`); the
///   result is always a string.
///
/// Values print as `ConfigValue.description` shows them. There is no escape for a literal `${` (or, in a template,
/// `{`); an unclosed one is an error at its column, and so is a `}` without a `{` in a template.
public struct Interpolation: Hashable, Sendable {
    public enum Style: Hashable, Sendable {
        /// `${expr}`.
        case dollar
        /// `{expr}`.
        case braces
    }

    public enum Segment: Hashable, Sendable {
        case text(String)
        case expression(Expression)
    }

    /// Text and expressions in order; adjacent text is one segment, and there are no empty text segments.
    public var segments: [Segment]

    /// Parses `text`, whose first character is at `location` in the file.
    public init(parsing text: String, at location: SourceLocation, style: Style = .dollar) throws(SpecError) {
        let scalars = Array(text.unicodeScalars)
        segments = try Self.segments(
            scalars, locator: TextLocator(scalars, start: location), style: style, skippingErrors: false)
    }

    /// Whether the text has any `${` (a quick test before parsing).
    public static func containsInterpolation(_ text: String) -> Bool {
        var previous: Unicode.Scalar?
        for scalar in text.unicodeScalars {
            if previous == "$", scalar == "{" { return true }
            previous = scalar
        }
        return false
    }

    // MARK: - Evaluation

    /// The value: the expression's own value when the text is exactly one expression, otherwise the string made of
    /// the text and the expressions' values.
    public func evaluate(in scope: some ExpressionScope) throws(SpecError) -> ConfigValue {
        if segments.count == 1, case let .expression(expression) = segments[0] {
            return try expression.evaluate(in: scope)
        }
        return .string(try expand(in: scope))
    }

    /// The string made of the text and the expressions' values.
    public func expand(in scope: some ExpressionScope) throws(SpecError) -> String {
        var result = ""
        for segment in segments {
            switch segment {
            case let .text(text): result += text
            case let .expression(expression):
                // Sized before it is written out: a nested list's text can be exponentially longer than its storage.
                let value = try expression.evaluate(in: scope).checkedSize(at: expression.startLocation)
                result += value.description
                guard result.utf8.count <= SpecLimits.valueSize else {
                    throw SpecError("this text is too long: past the limit of \(SpecLimits.valueSize) characters",
                                    at: expression.startLocation)
                }
            }
        }
        return result
    }

    /// The names the expressions mention, each once, in order.
    public var references: [String] {
        var seen = Set<String>()
        var names = [String]()
        for case let .expression(expression) in segments {
            for name in expression.names where seen.insert(name).inserted { names.append(name) }
        }
        return names
    }

    // MARK: - One-shot forms

    /// The value of a `${...}` string (see `evaluate(in:)`); a string without `${` is itself.
    public static func evaluate(
        _ text: String, at location: SourceLocation, scope: some ExpressionScope
    ) throws(SpecError) -> ConfigValue {
        try Interpolation(parsing: text, at: location, style: .dollar).evaluate(in: scope)
    }

    /// A `{...}` name template expanded: `encoder.layers.{i}` with `i = 3` is `encoder.layers.3`.
    public static func expandTemplate(
        _ text: String, at location: SourceLocation, scope: some ExpressionScope
    ) throws(SpecError) -> String {
        try Interpolation(parsing: text, at: location, style: .braces).expand(in: scope)
    }

    /// The names the `${...}` parts of `text` mention, each once, in order, for ordering config keys and finding
    /// cycles. Parts that do not parse are skipped (evaluating the text reports them).
    public static func references(in text: String) -> [String] {
        references(in: text, style: .dollar)
    }

    /// The names the `{...}` parts of a name template mention.
    public static func references(inTemplate text: String) -> [String] {
        references(in: text, style: .braces)
    }

    private static func references(in text: String, style: Style) -> [String] {
        let scalars = Array(text.unicodeScalars)
        let locator = TextLocator(scalars, start: SourceLocation(file: "", line: 1, column: 1))
        // Cannot throw while skipping errors.
        let segments = (try? Self.segments(scalars, locator: locator, style: style, skippingErrors: true)) ?? []
        return Interpolation(segments: segments).references
    }

    private init(segments: [Segment]) { self.segments = segments }

    // MARK: - Parsing

    private static func segments(
        _ scalars: [Unicode.Scalar], locator: TextLocator, style: Style, skippingErrors: Bool
    ) throws(SpecError) -> [Segment] {
        var segments = [Segment]()
        var literal = String.UnicodeScalarView()
        var position = 0
        while position < scalars.count {
            let scalar = scalars[position]
            let openerLength: Int
            switch style {
            case .dollar:
                openerLength = scalar == "$" && position + 1 < scalars.count && scalars[position + 1] == "{" ? 2 : 0
            case .braces:
                if scalar == "}", !skippingErrors {
                    throw SpecError(
                        "unmatched '}'", at: locator.location(at: position),
                        hint: "a name template's expressions are written '{expr}'")
                }
                openerLength = scalar == "{" ? 1 : 0
            }
            guard openerLength > 0 else {
                literal.append(scalar)
                position += 1
                continue
            }
            do {
                let (expression, end) = try ExpressionParser.parseEmbedded(
                    scalars, openerOffset: position, openerLength: openerLength, locator: locator)
                if !literal.isEmpty {
                    segments.append(.text(String(literal)))
                    literal = String.UnicodeScalarView()
                }
                segments.append(.expression(expression))
                position = end
            } catch {
                guard skippingErrors else { throw error }
                literal.append(contentsOf: scalars[position..<position + openerLength])
                position += openerLength
            }
        }
        if !literal.isEmpty { segments.append(.text(String(literal))) }
        return segments
    }
}

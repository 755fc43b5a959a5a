import GraphIR

/// A value in a spec's config: what a YAML scalar or list holds once read, and what an expression evaluates to.
///
/// `.dim` is a symbolic dimension: the value of an expression that mentions a shape symbol (`${S * 2 + 1}` with
/// `S` the sequence length), kept exact so that the shape checker can compare it with the shapes it infers.
public enum ConfigValue: Hashable, Sendable, CustomStringConvertible {
    case int(Int)
    case double(Double)
    case string(String)
    case bool(Bool)
    case list([ConfigValue])
    case dim(Dim)

    /// The kind of value, for messages: "integer", "number", "string", "boolean", "list", "dimension".
    public var typeName: String {
        switch self {
        case .int: "integer"
        case .double: "number"
        case .string: "string"
        case .bool: "boolean"
        case .list: "list"
        case .dim: "dimension"
        }
    }

    /// The value's size as `SpecLimits.valueSize` counts it: one for each value, nested lists counted whole, plus
    /// the UTF-8 bytes of its strings. Counting stops past `limit`, so a list made of copies of itself (shared
    /// storage, exponentially large when walked) costs at most `limit` steps.
    func size(upTo limit: Int) -> Int {
        var total = 0
        func visit(_ value: ConfigValue) {
            total += 1
            switch value {
            case let .string(text): total += text.utf8.count
            case let .list(items):
                for item in items {
                    guard total <= limit else { return }
                    visit(item)
                }
            default: break
            }
        }
        visit(self)
        return total
    }

    /// The value, or an error at `location` when its size is past `SpecLimits.valueSize`.
    func checkedSize(at location: SourceLocation) throws(SpecError) -> ConfigValue {
        guard size(upTo: SpecLimits.valueSize) <= SpecLimits.valueSize else {
            throw SpecError("this value is too large: \(typeNameWithArticle) past the limit of \(SpecLimits.valueSize) items and characters",
                            at: location)
        }
        return self
    }

    /// The type name with its article, for sentences: "an integer", "a string".
    var typeNameWithArticle: String {
        if case .int = self { return "an integer" }
        return "a \(typeName)"
    }

    /// The value as it would be written back: `3072`, `0.5`, `1e-5`, `layer` (strings as they are, unquoted),
    /// `true`, `[1, 2]`, `2 * S + 1`.
    public var description: String {
        switch self {
        case let .int(value): String(value)
        case let .double(value): Self.format(value)
        case let .string(value): value
        case let .bool(value): value ? "true" : "false"
        case let .list(values): "[" + values.map(\.description).joined(separator: ", ") + "]"
        case let .dim(value): value.description
        }
    }

    // MARK: - Conversions

    /// An integer, or a dimension without symbols; nil for anything else (a number is not silently truncated).
    public var intValue: Int? {
        switch self {
        case let .int(value): value
        case let .dim(value): value.constantValue
        default: nil
        }
    }

    /// A number; integers (and dimensions without symbols) widen.
    public var doubleValue: Double? {
        switch self {
        case let .double(value): value
        case let .int(value): Double(value)
        case let .dim(value): value.constantValue.map(Double.init)
        default: nil
        }
    }

    public var stringValue: String? {
        if case let .string(value) = self { return value }
        return nil
    }

    public var boolValue: Bool? {
        if case let .bool(value) = self { return value }
        return nil
    }

    public var listValue: [ConfigValue]? {
        if case let .list(values) = self { return values }
        return nil
    }

    /// A dimension; integers become constant dimensions.
    public var dimValue: Dim? {
        switch self {
        case let .dim(value): value
        case let .int(value): Dim(value)
        default: nil
        }
    }

    // MARK: - Text of numbers

    /// The shortest text that reads back as the same double, always with a `.` or an exponent so that it reads back
    /// as a number and not an integer: `0.5`, `3.0`, `1e-5`, `1e+20`; `inf`, `-inf` and `nan` for the rest.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        let text = value.description  // shortest round-trip digits: "1e-05", "3.0", "1e+20"
        guard let e = text.firstIndex(of: "e") else { return text }
        var exponent = text[text.index(after: e)...]
        var sign = ""
        if let first = exponent.first, first == "-" || first == "+" {
            sign = String(first)
            exponent = exponent.dropFirst()
        }
        let digits = exponent.drop { $0 == "0" }
        return text[..<e] + "e" + sign + (digits.isEmpty ? "0" : String(digits))
    }
}

extension ConfigValue: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral
{
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: ConfigValue...) { self = .list(elements) }
}

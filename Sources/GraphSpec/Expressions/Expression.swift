import GraphIR

/// The syntax tree of an expression in a spec value: the inside of `${...}` (or of `{...}` in a name template).
///
/// Every node keeps the source location of its own token — a literal or name, the operator of a binary or unary
/// expression, the `[` of a list or an index, the name of a called function — so that evaluation errors point at
/// the exact column in the YAML file. `startLocation` is where the whole subexpression begins.
public indirect enum Expression: Hashable, Sendable, CustomStringConvertible {
    case integer(Int, at: SourceLocation)
    case number(Double, at: SourceLocation)
    case string(String, at: SourceLocation)
    case boolean(Bool, at: SourceLocation)
    /// A name or dotted name (`heads`, `encoder.hidden`, `i`), looked up through the scope.
    case name(String, at: SourceLocation)
    /// `[a, b]`; the location is the `[`.
    case list([Expression], at: SourceLocation)
    /// `base[index]`; the location is the `[`.
    case index(Expression, Expression, at: SourceLocation)
    /// `-operand`; the location is the `-`.
    case negate(Expression, at: SourceLocation)
    /// `lhs op rhs`; the location is the operator.
    case binary(BinaryOperator, Expression, Expression, at: SourceLocation)
    /// `min(a, b)`; the location is the function's name.
    case call(Function, [Expression], at: SourceLocation)

    /// The arithmetic operators, tightest last: `+ -`, then `* / // %`.
    public enum BinaryOperator: String, Hashable, Sendable, CaseIterable {
        case add = "+"
        case subtract = "-"
        case multiply = "*"
        /// `/`: an integer when both operands are integers and the division is exact (`768 / 12` is `64`), a
        /// number otherwise (`1 / 2` is `0.5`).
        case divide = "/"
        /// `//`: floor division, rounding toward negative infinity (`-7 // 2` is `-4`); a dimension may be
        /// floor-divided by a positive integer.
        case floorDivide = "//"
        /// `%`: the remainder of floor division, with the sign of the divisor (`-7 % 2` is `1`).
        case remainder = "%"

        var precedence: Int {
            switch self {
            case .add, .subtract: 1
            case .multiply, .divide, .floorDivide, .remainder: 2
            }
        }
    }

    /// The functions an expression may call.
    public enum Function: String, Hashable, Sendable, CaseIterable {
        /// `min(a, b, ...)` or `min(list)`: the smallest of some numbers.
        case min
        /// `max(a, b, ...)` or `max(list)`: the largest of some numbers.
        case max
        /// `int(x)`: a number truncated toward zero, a boolean as 0 or 1, a string of digits, a constant dimension.
        case int
        /// `len(x)`: the number of elements of a list or characters of a string.
        case len
        /// `not(x)`: the negation of a boolean (for switches: `when: "${not(stage2_cross_entropy)}"`).
        case not
        /// `all(a, b, ...)`: whether every argument (booleans) is true.
        case all
        /// `any(a, b, ...)`: whether some argument (booleans) is true.
        case any
        /// `choose(condition, a, b)`: `a` when the boolean `condition` is true, `b` otherwise (for switches that
        /// change a list: `choose(multi_scale, k, [k[0]])`).
        case choose
    }

    /// The location of the node's own token.
    public var location: SourceLocation {
        switch self {
        case let .integer(_, location), let .number(_, location), let .string(_, location),
            let .boolean(_, location), let .name(_, location), let .list(_, location), let .index(_, _, location),
            let .negate(_, location), let .binary(_, _, _, location), let .call(_, _, location):
            location
        }
    }

    /// Where the subexpression begins: the left operand's start for a binary expression or an index.
    public var startLocation: SourceLocation {
        switch self {
        case let .index(base, _, _): base.startLocation
        case let .binary(_, lhs, _, _): lhs.startLocation
        default: location
        }
    }

    /// The names the expression mentions, each once, in source order (function names are not names).
    public var names: [String] {
        var seen = Set<String>()
        var names = [String]()
        func visit(_ expression: Expression) {
            switch expression {
            case .integer, .number, .string, .boolean: break
            case let .name(name, _): if seen.insert(name).inserted { names.append(name) }
            case let .list(elements, _): elements.forEach(visit)
            case let .index(base, index, _): visit(base); visit(index)
            case let .negate(operand, _): visit(operand)
            case let .binary(_, lhs, rhs, _): visit(lhs); visit(rhs)
            case let .call(_, arguments, _): arguments.forEach(visit)
            }
        }
        visit(self)
        return names
    }

    /// The expression as text that parses back to it, with parentheses around every compound operand:
    /// `1 + (2 * 3)`, `-(a + b)`, `xs[i + 1]`, `min(a, 'b')`.
    public var description: String {
        switch self {
        case let .integer(value, _): String(value)
        case let .number(value, _): ConfigValue.format(value)
        case let .string(value, _):
            "'" + value.unicodeScalars.map { $0 == "'" || $0 == "\\" ? "\\\($0)" : "\($0)" }.joined() + "'"
        case let .boolean(value, _): value ? "true" : "false"
        case let .name(name, _): name
        case let .list(elements, _): "[" + elements.map(\.description).joined(separator: ", ") + "]"
        case let .index(base, index, _): base.operandDescription + "[" + index.description + "]"
        case let .negate(operand, _): "-" + operand.operandDescription
        case let .binary(op, lhs, rhs, _): "\(lhs.operandDescription) \(op.rawValue) \(rhs.operandDescription)"
        case let .call(function, arguments, _):
            function.rawValue + "(" + arguments.map(\.description).joined(separator: ", ") + ")"
        }
    }

    private var operandDescription: String {
        switch self {
        case .binary, .negate: "(\(description))"
        case let .integer(value, _) where value < 0: "(\(description))"
        case let .number(value, _) where value.sign == .minus: "(\(description))"
        default: description
        }
    }
}

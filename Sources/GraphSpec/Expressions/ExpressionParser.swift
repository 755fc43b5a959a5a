import GraphIR

/// Parses the expressions of spec values: the inside of `${...}`, and of `{...}` in name templates.
///
///     expression := term (('+' | '-') term)*
///     term       := unary (('*' | '/' | '//' | '%') unary)*
///     unary      := '-' unary | postfix
///     postfix    := primary ('[' expression ']')*
///     primary    := integer | number | string | 'true' | 'false' | name | name '(' elements ')'
///                 | '(' expression ')' | '[' elements ']'
///     elements   := (expression (',' expression)* ','?)?
///
/// Binary operators associate to the left (`a - b - c` is `(a - b) - c`). Errors are `SpecError`s at the column of
/// the problem: the caller passes where the text starts, and a character's column is that plus its offset.
/// Nesting (parentheses, brackets, calls, unary minus and the depth of the tree) is limited to `maximumDepth`.
public struct ExpressionParser {
    /// How deeply an expression may nest before it is rejected.
    public static let maximumDepth = 200

    /// A parsed subexpression with the depth of its tree and the offset where its text begins.
    private struct Node {
        var expression: Expression
        var depth: Int
        var start: Int
    }

    private var lexer: ExpressionLexer
    private var token: ExpressionToken
    /// The end of the last token consumed.
    private var previousEnd: Int
    /// Where the expression's text begins, for the "after '...'" part of messages.
    private let expressionStart: Int
    /// `${` or `{` when the expression is embedded in a string and ends at `}`.
    private let opener: String?
    private var nesting = 0

    private init(scalars: [Unicode.Scalar], start: Int, locator: TextLocator, opener: String?) {
        lexer = ExpressionLexer(scalars: scalars, start: start, locator: locator)
        token = ExpressionToken(kind: .end, start: start, end: start)
        previousEnd = start
        expressionStart = start
        self.opener = opener
    }

    /// Parses a whole string as one expression; `location` is where the string's first character is in the file.
    public static func parse(_ text: String, at location: SourceLocation) throws(SpecError) -> Expression {
        let scalars = Array(text.unicodeScalars)
        var parser = ExpressionParser(
            scalars: scalars, start: 0, locator: TextLocator(scalars, start: location), opener: nil)
        try parser.advance()
        let node = try parser.parseExpression()
        guard parser.token.kind == .end else { throw parser.unexpectedToken() }
        return node.expression
    }

    /// Parses the expression that follows an opener (`${` or `{`, `openerLength` scalars at `openerOffset`) up to
    /// its `}`; returns the expression and the offset just past the `}`.
    static func parseEmbedded(
        _ scalars: [Unicode.Scalar], openerOffset: Int, openerLength: Int, locator: TextLocator
    ) throws(SpecError) -> (expression: Expression, end: Int) {
        let opener = TextLocator.text(scalars, from: openerOffset, to: openerOffset + openerLength)
        let unclosed = SpecError(
            "unclosed '\(opener)'", at: locator.location(at: openerOffset), hint: "end the expression with '}'")
        guard ExpressionLexer.closingBrace(in: scalars, from: openerOffset + openerLength) != nil else {
            throw unclosed
        }
        var parser = ExpressionParser(
            scalars: scalars, start: openerOffset + openerLength, locator: locator, opener: opener)
        try parser.advance()
        let node = try parser.parseExpression()
        switch parser.token.kind {
        case .rightBrace: return (node.expression, parser.token.end)
        case .end: throw unclosed
        default: throw parser.unexpectedToken()
        }
    }

    // MARK: - Grammar

    private mutating func parseExpression() throws(SpecError) -> Node {
        var left = try parseTerm()
        while let op = Self.binaryOperator(token.kind), op.precedence == 1 {
            let operatorToken = token
            try advance()
            let right = try parseTerm()
            left = try binary(op, left, right, operatorToken)
        }
        return left
    }

    private mutating func parseTerm() throws(SpecError) -> Node {
        var left = try parseUnary()
        while let op = Self.binaryOperator(token.kind), op.precedence == 2 {
            let operatorToken = token
            try advance()
            let right = try parseUnary()
            left = try binary(op, left, right, operatorToken)
        }
        return left
    }

    private mutating func binary(
        _ op: Expression.BinaryOperator, _ left: Node, _ right: Node, _ operatorToken: ExpressionToken
    ) throws(SpecError) -> Node {
        try node(
            .binary(op, left.expression, right.expression, at: locate(operatorToken.start)),
            depth: max(left.depth, right.depth) + 1, start: left.start, at: operatorToken.start)
    }

    private mutating func parseUnary() throws(SpecError) -> Node {
        guard token.kind == .minus else { return try parsePostfix() }
        let minus = token
        try enter(at: minus.start)
        try advance()
        let operand = try parseUnary()
        leave()
        return try node(
            .negate(operand.expression, at: locate(minus.start)), depth: operand.depth + 1, start: minus.start,
            at: minus.start)
    }

    private mutating func parsePostfix() throws(SpecError) -> Node {
        var base = try parsePrimary()
        while token.kind == .leftBracket {
            let bracket = token
            try enter(at: bracket.start)
            try advance()
            let index = try parseExpression()
            try expectClosing(.rightBracket, "']'", constructStart: base.start, inList: false)
            leave()
            base = try node(
                .index(base.expression, index.expression, at: locate(bracket.start)),
                depth: max(base.depth, index.depth) + 1, start: base.start, at: bracket.start)
        }
        return base
    }

    private mutating func parsePrimary() throws(SpecError) -> Node {
        let first = token
        let location = locate(first.start)
        switch first.kind {
        case let .integer(value):
            try advance()
            return Node(expression: .integer(value, at: location), depth: 1, start: first.start)
        case let .number(value):
            try advance()
            return Node(expression: .number(value, at: location), depth: 1, start: first.start)
        case let .string(value):
            try advance()
            return Node(expression: .string(value, at: location), depth: 1, start: first.start)
        case let .name(name):
            try advance()
            if name == "true" || name == "false" {
                return Node(expression: .boolean(name == "true", at: location), depth: 1, start: first.start)
            }
            if token.kind == .leftParen { return try parseCall(name, first) }
            return Node(expression: .name(name, at: location), depth: 1, start: first.start)
        case .leftParen:
            try enter(at: first.start)
            try advance()
            let inner = try parseExpression()
            try expectClosing(.rightParen, "')'", constructStart: first.start, inList: false)
            leave()
            return Node(expression: inner.expression, depth: inner.depth, start: first.start)
        case .leftBracket:
            try enter(at: first.start)
            try advance()
            let (elements, depth) = try parseElements(closing: .rightBracket, "']'", constructStart: first.start)
            leave()
            return try node(.list(elements, at: location), depth: depth + 1, start: first.start, at: first.start)
        default:
            throw expectedExpression()
        }
    }

    /// A call, with the current token the `(` after the function's name.
    private mutating func parseCall(_ name: String, _ nameToken: ExpressionToken) throws(SpecError) -> Node {
        let location = locate(nameToken.start)
        guard let function = Expression.Function(rawValue: name) else {
            throw SpecError(
                "unknown function '\(name)'", at: location,
                hint: Suggestion.hint(for: name, in: Expression.Function.allCases.map(\.rawValue)))
        }
        try enter(at: token.start)
        try advance()
        let (arguments, depth) = try parseElements(closing: .rightParen, "')'", constructStart: nameToken.start)
        leave()
        switch function {
        case .min, .max, .all, .any:
            guard !arguments.isEmpty else {
                throw SpecError("\(name)() needs at least one argument", at: location)
            }
        case .int, .len, .not:
            guard arguments.count == 1 else {
                throw SpecError("\(name)() takes one argument, not \(arguments.count)", at: location)
            }
        case .choose:
            guard arguments.count == 3 else {
                throw SpecError("choose() takes three arguments (a condition, its value when true, its value when false), not \(arguments.count)",
                                at: location)
            }
        }
        return try node(
            .call(function, arguments, at: location), depth: depth + 1, start: nameToken.start, at: nameToken.start)
    }

    /// Comma-separated expressions up to and including the closing token; a trailing comma is allowed.
    private mutating func parseElements(
        closing: ExpressionToken.Kind, _ closer: String, constructStart: Int
    ) throws(SpecError) -> (elements: [Expression], depth: Int) {
        var elements = [Expression]()
        var depth = 0
        while token.kind != closing, token.kind != .end, token.kind != .rightBrace {
            let element = try parseExpression()
            elements.append(element.expression)
            depth = max(depth, element.depth)
            guard token.kind == .comma else { break }
            try advance()
        }
        try expectClosing(closing, closer, constructStart: constructStart, inList: true)
        return (elements, depth)
    }

    // MARK: - Tokens

    private mutating func advance() throws(SpecError) {
        previousEnd = token.end
        token = try lexer.next()
    }

    private mutating func expectClosing(
        _ kind: ExpressionToken.Kind, _ closer: String, constructStart: Int, inList: Bool
    ) throws(SpecError) {
        if token.kind == kind {
            try advance()
            return
        }
        // Where the text (or the embedded expression) ends, the closer is what is missing; elsewhere in a list a
        // comma would also do.
        let atEnd = token.kind == .end || token.kind == .rightBrace
        let expected = atEnd || !inList ? closer : "',' or \(closer)"
        throw SpecError(
            "expected \(expected) after '\(snippet(from: constructStart))'", at: locate(token.start))
    }

    private static func binaryOperator(_ kind: ExpressionToken.Kind) -> Expression.BinaryOperator? {
        switch kind {
        case .plus: .add
        case .minus: .subtract
        case .star: .multiply
        case .slash: .divide
        case .slashSlash: .floorDivide
        case .percent: .remainder
        default: nil
        }
    }

    // MARK: - Depth

    private mutating func enter(at offset: Int) throws(SpecError) {
        nesting += 1
        guard nesting <= Self.maximumDepth else { throw tooDeep(at: offset) }
    }

    private mutating func leave() { nesting -= 1 }

    private func node(_ expression: Expression, depth: Int, start: Int, at offset: Int) throws(SpecError) -> Node {
        guard depth <= Self.maximumDepth else { throw tooDeep(at: offset) }
        return Node(expression: expression, depth: depth, start: start)
    }

    // MARK: - Errors

    private func locate(_ offset: Int) -> SourceLocation { lexer.locator.location(at: offset) }

    /// The source text from `start` to the end of the last token consumed, shortened from the left when long.
    private func snippet(from start: Int) -> String {
        let limit = 40
        let begin = max(start, previousEnd - limit)
        var text = Substring(TextLocator.text(lexer.scalars, from: begin, to: previousEnd))
        while let first = text.first, first.isWhitespace { text = text.dropFirst() }
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return begin > start ? "..." + text : String(text)
    }

    private func tokenText(_ token: ExpressionToken) -> String {
        if token.kind == .end { return "end of expression" }
        return "'\(TextLocator.text(lexer.scalars, from: token.start, to: token.end))'"
    }

    private func expectedExpression() -> SpecError {
        let before = snippet(from: expressionStart)
        let message =
            if !before.isEmpty { "expected an expression after '\(before)'" }
            else if let opener { "expected an expression in '\(opener)}'" }
            else { "expected an expression" }
        return SpecError(message, at: locate(token.start))
    }

    private func unexpectedToken() -> SpecError {
        let before = snippet(from: expressionStart)
        return SpecError("unexpected \(tokenText(token)) after '\(before)'", at: locate(token.start))
    }

    private func tooDeep(at offset: Int) -> SpecError {
        SpecError("expression is nested too deeply (more than \(Self.maximumDepth) levels)", at: locate(offset))
    }
}

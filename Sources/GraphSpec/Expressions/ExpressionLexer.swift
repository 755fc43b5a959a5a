import GraphIR

/// One token of an expression, with its range of scalar offsets in the value's text.
struct ExpressionToken: Equatable {
    enum Kind: Equatable {
        case integer(Int)
        case number(Double)
        case string(String)
        /// A name or dotted name; `true` and `false` are names here and literals to the parser.
        case name(String)
        case plus, minus, star, slash, slashSlash, percent
        case leftParen, rightParen, leftBracket, rightBracket, comma
        /// `}`: the end of an embedded expression.
        case rightBrace
        case end
    }

    var kind: Kind
    var start: Int
    var end: Int
}

/// Splits the text of an expression into tokens.
///
/// Literals: integers (`768`), numbers (`2.5`, `1e-5`, `1.0e-5`: a fraction or an exponent makes a number), strings
/// in single quotes (`'gelu'`; `\'` and `\\` escape a quote and a backslash). Names: a letter or `_`, then letters,
/// digits and `_`; dots join names (`encoder.hidden`).
struct ExpressionLexer {
    let scalars: [Unicode.Scalar]
    let locator: TextLocator
    private(set) var position: Int

    init(scalars: [Unicode.Scalar], start: Int, locator: TextLocator) {
        self.scalars = scalars
        self.locator = locator
        position = start
    }

    mutating func next() throws(SpecError) -> ExpressionToken {
        while let scalar = peek(), scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" {
            position += 1
        }
        let start = position
        guard let scalar = peek() else { return ExpressionToken(kind: .end, start: start, end: start) }
        if Self.isDigit(scalar) { return try number() }
        if Self.isNameStart(scalar) { return try name() }
        if scalar == "'" { return try string() }
        position += 1
        let kind: ExpressionToken.Kind
        switch scalar {
        case "+": kind = .plus
        case "-": kind = .minus
        case "*": kind = .star
        case "/":
            if peek() == "/" {
                position += 1
                kind = .slashSlash
            } else {
                kind = .slash
            }
        case "%": kind = .percent
        case "(": kind = .leftParen
        case ")": kind = .rightParen
        case "[": kind = .leftBracket
        case "]": kind = .rightBracket
        case ",": kind = .comma
        case "}": kind = .rightBrace
        default:
            throw SpecError(
                "unexpected character '\(scalar)' in an expression", at: locator.location(at: start),
                hint: scalar == "\"" ? "string literals in expressions use single quotes" : nil)
        }
        return ExpressionToken(kind: kind, start: start, end: position)
    }

    // MARK: - Tokens

    private mutating func number() throws(SpecError) -> ExpressionToken {
        let start = position
        skipDigits()
        var isInteger = true
        if peek() == "." {
            position += 1
            guard let next = peek(), Self.isDigit(next) else {
                throw SpecError(
                    "expected a digit after '.' in '\(text(from: start))'", at: locator.location(at: position))
            }
            skipDigits()
            isInteger = false
        }
        if let e = peek(), e == "e" || e == "E" {
            position += 1
            if let sign = peek(), sign == "+" || sign == "-" { position += 1 }
            guard let next = peek(), Self.isDigit(next) else {
                throw SpecError(
                    "expected the digits of an exponent after '\(text(from: start))'",
                    at: locator.location(at: position))
            }
            skipDigits()
            isInteger = false
        }
        let literal = text(from: start)
        if isInteger {
            guard let value = Int(literal) else {
                throw SpecError("integer literal '\(literal)' is too large", at: locator.location(at: start))
            }
            return ExpressionToken(kind: .integer(value), start: start, end: position)
        }
        guard let value = Double(literal), value.isFinite else {
            throw SpecError("number literal '\(literal)' is out of range", at: locator.location(at: start))
        }
        return ExpressionToken(kind: .number(value), start: start, end: position)
    }

    private mutating func name() throws(SpecError) -> ExpressionToken {
        let start = position
        while true {
            while let scalar = peek(), Self.isNameContinue(scalar) { position += 1 }
            guard peek() == "." else { break }
            position += 1
            guard let next = peek(), Self.isNameStart(next) else {
                throw SpecError(
                    "expected a name after '.' in '\(text(from: start))'", at: locator.location(at: position))
            }
        }
        return ExpressionToken(kind: .name(text(from: start)), start: start, end: position)
    }

    private mutating func string() throws(SpecError) -> ExpressionToken {
        let start = position
        position += 1
        var value = String.UnicodeScalarView()
        while let scalar = peek() {
            position += 1
            switch scalar {
            case "'":
                return ExpressionToken(kind: .string(String(value)), start: start, end: position)
            case "\\":
                if let next = peek(), next == "'" || next == "\\" {
                    value.append(next)
                    position += 1
                } else {
                    value.append(scalar)
                }
            default:
                value.append(scalar)
            }
        }
        throw SpecError("unterminated string literal", at: locator.location(at: start), hint: "close it with '")
    }

    // MARK: - Scalars

    private func peek() -> Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

    private mutating func skipDigits() {
        while let scalar = peek(), Self.isDigit(scalar) { position += 1 }
    }

    private func text(from start: Int) -> String { TextLocator.text(scalars, from: start, to: position) }

    static func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }

    static func isNameStart(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || scalar == "_"
    }

    static func isNameContinue(_ scalar: Unicode.Scalar) -> Bool { isNameStart(scalar) || isDigit(scalar) }

    /// The offset of the first `}` at or after `start` that is outside string literals, skipped as the lexer skips
    /// them; nil when there is none (the embedded expression is unclosed).
    static func closingBrace(in scalars: [Unicode.Scalar], from start: Int) -> Int? {
        var position = start
        var inString = false
        while position < scalars.count {
            let scalar = scalars[position]
            if inString {
                if scalar == "\\" {
                    position += 1
                } else if scalar == "'" {
                    inString = false
                }
            } else if scalar == "'" {
                inString = true
            } else if scalar == "}" {
                return position
            }
            position += 1
        }
        return nil
    }
}

import GraphIR

/// The arithmetic of expressions on config values.
///
/// - Integers: exact, with overflow reported ("integer overflow"); `/` gives an integer when the division is exact
///   and a number otherwise; `//` and `%` round toward negative infinity (`-7 // 2 == -4`, `-7 % 2 == 1`).
/// - Numbers (doubles), and an integer with a number: the integer widens; `//` and `%` as for integers.
/// - Dimensions, and a dimension with an integer: `+`, `-`, `*` give a dimension, and so does `//` by a positive
///   integer; anything else is an error.
/// - `+` concatenates two strings or two lists.
enum Arithmetic {
    static func apply(
        _ op: Expression.BinaryOperator, _ lhs: ConfigValue, _ rhs: ConfigValue, at location: SourceLocation
    ) throws(SpecError) -> ConfigValue {
        switch (lhs, rhs) {
        case let (.int(a), .int(b)):
            return try integer(op, a, b, at: location)
        case (.int, .double), (.double, .int), (.double, .double):
            guard let a = lhs.doubleValue, let b = rhs.doubleValue else { break }
            return try double(op, a, b, at: location)
        case (.dim, .dim), (.dim, .int), (.int, .dim):
            guard let a = lhs.dimValue, let b = rhs.dimValue else { break }
            return try dimension(op, a, b, lhs, rhs, at: location)
        case let (.string(a), .string(b)) where op == .add:
            // Checked before concatenating: a string that doubles itself is refused before it is made.
            _ = try ConfigValue.list([lhs, rhs]).checkedSize(at: location)
            return .string(a + b)
        case let (.list(a), .list(b)) where op == .add:
            _ = try ConfigValue.list([lhs, rhs]).checkedSize(at: location)
            return .list(a + b)
        default:
            break
        }
        throw mismatch(op, lhs, rhs, at: location)
    }

    static func negate(_ operand: ConfigValue, at location: SourceLocation) throws(SpecError) -> ConfigValue {
        switch operand {
        case let .int(value):
            let (result, overflow) = 0.subtractingReportingOverflow(value)
            guard !overflow else { throw overflowError(at: location) }
            return .int(result)
        case let .double(value):
            return .double(-value)
        case let .dim(value):
            guard isSmall(value) else { throw dimensionRangeError(at: location) }
            return .dim(-value)
        default:
            throw SpecError("cannot negate \(operand.typeNameWithArticle)", at: location)
        }
    }

    // MARK: - Integers

    private static func integer(
        _ op: Expression.BinaryOperator, _ a: Int, _ b: Int, at location: SourceLocation
    ) throws(SpecError) -> ConfigValue {
        let result: (partialValue: Int, overflow: Bool)
        switch op {
        case .add: result = a.addingReportingOverflow(b)
        case .subtract: result = a.subtractingReportingOverflow(b)
        case .multiply: result = a.multipliedReportingOverflow(by: b)
        case .divide:
            guard b != 0 else { throw divisionByZero(at: location) }
            let (quotient, overflow) = a.dividedReportingOverflow(by: b)
            guard !overflow else { throw overflowError(at: location) }
            // Not Int.min / -1 (that overflowed), so `%` cannot trap.
            return a % b == 0 ? .int(quotient) : .double(Double(a) / Double(b))
        case .floorDivide:
            guard b != 0 else { throw divisionByZero(at: location) }
            let (quotient, overflow) = a.dividedReportingOverflow(by: b)
            guard !overflow else { throw overflowError(at: location) }
            let remainder = a % b
            // A nonzero remainder means |quotient| < |a|, so subtracting 1 cannot overflow.
            return .int(remainder != 0 && (remainder < 0) != (b < 0) ? quotient - 1 : quotient)
        case .remainder:
            guard b != 0 else { throw divisionByZero(at: location) }
            // Int.min % -1 overflows in the machine and is 0 in arithmetic.
            let (remainder, overflow) = a.remainderReportingOverflow(dividingBy: b)
            if overflow { return .int(0) }
            return .int(remainder != 0 && (remainder < 0) != (b < 0) ? remainder + b : remainder)
        }
        guard !result.overflow else { throw overflowError(at: location) }
        return .int(result.partialValue)
    }

    // MARK: - Numbers

    private static func double(
        _ op: Expression.BinaryOperator, _ a: Double, _ b: Double, at location: SourceLocation
    ) throws(SpecError) -> ConfigValue {
        let result: Double
        switch op {
        case .add: result = a + b
        case .subtract: result = a - b
        case .multiply: result = a * b
        case .divide:
            guard b != 0 else { throw divisionByZero(at: location) }
            result = a / b
        case .floorDivide:
            guard b != 0 else { throw divisionByZero(at: location) }
            result = (a / b).rounded(.down)
        case .remainder:
            guard b != 0 else { throw divisionByZero(at: location) }
            let remainder = a.truncatingRemainder(dividingBy: b)
            result = remainder != 0 && (remainder < 0) != (b < 0) ? remainder + b : remainder
        }
        guard result.isFinite || !a.isFinite || !b.isFinite else {
            throw SpecError("number overflow", at: location)
        }
        return .double(result)
    }

    // MARK: - Dimensions

    private static func dimension(
        _ op: Expression.BinaryOperator, _ a: Dim, _ b: Dim, _ lhs: ConfigValue, _ rhs: ConfigValue,
        at location: SourceLocation
    ) throws(SpecError) -> ConfigValue {
        switch op {
        case .add, .subtract, .multiply:
            let result = op == .add ? a + b : op == .subtract ? a - b : a * b
            guard isSmall(a), isSmall(b), !result.isOutOfRange else { throw dimensionRangeError(at: location) }
            return .dim(result)
        case .floorDivide:
            guard case let .int(divisor) = rhs else { break }
            guard divisor != 0 else { throw divisionByZero(at: location) }
            guard divisor > 0 else {
                throw SpecError(
                    "a dimension can only be floor-divided by a positive integer, not \(divisor)", at: location)
            }
            guard isSmall(a), isSmall(b), let result = a.floorDivided(by: divisor), !result.isOutOfRange else {
                throw dimensionRangeError(at: location)
            }
            return .dim(result)
        case .divide:
            if case .int = rhs {
                throw SpecError(
                    "cannot divide a dimension with '/'", at: location,
                    hint: "use '//' for floor division, which is exact on dimensions")
            }
        case .remainder:
            break
        }
        throw mismatch(op, lhs, rhs, at: location)
    }

    /// The largest integer a dimension's arithmetic may meet, and the longest text it may have.
    ///
    /// `Dim` computes with plain Int arithmetic, which traps on overflow; coefficients, constants and divisors up
    /// to 2^24 in expressions of at most 256 characters (so at most ~64 terms) keep every product and sum it forms
    /// (2^48 times the number of term pairs, and folded divisors) far from Int's range. Real dimensions are
    /// nowhere near these bounds.
    static let dimensionLimit = 1 << 24

    /// Whether a dimension is within the bounds where its arithmetic cannot overflow, judged by its text (the only
    /// view of its coefficients from outside GraphIR): every number in it, and its length.
    static func isSmall(_ dim: Dim) -> Bool {
        if let constant = dim.constantValue { return constant.magnitude <= UInt(dimensionLimit) }
        let text = Array(dim.description.unicodeScalars)
        guard text.count <= 256 else { return false }
        var position = 0
        while position < text.count {
            let scalar = text[position]
            if ExpressionLexer.isNameStart(scalar) {
                // A symbol's name, digits included.
                while position < text.count, ExpressionLexer.isNameContinue(text[position]) { position += 1 }
            } else if ExpressionLexer.isDigit(scalar) {
                var value = 0
                while position < text.count, ExpressionLexer.isDigit(text[position]) {
                    value = value * 10 + Int(text[position].value - 48)
                    if value > dimensionLimit { return false }
                    position += 1
                }
            } else {
                position += 1
            }
        }
        return true
    }

    // MARK: - Errors

    static func overflowError(at location: SourceLocation) -> SpecError {
        SpecError("integer overflow", at: location)
    }

    static func divisionByZero(at location: SourceLocation) -> SpecError {
        SpecError("division by zero", at: location)
    }

    static func dimensionRangeError(at location: SourceLocation) -> SpecError {
        SpecError(
            "dimension arithmetic out of range (numbers in dimensions are limited to \(dimensionLimit))", at: location)
    }

    /// "cannot add a string and an integer", phrased for each operator.
    static func mismatch(
        _ op: Expression.BinaryOperator, _ lhs: ConfigValue, _ rhs: ConfigValue, at location: SourceLocation
    ) -> SpecError {
        let (a, b) = (lhs.typeNameWithArticle, rhs.typeNameWithArticle)
        let message =
            switch op {
            case .add: "cannot add \(a) and \(b)"
            case .subtract: "cannot subtract \(b) from \(a)"
            case .multiply: "cannot multiply \(a) by \(b)"
            case .divide: "cannot divide \(a) by \(b)"
            case .floorDivide: "cannot floor-divide \(a) by \(b)"
            case .remainder: "cannot take the remainder of \(a) divided by \(b)"
            }
        return SpecError(message, at: location)
    }
}

import GraphIR

extension Expression {
    /// The value of the expression, names looked up through `resolve` (nil: an "unknown name" error, without a
    /// did-you-mean hint; use `evaluate(in:)` for one).
    ///
    /// Integers stay integers where the result is exact (`768 / 12` is `64`, `1 / 2` is `0.5`); arithmetic that
    /// mentions a dimension gives a dimension. Every error (an unknown name, a type error, a division by zero, an
    /// index out of range, an integer overflow) is a `SpecError` at the column of the token at fault.
    public func evaluate(_ resolve: (String) throws(SpecError) -> ConfigValue?) throws(SpecError) -> ConfigValue {
        try ExpressionEvaluator.evaluate(self, resolve: resolve, names: { [] })
    }

    /// The value of the expression with names from `scope`; an unknown name's error suggests the nearest known one.
    public func evaluate(in scope: some ExpressionScope) throws(SpecError) -> ConfigValue {
        try ExpressionEvaluator.evaluate(
            self, resolve: { (name: String) throws(SpecError) -> ConfigValue? in try scope.value(of: name) },
            names: { scope.names })
    }
}

/// Walks an expression tree. The parser bounds the tree's depth, so the recursion is bounded too.
enum ExpressionEvaluator {
    static func evaluate(
        _ expression: Expression, resolve: (String) throws(SpecError) -> ConfigValue?, names: () -> [String]
    ) throws(SpecError) -> ConfigValue {
        func evaluate(_ expression: Expression) throws(SpecError) -> ConfigValue {
            try ExpressionEvaluator.evaluate(expression, resolve: resolve, names: names)
        }
        switch expression {
        case let .integer(value, _): return .int(value)
        case let .number(value, _): return .double(value)
        case let .string(value, _): return .string(value)
        case let .boolean(value, _): return .bool(value)
        case let .name(name, location):
            guard let value = try resolve(name) else {
                throw SpecError("unknown name '\(name)'", at: location, hint: Suggestion.hint(for: name, in: names()))
            }
            return value
        case let .list(elements, _):
            var values = [ConfigValue]()
            values.reserveCapacity(elements.count)
            for element in elements { values.append(try evaluate(element)) }
            return try ConfigValue.list(values).checkedSize(at: expression.startLocation)
        case let .index(base, index, location):
            return try subscripted(evaluate(base), index: evaluate(index), at: location, indexAt: index.startLocation)
        case let .negate(operand, location):
            return try Arithmetic.negate(evaluate(operand), at: location)
        case let .binary(op, lhs, rhs, location):
            return try Arithmetic.apply(op, evaluate(lhs), evaluate(rhs), at: location)
        case let .call(function, arguments, location):
            var values = [(value: ConfigValue, location: SourceLocation)]()
            for argument in arguments { values.append((try evaluate(argument), argument.startLocation)) }
            return try Builtins.call(function, values, at: location)
        }
    }

    /// `base[index]`: a list element, counting from the end for a negative index.
    private static func subscripted(
        _ base: ConfigValue, index: ConfigValue, at location: SourceLocation, indexAt indexLocation: SourceLocation
    ) throws(SpecError) -> ConfigValue {
        guard case let .list(elements) = base else {
            throw SpecError("cannot index \(base.typeNameWithArticle)", at: location)
        }
        guard case let .int(position) = index else {
            throw SpecError(
                "a list index must be an integer, not \(index.typeNameWithArticle)", at: indexLocation)
        }
        let resolved = position < 0 ? elements.count + position : position
        guard resolved >= 0, resolved < elements.count else {
            let count = elements.count == 1 ? "1 element" : "\(elements.count) elements"
            throw SpecError("index \(position) is out of range for a list of \(count)", at: indexLocation)
        }
        return elements[resolved]
    }
}

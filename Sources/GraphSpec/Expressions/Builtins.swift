import GraphIR

/// The functions an expression may call: `min`, `max`, `int`, `len`, `not`, `all`, `any`, `choose`.
enum Builtins {
    static func call(
        _ function: Expression.Function, _ arguments: [(value: ConfigValue, location: SourceLocation)],
        at location: SourceLocation
    ) throws(SpecError) -> ConfigValue {
        switch function {
        case .min: return try extreme(function, arguments, at: location) { less($0, than: $1) }
        case .max: return try extreme(function, arguments, at: location) { less($1, than: $0) }
        case .int:
            guard arguments.count == 1, let argument = arguments.first else {
                throw SpecError("int() takes one argument, not \(arguments.count)", at: location)
            }
            return try integer(argument.value, at: argument.location)
        case .len:
            guard arguments.count == 1, let argument = arguments.first else {
                throw SpecError("len() takes one argument, not \(arguments.count)", at: location)
            }
            switch argument.value {
            case let .list(elements): return .int(elements.count)
            case let .string(text): return .int(text.count)
            default: throw SpecError("len() takes a list or a string, not \(argument.value.typeNameWithArticle)", at: argument.location)
            }
        case .not:
            guard arguments.count == 1, let argument = arguments.first else {
                throw SpecError("not() takes one argument, not \(arguments.count)", at: location)
            }
            guard case let .bool(value) = argument.value else {
                throw SpecError("not() takes true or false, not \(argument.value.typeNameWithArticle)", at: argument.location)
            }
            return .bool(!value)
        case .choose:
            guard arguments.count == 3 else {
                throw SpecError("choose() takes three arguments (a condition, its value when true, its value when false), not \(arguments.count)",
                                at: location)
            }
            guard case let .bool(condition) = arguments[0].value else {
                throw SpecError("choose() takes true or false first, not \(arguments[0].value.typeNameWithArticle)", at: arguments[0].location)
            }
            return condition ? arguments[1].value : arguments[2].value
        case .all, .any:
            var values = [Bool]()
            for argument in arguments {
                guard case let .bool(value) = argument.value else {
                    throw SpecError("\(function.rawValue)() takes true or false, not \(argument.value.typeNameWithArticle)", at: argument.location)
                }
                values.append(value)
            }
            return .bool(function == .all ? !values.contains(false) : values.contains(true))
        }
    }

    /// The smallest (or largest) of the arguments, or of the elements of a single list argument; the winning
    /// value keeps its type (`min(2, 2.5)` is the integer 2), and the first of equals wins.
    private static func extreme(
        _ function: Expression.Function, _ arguments: [(value: ConfigValue, location: SourceLocation)],
        at location: SourceLocation, isBetter: (ConfigValue, ConfigValue) -> Bool
    ) throws(SpecError) -> ConfigValue {
        var candidates = arguments
        if arguments.count == 1, let only = arguments.first {
            guard case let .list(elements) = only.value else {
                throw SpecError(
                    "\(function.rawValue)() takes a list or at least two numbers, not one \(only.value.typeName)",
                    at: location)
            }
            guard !elements.isEmpty else {
                throw SpecError("\(function.rawValue)() of an empty list", at: only.location)
            }
            candidates = elements.map { ($0, only.location) }
        }
        var best: ConfigValue?
        for candidate in candidates {
            switch candidate.value {
            case .int, .double: break
            default:
                throw SpecError(
                    "\(function.rawValue)() takes numbers, not \(candidate.value.typeNameWithArticle)",
                    at: candidate.location)
            }
            if let current = best, !isBetter(candidate.value, current) { continue }
            best = candidate.value
        }
        guard let best else {
            throw SpecError("\(function.rawValue)() needs at least one argument", at: location)
        }
        return best
    }

    /// `a < b` for integers and numbers; two integers compare exactly, not as doubles.
    private static func less(_ a: ConfigValue, than b: ConfigValue) -> Bool {
        if case let .int(x) = a, case let .int(y) = b { return x < y }
        guard let x = a.doubleValue, let y = b.doubleValue else { return false }
        return x < y
    }

    /// `int(x)`: an integer as is; a number truncated toward zero; a boolean as 0 or 1; a string of an integer
    /// literal (`'12'`, `'-3'`); a dimension without symbols.
    private static func integer(_ value: ConfigValue, at location: SourceLocation) throws(SpecError) -> ConfigValue {
        switch value {
        case .int:
            return value
        case let .double(number):
            guard number.isFinite, let truncated = Int(exactly: number.rounded(.towardZero)) else {
                throw SpecError("cannot convert \(value) to an integer", at: location)
            }
            return .int(truncated)
        case let .bool(flag):
            return .int(flag ? 1 : 0)
        case let .string(text):
            guard let number = Int(text) else {
                throw SpecError("cannot convert '\(text)' to an integer", at: location)
            }
            return .int(number)
        case let .dim(dim):
            guard let constant = dim.constantValue else {
                throw SpecError("cannot convert the dimension '\(dim)' to an integer", at: location)
            }
            return .int(constant)
        case .list:
            throw SpecError("cannot convert a list to an integer", at: location)
        }
    }
}

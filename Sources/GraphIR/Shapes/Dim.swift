/// A tensor dimension: a constant or an integer expression over named symbols (`B`, `S`), with exact floor
/// division, so that a convolution's output length is `floor((S - 400) / 320) + 1` and not "unknown".
///
/// Values are kept in a canonical form — a constant plus a sorted sum of terms, each an integer coefficient times
/// a product of factors (symbols or floor divisions) — so that two expressions that are equal by these rules
/// compare equal with `==`. Nested floor divisions fold (`floor((floor(x / a) + c) / b) = floor((x + c a) / (a b))`),
/// which is what makes a stack of strided convolutions collapse into one expression.
///
/// Arithmetic never traps: a result whose constant or coefficients would pass `magnitudeLimit` (or Int's range on
/// the way) is `outOfRange`, a value that stays out of range through further arithmetic and that the graph builder
/// reports at the node that made it.
public struct Dim: Hashable, Sendable, Comparable, CustomStringConvertible, ExpressibleByIntegerLiteral,
    ExpressibleByStringLiteral
{
    /// A product of factors times a coefficient.
    struct Term: Hashable, Sendable, Comparable {
        var coefficient: Int
        var factors: [Factor]

        static func < (lhs: Term, rhs: Term) -> Bool {
            lhs.factors != rhs.factors ? lhs.factors.lexicographicallyPrecedes(rhs.factors) : lhs.coefficient < rhs.coefficient
        }
    }

    /// A symbol, or the floor of an expression divided by a constant greater than 1.
    indirect enum Factor: Hashable, Sendable, Comparable {
        case symbol(String)
        case floorDivide(Dim, Int)

        static func < (lhs: Factor, rhs: Factor) -> Bool {
            switch (lhs, rhs) {
            case let (.symbol(a), .symbol(b)): a < b
            case (.symbol, .floorDivide): true
            case (.floorDivide, .symbol): false
            case let (.floorDivide(a, x), .floorDivide(b, y)): a != b ? a < b : x < y
            }
        }
    }

    var constant: Int
    var terms: [Term]
    /// Set when arithmetic left the range of `magnitudeLimit`; constant and terms are then 0 and empty.
    public private(set) var isOutOfRange = false

    /// The largest magnitude of a dimension's constant and coefficients (2^40): sizes of up to a trillion, with
    /// room for products and sums of them to be checked in Int without wrapping.
    public static let magnitudeLimit = 1 << 40

    /// The result of arithmetic past `magnitudeLimit`.
    public static let outOfRange: Dim = {
        var dim = Dim(constant: 0, terms: [])
        dim.isOutOfRange = true
        return dim
    }()

    init(constant: Int, terms: [Term]) {
        self.constant = constant
        self.terms = []
        guard let normalized = Self.normalized(terms), Self.inRange(constant),
              normalized.allSatisfy({ Self.inRange($0.coefficient) }) else {
            isOutOfRange = true
            self.constant = 0
            return
        }
        self.terms = normalized
    }

    static func inRange(_ value: Int) -> Bool { value.magnitude <= UInt(magnitudeLimit) }

    public init(_ value: Int) { self.init(constant: value, terms: []) }
    public init(integerLiteral value: Int) { self.init(value) }

    /// A named symbolic dimension.
    public static func symbol(_ name: String) -> Dim { Dim(constant: 0, terms: [Term(coefficient: 1, factors: [.symbol(name)])]) }
    public init(stringLiteral name: String) { self = .symbol(name) }

    /// The value when the expression has no symbols (nil when out of range).
    public var constantValue: Int? { terms.isEmpty && !isOutOfRange ? constant : nil }

    /// The symbols the expression mentions, sorted.
    public var symbols: [String] {
        var names = Set<String>()
        func collect(_ dim: Dim) {
            for term in dim.terms {
                for factor in term.factors {
                    switch factor {
                    case let .symbol(name): names.insert(name)
                    case let .floorDivide(inner, _): collect(inner)
                    }
                }
            }
        }
        collect(self)
        return names.sorted()
    }

    /// The value for concrete symbol values; nil when a symbol is unbound or the value leaves Int's range.
    public func evaluate(_ bindings: [String: Int]) -> Int? {
        guard !isOutOfRange else { return nil }
        var total = constant
        for term in terms {
            var product = term.coefficient
            for factor in term.factors {
                let value: Int
                switch factor {
                case let .symbol(name):
                    guard let bound = bindings[name] else { return nil }
                    value = bound
                case let .floorDivide(inner, divisor):
                    guard let numerator = inner.evaluate(bindings) else { return nil }
                    value = Self.floorDivide(numerator, divisor)
                }
                let (next, overflow) = product.multipliedReportingOverflow(by: value)
                guard !overflow else { return nil }
                product = next
            }
            let (sum, overflow) = total.addingReportingOverflow(product)
            guard !overflow else { return nil }
            total = sum
        }
        return total
    }

    // MARK: - Arithmetic

    // Constants and coefficients are within ±2^40, so a sum or negation of two cannot wrap; products are checked.

    public static func + (lhs: Dim, rhs: Dim) -> Dim {
        guard !lhs.isOutOfRange, !rhs.isOutOfRange else { return .outOfRange }
        return Dim(constant: lhs.constant + rhs.constant, terms: lhs.terms + rhs.terms)
    }

    public static prefix func - (value: Dim) -> Dim {
        guard !value.isOutOfRange else { return .outOfRange }
        return Dim(constant: -value.constant, terms: value.terms.map { Term(coefficient: -$0.coefficient, factors: $0.factors) })
    }

    public static func - (lhs: Dim, rhs: Dim) -> Dim { lhs + (-rhs) }

    public static func * (lhs: Dim, rhs: Dim) -> Dim {
        guard !lhs.isOutOfRange, !rhs.isOutOfRange else { return .outOfRange }
        var terms = [Term]()
        let left = lhs.terms + [Term(coefficient: lhs.constant, factors: [])]
        let right = rhs.terms + [Term(coefficient: rhs.constant, factors: [])]
        for a in left {
            for b in right {
                let (coefficient, overflow) = a.coefficient.multipliedReportingOverflow(by: b.coefficient)
                guard !overflow, inRange(coefficient) else { return .outOfRange }
                terms.append(Term(coefficient: coefficient, factors: (a.factors + b.factors).sorted()))
            }
        }
        var constant = 0
        var symbolic = [Term]()
        for term in terms {
            if term.factors.isEmpty {
                constant += term.coefficient
                guard inRange(constant) else { return .outOfRange }
            } else {
                symbolic.append(term)
            }
        }
        return Dim(constant: constant, terms: symbolic)
    }

    /// `floor(self / divisor)` for a positive divisor; nil for a divisor below 1.
    public func floorDivided(by divisor: Int) -> Dim? {
        guard divisor >= 1 else { return nil }
        if divisor == 1 || isOutOfRange { return self }
        guard Self.inRange(divisor) else { return .outOfRange }
        if terms.isEmpty { return Dim(Self.floorDivide(constant, divisor)) }
        // Exact when every coefficient divides: floor((a d x + b d) / d) = a x + b.
        if terms.allSatisfy({ $0.coefficient % divisor == 0 }) {
            let exact = Dim(constant: 0, terms: terms.map { Term(coefficient: $0.coefficient / divisor, factors: $0.factors) })
            return exact + Dim(Self.floorDivide(constant, divisor))
        }
        // floor((floor(x / a) + c) / b) = floor((x + c a) / (a b)).
        if terms.count == 1, terms[0].coefficient == 1, terms[0].factors.count == 1,
           case let .floorDivide(inner, innerDivisor) = terms[0].factors[0] {
            let (shift, shiftOverflow) = constant.multipliedReportingOverflow(by: innerDivisor)
            let (combined, overflow) = innerDivisor.multipliedReportingOverflow(by: divisor)
            guard !shiftOverflow, !overflow else { return .outOfRange }
            return (inner + Dim(shift)).floorDivided(by: combined)
        }
        // The constant stays inside, as the formula is usually written: floor((S - 400) / 320), not the
        // equal floor((S + 240) / 320) - 2.
        return Dim(constant: 0, terms: [Term(coefficient: 1, factors: [.floorDivide(self, divisor)])])
    }

    /// The output length of a convolution or pooling window over `self` frames:
    /// `floor((self + 2 padding - kernel) / stride) + 1`.
    public func windowed(kernel: Int, stride: Int, padding: Int) -> Dim? {
        (self + Dim(2) * Dim(padding) - Dim(kernel)).floorDivided(by: stride).map { $0 + 1 }
    }

    // MARK: - Canonical form

    static func floorDivide(_ value: Int, _ divisor: Int) -> Int {
        let quotient = value / divisor
        return (value % divisor != 0 && (value < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }

    /// Sorted terms with equal factors combined and zero terms dropped; nil when a combined coefficient leaves
    /// Int's range.
    static func normalized(_ terms: [Term]) -> [Term]? {
        var combined = [[Factor]: Int]()
        for term in terms {
            let (sum, overflow) = combined[term.factors.sorted(), default: 0].addingReportingOverflow(term.coefficient)
            guard !overflow else { return nil }
            combined[term.factors.sorted()] = sum
        }
        return combined.compactMap { factors, coefficient in
            coefficient == 0 ? nil : Term(coefficient: coefficient, factors: factors)
        }.sorted()
    }

    public static func < (lhs: Dim, rhs: Dim) -> Bool { lhs.description < rhs.description }

    // MARK: - Text

    /// `B`, `S - 400`, `floor((S - 400) / 320) + 1`, `2 * T + 1`, `B * T`.
    public var description: String {
        if isOutOfRange { return "<out of range>" }
        var parts = [(negative: Bool, text: String)]()
        for term in terms {
            let factors = term.factors.map { factor -> String in
                switch factor {
                case let .symbol(name): name
                case let .floorDivide(inner, divisor): "floor(\(inner.parenthesizedIfSum) / \(divisor))"
                }
            }.joined(separator: " * ")
            let magnitude = abs(term.coefficient)
            parts.append((term.coefficient < 0, magnitude == 1 ? factors : "\(magnitude) * \(factors)"))
        }
        if constant != 0 || parts.isEmpty { parts.append((constant < 0, String(abs(constant)))) }
        var text = parts[0].negative ? "-" + parts[0].text : parts[0].text
        for part in parts.dropFirst() { text += (part.negative ? " - " : " + ") + part.text }
        return text
    }

    var parenthesizedIfSum: String {
        terms.count + (constant != 0 ? 1 : 0) > 1 ? "(\(description))" : description
    }
}

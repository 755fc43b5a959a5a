import GraphIR
import Testing

@testable import GraphSpec

/// Values in these tests start at line 4, column 10 of `m.yaml`: the character at offset k is at column 10 + k.
private let start = GraphIR.SourceLocation(file: "m.yaml", line: 4, column: 10)

/// A config with a sequence-length symbol `S` and a frame-count symbol `T`.
private var scope: ValueScope {
    ValueScope([
    "hidden": 768,
    "heads": 12,
    "encoder.hidden": 256,
    "i": 3,
    "conv_kernels": [10, 3, 3, 3, 3, 2, 2],
    "name": "enc",
    "eps": 1e-5,
    "causal": true,
    "S": .dim("S"),
    "T": .dim("T"),
    ])
}

private func value(_ text: String) throws -> ConfigValue {
    try Interpolation.evaluate(text, at: start, scope: scope)
}

/// The one diagnostic evaluating `text` reports, or nil when it evaluates.
private func failure(_ text: String, in scope: some ExpressionScope = scope) -> Diagnostic? {
    do {
        _ = try Interpolation.evaluate(text, at: start, scope: scope)
        return nil
    } catch {
        #expect(error.diagnostics.count == 1)
        return error.diagnostics.first
    }
}

private func templateFailure(_ text: String) -> Diagnostic? {
    do {
        _ = try Interpolation.expandTemplate(text, at: start, scope: scope)
        return nil
    } catch {
        return error.diagnostics.first
    }
}

private func column(_ offset: Int) -> GraphIR.SourceLocation {
    GraphIR.SourceLocation(file: "m.yaml", line: 4, column: 10 + offset)
}

@Suite("Expressions")
struct ExpressionTests {
    // MARK: - Syntax

    @Test("multiplication binds tighter than addition, and both associate to the left")
    func precedence() throws {
        #expect(try ExpressionParser.parse("1 + 2 * 3", at: start).description == "1 + (2 * 3)")
        #expect(try ExpressionParser.parse("(1 + 2) * 3", at: start).description == "(1 + 2) * 3")
        #expect(try ExpressionParser.parse("a - b - c", at: start).description == "(a - b) - c")
        #expect(try ExpressionParser.parse("a // b % c * d", at: start).description == "((a // b) % c) * d")
        #expect(try ExpressionParser.parse("-a * b", at: start).description == "(-a) * b")
        #expect(try ExpressionParser.parse("-xs[i + 1]", at: start).description == "-xs[i + 1]")
        #expect(try value("${1 + 2 * 3}") == 7)
        #expect(try value("${(1 + 2) * 3}") == 9)
        #expect(try value("${10 - 4 - 3}") == 3)
        #expect(try value("${100 // 10 // 3}") == 3)
        #expect(try value("${2 * 3 % 4}") == 2)
        #expect(try value("${2 - -3}") == 5)
        #expect(try value("${- - 4}") == 4)
        #expect(try value("${2*(3+4)*5}") == 70)
    }

    @Test("len() counts list elements and string characters; other arguments are errors")
    func length() throws {
        #expect(try value("${len([10, 3, 3, 2])}") == 4)
        #expect(try value("${len([10, 3, 3, 2]) - 1}") == 3)
        #expect(try value("${len('abc')}") == 3)
        #expect(throws: SpecError.self) { try value("${len(3)}") }
        #expect(throws: SpecError.self) { try value("${len([1], [2])}") }
    }

    @Test("literals: integers, numbers with fractions and exponents, strings, booleans, lists")
    func literals() throws {
        #expect(try value("${42}") == .int(42))
        #expect(try value("${2.5}") == .double(2.5))
        #expect(try value("${1e-5}") == .double(1e-5))
        #expect(try value("${1.0e-5}") == .double(1e-5))
        #expect(try value("${3E2}") == .double(300))
        #expect(try value("${'gelu'}") == .string("gelu"))
        #expect(try value(#"${'it\'s a \\ slash'}"#) == .string(#"it's a \ slash"#))
        #expect(try value("${'a } b'}") == .string("a } b"))
        #expect(try value("${true}") == .bool(true))
        #expect(try value("${false}") == .bool(false))
        #expect(try value("${[1, 'a', [2.5], []]}") == .list([1, "a", [2.5], []]))
        #expect(try value("${[1, 2,]}") == [1, 2])
    }

    @Test("division: exact integer division stays an integer, inexact gives a number; // and % floor")
    func typedResults() throws {
        #expect(try value("${768 * 4}") == .int(3072))
        #expect(try value("${768 / 12}") == .int(64))
        #expect(try value("${1 / 2}") == .double(0.5))
        #expect(try value("${7 // 2}") == .int(3))
        #expect(try value("${-7 // 2}") == .int(-4))
        #expect(try value("${-7 % 2}") == .int(1))
        #expect(try value("${7 % -2}") == .int(-1))
        #expect(try value("${7.5 // 2}") == .double(3))
        #expect(try value("${-7.5 % 2}") == .double(0.5))
        #expect(try value("${hidden * 0.5}") == .double(384))
        #expect(try value("${1.0e-5}") == .double(0.00001))
        #expect(try value("${2 + 0.5}") == .double(2.5))
        #expect(try value("${6.0 / 3}") == .double(2))
    }

    // MARK: - Names

    @Test("names and dotted names resolve through the scope or a closure")
    func names() throws {
        #expect(try value("${hidden}") == 768)
        #expect(try value("${encoder.hidden * 2}") == 512)
        #expect(try value("${hidden // heads}") == 64)
        #expect(try value("${eps}") == .double(1e-5))
        #expect(try value("${causal}") == true)
        let expression = try ExpressionParser.parse("layer_1.size + i", at: start)
        let result = try expression.evaluate { (name: String) throws(SpecError) -> ConfigValue? in
            switch name {
            case "layer_1.size": 40
            case "i": 2
            default: nil
            }
        }
        #expect(result == 42)
        // A nested scope sees its own values first, then its parent's.
        let inner = ValueScope(["i": 7], parent: scope)
        #expect(try Interpolation.evaluate("${i + hidden}", at: start, scope: inner) == 775)
        #expect(inner.names.first == "i")
        // A resolver may fail, and its error comes through as it is.
        let failing = try ExpressionParser.parse("x", at: start)
        #expect(throws: SpecError.self) {
            try failing.evaluate { (_: String) throws(SpecError) -> ConfigValue? in throw SpecError("cycle") }
        }
    }

    @Test("an unknown name is an error at its column, with the nearest known name as a hint")
    func unknownName() {
        // "${hiden * 2}": the name starts at offset 2.
        let diagnostic = failure("${hiden * 2}")
        #expect(diagnostic?.message == "unknown name 'hiden'")
        #expect(diagnostic?.location == column(2))
        #expect(diagnostic?.hint == "did you mean 'hidden'?")
        let dotted = failure("x = ${encoder.hiden}")
        #expect(dotted?.message == "unknown name 'encoder.hiden'")
        #expect(dotted?.location == column(6))
        #expect(dotted?.hint == "did you mean 'encoder.hidden'?")
        #expect(failure("${zzzzzz}")?.hint == nil)
        // Through a closure there is no list of names and so no hint.
        do {
            let expression = try ExpressionParser.parse("hiden", at: start)
            _ = try expression.evaluate { (_: String) throws(SpecError) -> ConfigValue? in nil }
            Issue.record("expected an error")
        } catch {
            #expect(error.diagnostics.first?.message == "unknown name 'hiden'")
            #expect(error.diagnostics.first?.hint == nil)
        }
    }

    // MARK: - Lists

    @Test("lists index from the front, negative indices from the back, and out of range is an error")
    func indexing() throws {
        #expect(try value("${conv_kernels[0]}") == 10)
        #expect(try value("${conv_kernels[i + 1]}") == 3)
        #expect(try value("${conv_kernels[-1]}") == 2)
        #expect(try value("${conv_kernels[-7]}") == 10)
        #expect(try value("${[[1, 2], [3, 4]][1][0]}") == 3)
        #expect(try value("${[1, 2] + [3]}") == [1, 2, 3])
        // "${conv_kernels[7]}": the index is at offset 15.
        let past = failure("${conv_kernels[7]}")
        #expect(past?.message == "index 7 is out of range for a list of 7 elements")
        #expect(past?.location == column(15))
        let before = failure("${conv_kernels[i - 11]}")
        #expect(before?.message == "index -8 is out of range for a list of 7 elements")
        #expect(before?.location == column(15))
        #expect(failure("${[][0]}")?.message == "index 0 is out of range for a list of 0 elements")
        let notInteger = failure("${conv_kernels['a']}")
        #expect(notInteger?.message == "a list index must be an integer, not a string")
        #expect(notInteger?.location == column(15))
        // "${hidden[0]}": the '[' is at offset 8.
        let notList = failure("${hidden[0]}")
        #expect(notList?.message == "cannot index an integer")
        #expect(notList?.location == column(8))
    }

    // MARK: - Dimensions

    @Test("arithmetic on shape symbols gives symbolic dimensions")
    func dimensions() throws {
        let s = Dim.symbol("S")
        let t = Dim.symbol("T")
        #expect(try value("${S * 2 + 1}") == .dim(s * 2 + 1))
        #expect(try value("${S * 2 + 1}").description == "2 * S + 1")
        #expect(try value("${T // 2}") == .dim(t.floorDivided(by: 2)!))
        #expect(try value("${(S - 400) // 320 + 1}") == .dim((s - 400).floorDivided(by: 320)! + 1))
        #expect(try value("${S * T - T * S}") == .dim(0))
        #expect(try value("${-S + hidden}") == .dim(768 - s))
        #expect(try value("${S * 2}").dimValue == s * 2)
        #expect(try value("frames: ${T // 2 + 1}") == "frames: floor(T / 2) + 1")
        // "${S / 2}": the operator is at offset 4.
        let divide = failure("${S / 2}")
        #expect(divide?.message == "cannot divide a dimension with '/'")
        #expect(divide?.hint == "use '//' for floor division, which is exact on dimensions")
        #expect(divide?.location == column(4))
        #expect(failure("${S // -2}")?.message == "a dimension can only be floor-divided by a positive integer, not -2")
        #expect(failure("${S // 0}")?.message == "division by zero")
        #expect(failure("${S // T}")?.message == "cannot floor-divide a dimension by a dimension")
        #expect(failure("${S * 0.5}")?.message == "cannot multiply a dimension by a number")
        #expect(failure("${S % 2}")?.message == "cannot take the remainder of a dimension divided by an integer")
        #expect(failure("${min(S, 2)}")?.message == "min() takes numbers, not a dimension")
        #expect(try value("${int(S - S + 5)}") == 5)
        #expect(failure("${int(S)}")?.message == "cannot convert the dimension 'S' to an integer")
    }

    // MARK: - Strings and interpolation

    @Test("strings concatenate with +, and text with embedded parts is a string")
    func strings() throws {
        #expect(try value("${name + '_proj'}") == "enc_proj")
        #expect(try value("layer ${i}") == "layer 3")
        #expect(try value("${name}.${i}.${hidden / 2}") == "enc.3.384")
        #expect(try value("ratio ${1 / 4}, eps ${eps}, list ${[1, 'a']}") == "ratio 0.25, eps 1e-5, list [1, a]")
        #expect(try value(" ${hidden}") == " 768")
        #expect(try value("${hidden}${heads}") == "76812")
        #expect(try value("plain text") == "plain text")
        #expect(try value("") == "")
        #expect(try value("cost: $5 {not an expression}") == "cost: $5 {not an expression}")
        // A whole-value expression keeps its type.
        #expect(try value("${hidden * 4}") == .int(3072))
        #expect(try value("${conv_kernels}") == .list([10, 3, 3, 3, 3, 2, 2]))
        #expect(Interpolation.containsInterpolation("a ${b}"))
        #expect(!Interpolation.containsInterpolation("a $ {b}"))
        let parsed = try Interpolation(parsing: "layer ${i} of ${heads}", at: start)
        #expect(parsed.segments.count == 4)
        #expect(try parsed.evaluate(in: ValueScope(["i": 0, "heads": 2])) == "layer 0 of 2")
    }

    @Test("name templates expand {expr} parts to strings")
    func templates() throws {
        let inRepeat = ValueScope(["i": 3], parent: scope)
        func expand(_ text: String) throws -> String {
            try Interpolation.expandTemplate(text, at: start, scope: inRepeat)
        }
        #expect(try expand("encoder.layers.{i}") == "encoder.layers.3")
        #expect(try expand("hidden.{i + 1}") == "hidden.4")
        #expect(try expand("{name}.conv.{conv_kernels[-1]}") == "enc.conv.2")
        #expect(try expand("{hidden * 4}") == "3072")
        #expect(try expand("no.template") == "no.template")
        // "encoder.layers.{i": the '{' is at offset 15.
        let unclosed = templateFailure("encoder.layers.{i")
        #expect(unclosed?.message == "unclosed '{'")
        #expect(unclosed?.location == column(15))
        let unmatched = templateFailure("encoder.layers.i}")
        #expect(unmatched?.message == "unmatched '}'")
        #expect(unmatched?.location == column(16))
        let empty = templateFailure("layers.{}")
        #expect(empty?.message == "expected an expression in '{}'")
        #expect(empty?.location == column(8))
    }

    // MARK: - Errors at their columns

    @Test("syntax errors point at the column of the problem")
    func syntaxErrorColumns() {
        // Missing ')': at the '}' that ends the expression, offset 19.
        let call = failure("${min(hidden, heads}")
        #expect(call?.message == "expected ')' after 'min(hidden, heads'")
        #expect(call?.location == column(19))
        // The same from the parser on a bare expression: at the end of the text, offset 8.
        do {
            _ = try ExpressionParser.parse("min(a, b", at: start)
            Issue.record("expected an error")
        } catch {
            #expect(error.diagnostics.first?.message == "expected ')' after 'min(a, b'")
            #expect(error.diagnostics.first?.location == column(8))
        }
        let comma = failure("${min(hidden heads)}")
        #expect(comma?.message == "expected ',' or ')' after 'min(hidden'")
        #expect(comma?.location == column(13))
        // Trailing operator: at the '}', offset 10.
        let trailing = failure("${hidden +}")
        #expect(trailing?.message == "expected an expression after 'hidden +'")
        #expect(trailing?.location == column(10))
        // Unclosed '${': at the '$', offset 6.
        let unclosed = failure("layer ${i + 1")
        #expect(unclosed?.message == "unclosed '${'")
        #expect(unclosed?.location == column(6))
        #expect(failure("${'}")?.message == "unclosed '${'")
        let empty = failure("x ${}")
        #expect(empty?.message == "expected an expression in '${}'")
        #expect(empty?.location == column(4))
        let extra = failure("${hidden heads}")
        #expect(extra?.message == "unexpected 'heads' after 'hidden'")
        #expect(extra?.location == column(9))
        let bracket = failure("${[1, 2}")
        #expect(bracket?.message == "expected ']' after '[1, 2'")
        #expect(bracket?.location == column(7))
        let character = failure("${hidden @ 2}")
        #expect(character?.message == "unexpected character '@' in an expression")
        #expect(character?.location == column(9))
        #expect(failure(#"${"gelu"}"#)?.hint == "string literals in expressions use single quotes")
        let dot = failure("${encoder.}")
        #expect(dot?.message == "expected a name after '.' in 'encoder.'")
        #expect(dot?.location == column(10))
        let fraction = failure("${1.}")
        #expect(fraction?.message == "expected a digit after '.' in '1.'")
        #expect(fraction?.location == column(4))
        #expect(failure("${2e}")?.message == "expected the digits of an exponent after '2e'")
        let function = failure("${mn(1, 2)}")
        #expect(function?.message == "unknown function 'mn'")
        #expect(function?.hint == "did you mean 'min'?")
        #expect(function?.location == column(2))
        #expect(failure("${int(1, 2)}")?.message == "int() takes one argument, not 2")
        #expect(failure("${max()}")?.message == "max() needs at least one argument")
        do {
            _ = try ExpressionParser.parse("'abc", at: start)
            Issue.record("expected an error")
        } catch {
            #expect(error.diagnostics.first?.message == "unterminated string literal")
            #expect(error.diagnostics.first?.location == column(0))
        }
    }

    @Test("type errors and division by zero point at the operator")
    func evaluationErrorColumns() {
        // "${name + 1}": the '+' is at offset 7.
        let add = failure("${name + 1}")
        #expect(add?.message == "cannot add a string and an integer")
        #expect(add?.location == column(7))
        #expect(failure("${hidden - 'a'}")?.message == "cannot subtract a string from an integer")
        #expect(failure("${[1] * 2}")?.message == "cannot multiply a list by an integer")
        #expect(failure("${causal + 1}")?.message == "cannot add a boolean and an integer")
        let negate = failure("${-name}")
        #expect(negate?.message == "cannot negate a string")
        #expect(negate?.location == column(2))
        // "${hidden / (heads - 12)}": the '/' is at offset 9.
        let divide = failure("${hidden / (heads - 12)}")
        #expect(divide?.message == "division by zero")
        #expect(divide?.location == column(9))
        #expect(failure("${1 // 0}")?.message == "division by zero")
        #expect(failure("${1 % 0}")?.message == "division by zero")
        #expect(failure("${1.5 / 0}")?.message == "division by zero")
        // An error in a later part of a mixed string is at its own column: the '+' at offset 15.
        let later = failure("layer ${i} ${i + name}")
        #expect(later?.message == "cannot add an integer and a string")
        #expect(later?.location == column(15))
    }

    @Test("a value with a line break reports every error at the value's start")
    func multiLineValue() {
        let diagnostic = failure("first line\n${hiden}")
        #expect(diagnostic?.message == "unknown name 'hiden'")
        #expect(diagnostic?.location == start)
    }

    // MARK: - Functions

    @Test("min, max and int")
    func functions() throws {
        #expect(try value("${min(hidden, 512)}") == 512)
        #expect(try value("${max(heads, 2.5, 3)}") == 12)
        #expect(try value("${min(3, 2.5)}") == .double(2.5))
        #expect(try value("${min(2, 2.0)}") == .int(2))
        #expect(try value("${max(conv_kernels)}") == 10)
        #expect(try value("${min(9223372036854775807, 9223372036854775806)}") == 9_223_372_036_854_775_806)
        #expect(try value("${int(2.9)}") == 2)
        #expect(try value("${int(-2.9)}") == -2)
        #expect(try value("${int('12')}") == 12)
        #expect(try value("${int(true)}") == 1)
        #expect(try value("${int(hidden / 7)}") == 109)
        #expect(failure("${min([])}")?.message == "min() of an empty list")
        #expect(failure("${min(5)}")?.message == "min() takes a list or at least two numbers, not one integer")
        let string = failure("${max(1, 'a')}")
        #expect(string?.message == "max() takes numbers, not a string")
        #expect(string?.location == column(9))
        #expect(failure("${int('x')}")?.message == "cannot convert 'x' to an integer")
        #expect(failure("${int(1e300)}")?.message == "cannot convert 1e+300 to an integer")
    }

    // MARK: - Limits

    @Test("integer overflow is an error, never a trap")
    func overflow() {
        let add = failure("${9223372036854775807 + 1}")
        #expect(add?.message == "integer overflow")
        #expect(add?.location == column(22))
        #expect(failure("${-9223372036854775807 - 2}")?.message == "integer overflow")
        #expect(failure("${4294967296 * 4294967296}")?.message == "integer overflow")
        #expect(failure("${(-9223372036854775807 - 1) // -1}")?.message == "integer overflow")
        #expect(failure("${(-9223372036854775807 - 1) / -1}")?.message == "integer overflow")
        #expect(failure("${-(-9223372036854775807 - 1)}")?.message == "integer overflow")
        #expect((try? value("${(-9223372036854775807 - 1) % -1}")) == 0)
        let literal = failure("${99999999999999999999}")
        #expect(literal?.message == "integer literal '99999999999999999999' is too large")
        #expect(literal?.location == column(2))
        #expect(failure("${1e999}")?.message == "number literal '1e999' is out of range")
        #expect(failure("${1e300 * 1e300}")?.message == "number overflow")
        #expect(failure("${S * 100000000}")?.message.hasPrefix("dimension arithmetic out of range") == true)
        // "${S * 16777216 * 16777216 * 2}": the second '*', at offset 15, makes a coefficient of 2^48, past Dim's 2^40.
        let dimension = failure("${S * 16777216 * 16777216 * 2}")
        #expect(dimension?.message.hasPrefix("dimension arithmetic out of range") == true)
        #expect(dimension?.location == column(15))
    }

    @Test("nesting deeper than the limit is an error, not a stack overflow")
    func nesting() throws {
        let ok = String(repeating: "(", count: 150) + "1" + String(repeating: ")", count: 150)
        #expect(try ExpressionParser.parse(ok, at: start).description == "1")
        // Just inside the limit, every form parses, evaluates and prints.
        let limit = ExpressionParser.maximumDepth
        let negations = String(repeating: "-", count: limit - 1) + "1"
        #expect(try ExpressionParser.parse(negations, at: start).evaluate(in: scope) == -1)
        let lists = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        let nested = try ExpressionParser.parse(lists, at: start)
        #expect(try nested.evaluate(in: scope).description == lists)
        let sum = "1" + String(repeating: " + 1", count: limit - 1)
        #expect(try ExpressionParser.parse(sum, at: start).evaluate(in: scope) == .int(limit))
        for deep in [
            String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000),
            String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000),
            String(repeating: "-", count: 5000) + "1",
            "1" + String(repeating: " + 1", count: 5000),
            String(repeating: "min(", count: 5000) + "1" + String(repeating: ")", count: 5000),
            "xs" + String(repeating: "[0]", count: 5000),
        ] {
            do {
                _ = try ExpressionParser.parse(deep, at: start)
                Issue.record("expected an error")
            } catch {
                #expect(error.diagnostics.first?.message == "expression is nested too deeply (more than 200 levels)")
            }
        }
    }

    @Test("no input traps: random expressions parse and evaluate or fail with a diagnostic")
    func robustness() {
        let pieces = [
            "${", "{", "}", "(", ")", "[", "]", "+", "-", "*", "/", "//", "%", ",", "'", "\\", ".", "$", " ",
            "1", "0", "9223372036854775807", "2.5", "1e-5", "e", "hidden", "conv_kernels", "S", "T", "name",
            "min", "max", "int", "true", "i", "\n", "é",
        ]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        for _ in 0..<3000 {
            let text = (0..<(1 + next(16))).map { _ in pieces[next(pieces.count)] }.joined()
            for style in [Interpolation.Style.dollar, .braces] {
                do {
                    let parsed = try Interpolation(parsing: text, at: start, style: style)
                    _ = try parsed.evaluate(in: scope)
                } catch {
                    #expect(!error.diagnostics.isEmpty)
                    #expect(error.diagnostics.allSatisfy { $0.location?.file == "m.yaml" })
                }
            }
            _ = Interpolation.references(in: text)
            _ = Interpolation.references(inTemplate: text)
        }
    }

    // MARK: - References and values

    @Test("references lists the names a string mentions, once each, in order")
    func references() throws {
        #expect(
            Interpolation.references(in: "${a + encoder.hidden} and ${min(a, b)} ${'c'}") == ["a", "encoder.hidden", "b"])
        #expect(Interpolation.references(in: "${xs[i]} ${-y}") == ["xs", "i", "y"])
        #expect(Interpolation.references(in: "plain {x} text") == [])
        #expect(Interpolation.references(in: "${true} ${1 + 2}") == [])
        // A part that does not parse is skipped; evaluating reports it.
        #expect(Interpolation.references(in: "${a + } ${b} ${c") == ["b"])
        #expect(Interpolation.references(inTemplate: "layers.{i}.{j + i}") == ["i", "j"])
        #expect(try ExpressionParser.parse("f.g * h", at: start).names == ["f.g", "h"])
    }

    @Test("config values print as they read back, name their types, and convert")
    func configValues() throws {
        #expect(ConfigValue.int(3072).description == "3072")
        #expect(ConfigValue.double(0.5).description == "0.5")
        #expect(ConfigValue.double(3).description == "3.0")
        #expect(ConfigValue.double(1e-5).description == "1e-5")
        #expect(ConfigValue.double(1e20).description == "1e+20")
        #expect(ConfigValue.string("gelu").description == "gelu")
        #expect(ConfigValue.bool(false).description == "false")
        #expect(ConfigValue.list([1, "a", [2.5]]).description == "[1, a, [2.5]]")
        #expect(ConfigValue.dim(Dim.symbol("B") * 2).description == "2 * B")
        #expect([ConfigValue.int(1), 1.5, "s", true, [], .dim("S")].map(\.typeName)
            == ["integer", "number", "string", "boolean", "list", "dimension"])
        #expect(ConfigValue.int(3).intValue == 3)
        #expect(ConfigValue.double(3).intValue == nil)
        #expect(ConfigValue.int(3).doubleValue == 3.0)
        #expect(ConfigValue.dim(Dim(4)).intValue == 4)
        #expect(ConfigValue.dim("S").intValue == nil)
        #expect(ConfigValue.int(5).dimValue == Dim(5))
        #expect(ConfigValue.string("x").stringValue == "x")
        #expect(ConfigValue.bool(true).boolValue == true)
        #expect(ConfigValue.list([1]).listValue == [1])
        #expect(ConfigValue.int(1).stringValue == nil)
        // Printed numbers read back as the same values.
        for number in [0.1, 2.5, 1e-5, 3.0, 123456.789, 1e20] {
            #expect(try value("${\(ConfigValue.double(number))}") == .double(number))
        }
    }

    @Test("an expression prints as text that parses back to the same expression")
    func roundTrip() throws {
        for text in ["1 + 2 * 3", "(a - b) - c", "a - (b - c)", "-(a + b) * xs[-1]", "min(a, 'it\\'s', [1, 2.5])",
                     "int(x // 2) % 3", "1e-5 * 2.0"] {
            let expression = try ExpressionParser.parse(text, at: start)
            let reparsed = try ExpressionParser.parse(expression.description, at: start)
            #expect(reparsed.description == expression.description, "\(text)")
        }
    }
}

/// The YAML 1.2 core schema's resolution of plain scalars: null, booleans, integers and floats.
///
/// Only the 1.2 forms: `yes`, `no`, `on`, `off`, `y`, `n` are strings, as are `1_000` and `0b101`; a leading
/// `0` does not make a number octal (`010` is ten, `0o10` is eight).
enum YAMLCoreSchema {
    /// Tags of the core schema, as libyaml expands `!!int` and friends.
    static let nullTag = "tag:yaml.org,2002:null"
    static let boolTag = "tag:yaml.org,2002:bool"
    static let intTag = "tag:yaml.org,2002:int"
    static let floatTag = "tag:yaml.org,2002:float"
    static let mergeTag = "tag:yaml.org,2002:merge"

    /// `~`, `null`, `Null`, `NULL` or nothing.
    static func isNull(_ text: String) -> Bool {
        switch text {
        case "", "~", "null", "Null", "NULL": true
        default: false
        }
    }

    /// `true`, `True`, `TRUE`, `false`, `False`, `FALSE`.
    static func bool(_ text: String) -> Bool? {
        switch text {
        case "true", "True", "TRUE": true
        case "false", "False", "FALSE": false
        default: nil
        }
    }

    /// `[-+]?[0-9]+`, `0o[0-7]+` or `0x[0-9a-fA-F]+`; nil for other text and for values outside `Int`.
    static func int(_ text: String) -> Int? {
        if text.hasPrefix("0x") {
            let digits = text.dropFirst(2)
            guard !digits.isEmpty, digits.utf8.allSatisfy(isHexDigit) else { return nil }
            return Int(digits, radix: 16)
        }
        if text.hasPrefix("0o") {
            let digits = text.dropFirst(2)
            guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "7") })
            else { return nil }
            return Int(digits, radix: 8)
        }
        guard isDecimalInteger(text) else { return nil }
        return Int(text)
    }

    /// Any integer form, `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, `[-+]?.inf` (any of the three
    /// spellings) or `.nan`.
    static func double(_ text: String) -> Double? {
        if let value = int(text) { return Double(value) }
        switch text {
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .infinity
        case "-.inf", "-.Inf", "-.INF": return -.infinity
        case ".nan", ".NaN", ".NAN": return .nan
        default: break
        }
        guard isDecimalInteger(text) || isDecimalFloat(text) else { return nil }
        return Double(text)
    }

    // MARK: - Patterns

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "F"))
    }

    /// `[-+]?[0-9]+`
    private static func isDecimalInteger(_ text: String) -> Bool {
        var cursor = Cursor(text)
        cursor.skipSign()
        return cursor.skipDigits() > 0 && cursor.atEnd
    }

    /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
    private static func isDecimalFloat(_ text: String) -> Bool {
        var cursor = Cursor(text)
        cursor.skipSign()
        let integerDigits = cursor.skipDigits()
        if cursor.skip(UInt8(ascii: ".")) {
            let fractionDigits = cursor.skipDigits()
            if integerDigits == 0 && fractionDigits == 0 { return false }
        } else if integerDigits == 0 {
            return false
        }
        if cursor.skip(UInt8(ascii: "e")) || cursor.skip(UInt8(ascii: "E")) {
            cursor.skipSign()
            if cursor.skipDigits() == 0 { return false }
        }
        return cursor.atEnd
    }

    /// A read position in UTF-8 text that never reads past the end.
    private struct Cursor {
        private var bytes: Substring.UTF8View

        init(_ text: String) { bytes = Substring(text).utf8 }

        var atEnd: Bool { bytes.isEmpty }

        /// Consumes `byte` if it is next.
        mutating func skip(_ byte: UInt8) -> Bool {
            guard bytes.first == byte else { return false }
            bytes = bytes.dropFirst()
            return true
        }

        mutating func skipSign() {
            if !skip(UInt8(ascii: "-")) { _ = skip(UInt8(ascii: "+")) }
        }

        /// Consumes ASCII digits; returns how many.
        mutating func skipDigits() -> Int {
            var count = 0
            while let byte = bytes.first, YAMLCoreSchema.isDigit(byte) {
                bytes = bytes.dropFirst()
                count += 1
            }
            return count
        }
    }
}

import Foundation

/// Typed reads of what `JSONSerialization` returns, which are looser than JSON: booleans are `NSNumber`s that
/// cast to `1` and `0`, and `2.0` casts to `Int`. These keep the kinds apart.
public enum JSONValues {
    /// Parses a JSON document (UTF-8 checked first), or says why it cannot be read.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> Result<Any, ParseFailure> {
        guard String(validating: bytes, as: UTF8.self) != nil else { return .failure(ParseFailure(reason: "not valid UTF-8")) }
        do {
            return .success(try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]))
        } catch {
            let underlying = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
            return .failure(ParseFailure(reason: "not valid JSON" + (underlying.map { " (\($0))" } ?? "")))
        }
    }

    static func parse(_ bytes: [UInt8]) -> Result<Any, ParseFailure> {
        bytes.withUnsafeBytes { parse($0) }
    }

    struct ParseFailure: Error {
        var reason: String
    }

    /// A JSON `true` or `false`.
    static func bool(_ value: Any) -> Bool? {
        guard let number = value as? NSNumber, isBoolean(number) else { return nil }
        return number.boolValue
    }

    /// A JSON number written without a fraction or exponent that fits in `Int`.
    static func integer(_ value: Any) -> Int? {
        guard let number = value as? NSNumber, !(number is NSDecimalNumber), !isBoolean(number) else { return nil }
        switch String(cString: number.objCType) {
        case "d", "f": return nil
        default: return value as? Int
        }
    }

    /// Any JSON number (not a boolean).
    static func number(_ value: Any) -> Double? {
        guard let number = value as? NSNumber, !isBoolean(number) else { return nil }
        return number.doubleValue
    }

    /// A short description of a JSON value for error messages: `true`, `12`, `"relu"`, `a list`, `an object`.
    static func describe(_ value: Any) -> String {
        if let flag = bool(value) { return flag ? "true" : "false" }
        if let number = value as? NSNumber { return number.stringValue }
        if let text = value as? String { return text.count > 80 ? "\"\(text.prefix(77))...\"" : "\"\(text)\"" }
        if let list = value as? [Any] {
            let items = list.prefix(8).map(describe).joined(separator: ", ")
            return "[\(items)\(list.count > 8 ? ", ..." : "")]"
        }
        if value is [String: Any] { return "an object" }
        return "null"
    }

    /// Booleans come out of `JSONSerialization` as `NSNumber`s of Objective-C type `c` (char); it makes no other
    /// numbers of that type.
    private static func isBoolean(_ number: NSNumber) -> Bool { String(cString: number.objCType) == "c" }

    /// A JSON string literal: quotes, backslashes and control characters escaped.
    public static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

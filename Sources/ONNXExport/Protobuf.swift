/// The protocol buffers wire format, as much of it as an ONNX file needs: a writer of varints, fixed 32-bit values
/// and length-delimited fields, and a reader that splits a message into its fields (for tests and checks).
///
/// Our own rather than swift-protobuf's generated code: ONNX needs eleven message types and only writing them, which
/// fits in these few functions, where onnx.proto's generated Swift is thousands of lines and a package to build.
public struct ProtobufWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    enum WireType: UInt64 {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
        case fixed32 = 5
    }

    mutating func key(_ field: Int, _ type: WireType) { varint(UInt64(field) << 3 | type.rawValue) }

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    /// An int64 or int32 field (negative values as ten-byte two's complement, as protobuf writes them).
    public mutating func integer(_ field: Int, _ value: Int) {
        key(field, .varint)
        varint(UInt64(bitPattern: Int64(value)))
    }

    public mutating func float(_ field: Int, _ value: Float) {
        key(field, .fixed32)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func data(_ field: Int, _ value: [UInt8]) {
        key(field, .lengthDelimited)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    public mutating func string(_ field: Int, _ value: String) { data(field, Array(value.utf8)) }

    public mutating func message(_ field: Int, _ value: ProtobufWriter) { data(field, value.bytes) }
}

/// The fields of one protobuf message, in order: numbers with their varint, fixed or length-delimited values.
public struct ProtobufFields {
    public enum Value: Equatable {
        case varint(UInt64)
        case fixed32(UInt32)
        case fixed64(UInt64)
        case bytes([UInt8])
    }

    public private(set) var fields: [(number: Int, value: Value)] = []

    public struct Malformed: Error, CustomStringConvertible {
        public var offset: Int
        public var reason: String
        public var description: String { "malformed protobuf at byte \(offset): \(reason)" }
    }

    public init(_ bytes: [UInt8]) throws(Malformed) {
        var offset = 0
        func varint() throws(Malformed) -> UInt64 {
            var value: UInt64 = 0, shift: UInt64 = 0
            while true {
                guard offset < bytes.count else { throw Malformed(offset: offset, reason: "a varint runs past the end") }
                guard shift < 64 else { throw Malformed(offset: offset, reason: "a varint longer than ten bytes") }
                let byte = bytes[offset]
                offset += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
        }
        while offset < bytes.count {
            let key = try varint()
            let number = Int(key >> 3)
            guard number > 0 else { throw Malformed(offset: offset, reason: "field number 0") }
            switch key & 7 {
            case 0: fields.append((number, .varint(try varint())))
            case 1:
                guard offset + 8 <= bytes.count else { throw Malformed(offset: offset, reason: "a fixed64 runs past the end") }
                var value: UInt64 = 0
                for i in 0..<8 { value |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
                offset += 8
                fields.append((number, .fixed64(value)))
            case 2:
                let length = Int(clamping: try varint())
                guard length <= bytes.count - offset else { throw Malformed(offset: offset, reason: "a field of \(length) bytes runs past the end") }
                fields.append((number, .bytes(Array(bytes[offset..<(offset + length)]))))
                offset += length
            case 5:
                guard offset + 4 <= bytes.count else { throw Malformed(offset: offset, reason: "a fixed32 runs past the end") }
                var value: UInt32 = 0
                for i in 0..<4 { value |= UInt32(bytes[offset + i]) << (8 * UInt32(i)) }
                offset += 4
                fields.append((number, .fixed32(value)))
            default: throw Malformed(offset: offset, reason: "wire type \(key & 7)")
            }
        }
    }

    /// The values of field `number`, in order.
    public subscript(number: Int) -> [Value] { fields.filter { $0.number == number }.map(\.value) }

    /// The length-delimited values of field `number` as text.
    public func strings(_ number: Int) -> [String] {
        self[number].compactMap { if case let .bytes(bytes) = $0 { String(decoding: bytes, as: UTF8.self) } else { nil } }
    }

    /// The length-delimited values of field `number` as messages.
    public func messages(_ number: Int) throws(Malformed) -> [ProtobufFields] {
        var result = [ProtobufFields]()
        for value in self[number] { if case let .bytes(bytes) = value { result.append(try ProtobufFields(bytes)) } }
        return result
    }

    /// The varint values of field `number` as signed integers.
    public func integers(_ number: Int) -> [Int] {
        self[number].compactMap { if case let .varint(value) = $0 { Int(Int64(bitPattern: value)) } else { nil } }
    }
}

import GraphIR

/// The safetensors dtypes: their sizes, and the conversion of those the runtime reads into host tensors
/// (floats to Float32, integers to Int32).
extension Safetensors {
    /// Bits per element of each dtype the format defines; nil for names it does not.
    static func bitsPerElement(_ dtype: String) -> Int? {
        switch dtype {
        case "BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0": 8
        case "I16", "U16", "F16", "BF16": 16
        case "I32", "U32", "F32": 32
        case "I64", "U64", "F64", "C64": 64
        case "F4": 4
        case "F6_E2M3", "F6_E3M2": 6
        default: nil
        }
    }

    /// The dtypes read, and what they become.
    static let readableDTypes = "F32, F16, BF16, F64 (as f32), I32, I64 (as i32)"

    /// Converts one tensor's bytes (little-endian, any alignment) into a host tensor, or nil for a dtype that is not
    /// read. F16 and BF16 convert exactly (subnormals, infinities, NaN and signed zeros included); F64 rounds to
    /// nearest; an I64 value outside Int32 is an error.
    static func convert(
        _ bytes: UnsafeRawBufferPointer, _ info: TensorInfo, path: String
    ) throws(CheckpointError) -> HostTensor? {
        let count = info.count
        switch info.dtype {
        case "F32":
            let tensor = HostTensor(.f32, shape: info.shape)
            copyWords(bytes, into: tensor, count: count)
            return tensor
        case "I32":
            let tensor = HostTensor(.i32, shape: info.shape)
            copyWords(bytes, into: tensor, count: count)
            return tensor
        case "F16":
            let tensor = HostTensor(.f32, shape: info.shape)
            let out = tensor.floats
            for i in 0..<count {
                let bits = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                out[i] = HalfPrecision.float(fromF16: bits)
            }
            return tensor
        case "BF16":
            let tensor = HostTensor(.f32, shape: info.shape)
            let out = tensor.floats
            for i in 0..<count {
                let bits = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                out[i] = HalfPrecision.float(fromBF16: bits)
            }
            return tensor
        case "F64":
            let tensor = HostTensor(.f32, shape: info.shape)
            let out = tensor.floats
            for i in 0..<count {
                let bits = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))
                out[i] = Float(Double(bitPattern: bits))
            }
            return tensor
        case "I64":
            let tensor = HostTensor(.i32, shape: info.shape)
            let out = tensor.int32s
            for i in 0..<count {
                let value = Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))
                guard let narrow = Int32(exactly: value) else {
                    throw CheckpointError(
                        "I64 value \(value) at element \(i) does not fit in Int32 (tensors are read as i32)",
                        file: path, tensor: info.name)
                }
                out[i] = narrow
            }
            return tensor
        default:
            return nil
        }
    }

    /// Copies 4-byte little-endian elements into a tensor's storage.
    private static func copyWords(_ bytes: UnsafeRawBufferPointer, into tensor: HostTensor, count: Int) {
        guard count > 0, let source = bytes.baseAddress else { return }
        #if _endian(little)
        tensor.storage.copyMemory(from: source, byteCount: 4 * count)
        #else
        let out = tensor.storage.assumingMemoryBound(to: UInt32.self)
        for i in 0..<count { out[i] = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
        #endif
    }
}

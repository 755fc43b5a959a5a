import GraphIR

/// The header of a safetensors file: an 8-byte little-endian length N, N bytes of JSON describing each tensor
/// (`{"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, "__metadata__": {...}}`), then the data
/// buffer the offsets index.
extension Safetensors {
    /// One tensor as the header describes it.
    public struct TensorInfo: Hashable, Sendable {
        public var name: String
        /// The safetensors dtype name (`F32`, `BF16`, `I64`, ...), as written.
        public var dtype: String
        public var shape: [Int]
        /// The element count (the product of the shape).
        public var count: Int
        /// The tensor's bytes in the data buffer.
        public var dataOffsets: Range<Int>

        public init(name: String, dtype: String, shape: [Int], count: Int, dataOffsets: Range<Int>) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.count = count
            self.dataOffsets = dataOffsets
        }
    }

    /// A parsed, checked header.
    struct Header {
        /// In buffer order (by start offset, then name).
        var tensors: [TensorInfo]
        var metadata: [String: String]
        /// Where the data buffer starts in the file (8 + N).
        var dataStart: Int
    }

    /// The largest header read (the reference implementation's limit): a bigger one is a corrupt length, not a
    /// checkpoint.
    public static let maximumHeaderLength = 100_000_000

    /// Parses and checks the header of a mapped file: the length fits in the file and under the limit, the JSON is
    /// an object of well-formed entries, every shape's byte size matches its offsets, offsets lie in the buffer and
    /// no two tensors share bytes. Every bad entry is reported, together.
    static func parseHeader(_ file: UnsafeRawBufferPointer, path: String) throws(CheckpointError) -> Header {
        guard file.count >= 8 else {
            throw CheckpointError(
                "truncated: \(file.count) bytes, but a safetensors file starts with an 8-byte header length", file: path)
        }
        let declared = UInt64(littleEndian: file.loadUnaligned(as: UInt64.self))
        guard declared <= UInt64(maximumHeaderLength) else {
            throw CheckpointError(
                "header length \(declared) is over the limit of \(maximumHeaderLength) bytes (not a safetensors file?)",
                file: path)
        }
        let length = Int(declared)
        guard length <= file.count - 8 else {
            throw CheckpointError(
                "truncated: the header is \(length) bytes but only \(file.count - 8) follow its length", file: path)
        }
        let bufferSize = file.count - 8 - length
        let json: Any
        switch JSONValues.parse(UnsafeRawBufferPointer(rebasing: file[8..<(8 + length)])) {
        case .success(let value): json = value
        case .failure(let failure): throw CheckpointError("header is \(failure.reason)", file: path)
        }
        guard let entries = json as? [String: Any] else {
            throw CheckpointError("header is not a JSON object", file: path)
        }

        var problems: [Diagnostic] = []
        func problem(_ message: String, _ tensor: String? = nil) {
            problems += CheckpointError(message, file: path, tensor: tensor).diagnostics
        }
        var tensors: [TensorInfo] = []
        var metadata: [String: String] = [:]
        for name in entries.keys.sorted() {
            guard let value = entries[name] else { continue }
            if name == "__metadata__" {
                guard let pairs = value as? [String: Any] else { problem("__metadata__ is not an object"); continue }
                for key in pairs.keys.sorted() {
                    guard let text = pairs[key] as? String else {
                        problem("__metadata__ value of '\(key)' is not a string"); continue
                    }
                    metadata[key] = text
                }
                continue
            }
            switch entry(name, value, bufferSize: bufferSize) {
            case .success(let info): tensors.append(info)
            case .failure(let failure): problem(failure.reason, name)
            }
        }

        tensors.sort {
            ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound, $0.name)
                < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound, $1.name)
        }
        var previous: TensorInfo?
        for info in tensors where !info.dataOffsets.isEmpty {
            if let previous, info.dataOffsets.lowerBound < previous.dataOffsets.upperBound {
                problem(
                    "bytes \(range(info.dataOffsets)) overlap tensor '\(previous.name)' at \(range(previous.dataOffsets))",
                    info.name)
            }
            if info.dataOffsets.upperBound > previous?.dataOffsets.upperBound ?? -1 { previous = info }
        }
        guard problems.isEmpty else { throw CheckpointError(problems) }
        return Header(tensors: tensors, metadata: metadata, dataStart: 8 + length)
    }

    private struct EntryProblem: Error {
        var reason: String
        init(_ reason: String) { self.reason = reason }
    }

    /// One tensor entry, checked against itself and the buffer size.
    private static func entry(_ name: String, _ value: Any, bufferSize: Int) -> Result<TensorInfo, EntryProblem> {
        guard let fields = value as? [String: Any] else { return .failure(EntryProblem("entry is not an object")) }
        guard let dtypeValue = fields["dtype"] else { return .failure(EntryProblem("entry has no 'dtype'")) }
        guard let dtype = dtypeValue as? String else {
            return .failure(EntryProblem("dtype is \(JSONValues.describe(dtypeValue)), not a string"))
        }
        guard let shapeValue = fields["shape"] else { return .failure(EntryProblem("entry has no 'shape'")) }
        guard let dims = shapeValue as? [Any] else {
            return .failure(EntryProblem("shape is \(JSONValues.describe(shapeValue)), not a list"))
        }
        var shape: [Int] = []
        for dim in dims {
            guard let size = JSONValues.integer(dim), size >= 0 else {
                return .failure(EntryProblem(
                    "shape \(JSONValues.describe(shapeValue)) has \(JSONValues.describe(dim)), not a size"))
            }
            shape.append(size)
        }
        var count = 1
        for size in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else { return .failure(EntryProblem("shape \(shape) has more elements than can be counted")) }
            count = product
        }
        guard let offsetsValue = fields["data_offsets"] else { return .failure(EntryProblem("entry has no 'data_offsets'")) }
        guard let offsets = offsetsValue as? [Any], offsets.count == 2,
              let begin = JSONValues.integer(offsets[0]), let end = JSONValues.integer(offsets[1]), begin >= 0, end >= 0
        else {
            return .failure(EntryProblem(
                "data_offsets is \(JSONValues.describe(offsetsValue)), not a pair of byte offsets [begin, end]"))
        }
        guard begin <= end else { return .failure(EntryProblem("data_offsets [\(begin), \(end)] end before they begin")) }
        guard end <= bufferSize else {
            return .failure(EntryProblem(
                "data_offsets [\(begin), \(end)] go past the end of the data (\(bufferSize) bytes; truncated file?)"))
        }
        if let bits = bitsPerElement(dtype) {
            let (totalBits, overflow) = count.multipliedReportingOverflow(by: bits)
            guard !overflow, totalBits % 8 == 0, totalBits / 8 == end - begin else {
                let expected = overflow ? "too many bytes" : totalBits % 8 == 0 ? "\(totalBits / 8) bytes" : "\(totalBits) bits"
                return .failure(EntryProblem(
                    "shape \(shape) of \(dtype) is \(expected), but data_offsets [\(begin), \(end)] hold \(end - begin)"))
            }
        }
        return .success(TensorInfo(name: name, dtype: dtype, shape: shape, count: count, dataOffsets: begin..<end))
    }

    private static func range(_ offsets: Range<Int>) -> String { "[\(offsets.lowerBound), \(offsets.upperBound))" }
}

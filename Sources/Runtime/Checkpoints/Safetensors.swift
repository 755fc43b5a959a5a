import FileSystem
import GraphIR

/// Reading and writing safetensors files (https://github.com/huggingface/safetensors), the format HuggingFace
/// checkpoints come in.
///
/// Reading maps the file, checks the whole header before touching any data (`SafetensorsHeader.swift`) and converts
/// each tensor into a `HostTensor`: F32, F16, BF16 and F64 become f32, I32 and I64 become i32
/// (`SafetensorsDTypes.swift`). Every problem is a `CheckpointError` naming the file and, where there is one, the
/// tensor. Writing produces what the reference implementation writes (compact JSON, header padded with spaces to a
/// multiple of 8 bytes), atomically.
public enum Safetensors {
    /// The tensors of a file by name, converted to host tensors.
    ///
    /// - Parameters:
    ///   - only: when given, the names to read; others are not converted (names not in the file are ignored: the
    ///     caller decides whether a missing tensor is an error).
    ///   - skipUnsupported: leave out tensors of dtypes that are not read (BOOL, U8, F8_E4M3, ...) instead of
    ///     refusing the file.
    public static func read(
        _ path: String, only: Set<String>? = nil, skipUnsupported: Bool = false
    ) throws(CheckpointError) -> [String: HostTensor] {
        try MappedFile.withBytes(of: path) { (file) throws(CheckpointError) in
            let header = try parseHeader(file, path: path)
            var tensors: [String: HostTensor] = [:]
            var unsupported: [Diagnostic] = []
            for info in header.tensors where only?.contains(info.name) ?? true {
                let start = header.dataStart + info.dataOffsets.lowerBound
                let bytes = UnsafeRawBufferPointer(rebasing: file[start..<(start + info.dataOffsets.count)])
                if let tensor = try convert(bytes, info, path: path) {
                    tensors[info.name] = tensor
                } else if !skipUnsupported {
                    unsupported += CheckpointError(
                        "dtype \(info.dtype) is not supported (read are \(readableDTypes))", file: path, tensor: info.name
                    ).diagnostics
                }
            }
            guard unsupported.isEmpty else { throw CheckpointError(unsupported) }
            return tensors
        }
    }

    /// The tensors a file holds (name, dtype as written, shape, offsets), in the order of their data; the header is
    /// checked as `read` checks it, but no data is converted.
    public static func readHeader(_ path: String) throws(CheckpointError) -> [TensorInfo] {
        try MappedFile.withBytes(of: path) { (file) throws(CheckpointError) in try parseHeader(file, path: path).tensors }
    }

    /// The file's `__metadata__` (string to string; empty when there is none).
    public static func readMetadata(_ path: String) throws(CheckpointError) -> [String: String] {
        try MappedFile.withBytes(of: path) { (file) throws(CheckpointError) in try parseHeader(file, path: path).metadata }
    }

    /// Writes tensors, in the given order, as F32 (f32 tensors) and I32 (i32 tensors), with optional metadata. The
    /// file appears complete or not at all: it is written to a temporary file in the same folder, flushed, and
    /// renamed over `path`.
    public static func write(
        _ tensors: [(String, HostTensor)], metadata: [String: String] = [:], to path: String
    ) throws(CheckpointError) {
        var problems: [Diagnostic] = []
        var seen: Set<String> = []
        for (name, tensor) in tensors {
            if name == "__metadata__" {
                problems += CheckpointError("'__metadata__' cannot name a tensor", file: path, tensor: name).diagnostics
            } else if !seen.insert(name).inserted {
                problems += CheckpointError("the name is given twice", file: path, tensor: name).diagnostics
            }
            if tensor.shape.contains(where: { $0 < 0 }) {
                problems += CheckpointError("shape \(tensor.shape) has a negative size", file: path, tensor: name).diagnostics
            }
        }
        guard problems.isEmpty else { throw CheckpointError(problems) }

        var entries: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(JSONValues.quoted($0)):\(JSONValues.quoted(metadata[$0] ?? ""))" }
            entries.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for (name, tensor) in tensors {
            let dtype = switch tensor.dtype {
            case .f32: "F32"
            case .i32: "I32"
            }
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            let end = offset + 4 * tensor.count
            entries.append(
                "\(JSONValues.quoted(name)):{\"dtype\":\"\(dtype)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var header = Array("{\(entries.joined(separator: ","))}".utf8)
        header += repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8)
        guard header.count <= maximumHeaderLength else {
            throw CheckpointError(
                "the header would be \(header.count) bytes, over the limit of \(maximumHeaderLength)", file: path)
        }

        do {
            try AtomicFile.write(to: path) { (output) throws(FileError) in
                try output.write(withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) })
                try output.write(header)
                for (_, tensor) in tensors {
                    #if _endian(little)
                    try output.write(UnsafeRawBufferPointer(start: tensor.storage, count: 4 * tensor.count))
                    #else
                    let words = (0..<tensor.count).map { tensor.storage.load(fromByteOffset: 4 * $0, as: UInt32.self).littleEndian }
                    try output.write(words.withUnsafeBytes { Array($0) })
                    #endif
                }
            }
        } catch {
            throw CheckpointError(error.fileError.message, file: path)
        }
    }
}

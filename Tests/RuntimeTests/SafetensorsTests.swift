import Foundation
import GraphIR
import Runtime
import Testing

@Suite("Safetensors files")
struct SafetensorsTests {
    @Test("written tensors read back with their values, dtypes, order and metadata")
    func roundTrip() throws {
        let folder = TemporaryDirectory()
        let path = folder.file("model.safetensors")
        let weight = HostTensor(floats: [1.5, -2, 0, .infinity, -0.0, .leastNonzeroMagnitude * 21], shape: [2, 3])
        let lengths = HostTensor(int32s: [7, -1, .max, .min], shape: [4])
        let scalar = HostTensor(floats: [42], shape: [])
        let empty = HostTensor(.f32, shape: [0, 5])
        let metadata = ["format": "pt", "note": "quotes \" backslash \\ newline \n tab \t bell \u{7} é"]
        try Safetensors.write(
            [("z.weight", weight), ("a.lengths", lengths), ("scalar", scalar), ("empty", empty)], metadata: metadata, to: path)

        let header = try Safetensors.readHeader(path)
        #expect(header.map(\.name) == ["z.weight", "a.lengths", "scalar", "empty"])
        #expect(header.map(\.dtype) == ["F32", "I32", "F32", "F32"])
        #expect(header.map(\.shape) == [[2, 3], [4], [], [0, 5]])
        #expect(header.map(\.dataOffsets) == [0..<24, 24..<40, 40..<44, 44..<44])
        #expect(try Safetensors.readMetadata(path) == metadata)

        let tensors = try Safetensors.read(path)
        #expect(tensors.count == 4)
        #expect(tensors["z.weight"]?.floatArray.map(\.bitPattern) == weight.floatArray.map(\.bitPattern))
        #expect(tensors["z.weight"]?.typeDescription == "f32[2, 3]")
        #expect(tensors["a.lengths"]?.int32Array == [7, -1, .max, .min])
        #expect(tensors["a.lengths"]?.dtype == .i32)
        #expect(tensors["scalar"]?.floatArray == [42])
        #expect(tensors["empty"]?.shape == [0, 5])

        let some = try Safetensors.read(path, only: ["scalar", "not.in.the.file"])
        #expect(Array(some.keys) == ["scalar"])
    }

    @Test("the writer's bytes are the reference implementation's (compact JSON, spaces to 8 bytes)")
    func referenceBytes() throws {
        let folder = TemporaryDirectory()
        let path = folder.file("reference.safetensors")
        try Safetensors.write(
            [("w", HostTensor(floats: [1, 2, 3, 4, 5, 6], shape: [2, 3])), ("n", HostTensor(int32s: [7, -1], shape: [2]))],
            metadata: ["format": "pt"], to: path)
        // safetensors 0.8.0: save({"w": torch.tensor([[1., 2., 3.], [4., 5., 6.]]),
        //                          "n": torch.tensor([7, -1], dtype=torch.int32)}, metadata={"format": "pt"})
        let header = #"{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"#
            + #""n":{"dtype":"I32","shape":[2],"data_offsets":[24,32]}} "#
        let data = littleEndianBytes([Float](arrayLiteral: 1, 2, 3, 4, 5, 6).map(\.bitPattern)) + littleEndianBytes([Int32(7), -1])
        let bytes = try #require(FileManager.default.contents(atPath: path))
        #expect(Array(bytes) == safetensorsBytes(header: header, data: data))
        #expect(header.utf8.count == 144)
    }

    @Test("F16 and BF16 convert exactly: subnormals, infinities, NaN, signed zeros")
    func halfPrecision() throws {
        let f16: [UInt16] = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x7c00, 0xfc00, 0x7e00, 0x8000, 0x3555, 0x8001]
        let bf16: [UInt16] = [0x3f80, 0x3eab, 0x7f80, 0x8000, 0x0001, 0x7fc0, 0xff7f]
        let header = #"{"h":{"dtype":"F16","shape":[12],"data_offsets":[0,24]},"#
            + #""b":{"dtype":"BF16","shape":[7],"data_offsets":[24,38]}}"#
        let folder = TemporaryDirectory()
        let path = folder.write(safetensorsBytes(header: header, data: littleEndianBytes(f16) + littleEndianBytes(bf16)), to: "half.safetensors")
        let tensors = try Safetensors.read(path)

        // Values from torch: torch.tensor(bits, dtype=torch.int16).view(torch.float16).float().
        let h = try #require(tensors["h"]).floatArray
        #expect(Array(h[0..<6]) == [1, -2, 65504, 5.960464477539063e-08, 6.097555160522461e-05, 6.103515625e-05])
        #expect(h[6] == .infinity && h[7] == -.infinity)
        #expect(h[8].isNaN)
        #expect(h[9] == 0 && h[9].sign == .minus)
        #expect(h[10] == 0.333251953125)
        #expect(h[11] == -5.960464477539063e-08)
        #expect(try #require(tensors["h"]).dtype == .f32)

        let b = try #require(tensors["b"]).floatArray
        #expect(Array(b[0..<2]) == [1, 0.333984375])
        #expect(b[2] == .infinity)
        #expect(b[3] == 0 && b[3].sign == .minus)
        #expect(b[4] == Float(bitPattern: 0x0001_0000) && b[4].isSubnormal)  // 2^-133
        #expect(b[5].isNaN)
        #expect(b[6] == -3.3895314e38)  // the largest finite BF16
    }

    #if !(os(macOS) && arch(x86_64))
    @Test("every F16 value converts as the platform's Float16 does")
    func everyHalf() throws {
        let all = (0...UInt16.max).map { $0 }
        let header = #"{"all":{"dtype":"F16","shape":[65536],"data_offsets":[0,131072]}}"#
        let folder = TemporaryDirectory()
        let path = folder.write(safetensorsBytes(header: header, data: littleEndianBytes(all)), to: "all.safetensors")
        let read = try #require(try Safetensors.read(path)["all"]).floatArray
        var mismatches = 0
        for bits in all {
            let expected = Float(Float16(bitPattern: bits))
            let actual = read[Int(bits)]
            if expected.isNaN ? !actual.isNaN : expected.bitPattern != actual.bitPattern { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }
    #endif

    @Test("F64 rounds to Float32 and I64 narrows to Int32, refusing values that do not fit")
    func wideTypes() throws {
        let doubles: [Double] = [1.0 / 3.0, -0.0, 1e300, .leastNonzeroMagnitude * 2024, .nan, -2.5]
        let longs: [Int64] = [0, -1, Int64(Int32.max), Int64(Int32.min)]
        let header = #"{"d":{"dtype":"F64","shape":[2,3],"data_offsets":[0,48]},"#
            + #""l":{"dtype":"I64","shape":[4],"data_offsets":[48,80]}}"#
        let folder = TemporaryDirectory()
        let path = folder.write(
            safetensorsBytes(header: header, data: littleEndianBytes(doubles.map(\.bitPattern)) + littleEndianBytes(longs)),
            to: "wide.safetensors")
        let tensors = try Safetensors.read(path)
        let d = try #require(tensors["d"])
        #expect(d.shape == [2, 3] && d.dtype == .f32)
        #expect(d.floatArray[0] == Float(1.0 / 3.0))
        #expect(d.floatArray[1].sign == .minus && d.floatArray[1] == 0)
        #expect(d.floatArray[2] == .infinity)
        #expect(d.floatArray[3] == 0)
        #expect(d.floatArray[4].isNaN)
        #expect(d.floatArray[5] == -2.5)
        #expect(tensors["l"]?.int32Array == [0, -1, .max, .min])
        #expect(tensors["l"]?.dtype == .i32)

        let tooBig = folder.write(
            safetensorsBytes(header: #"{"ids":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}}"#,
                             data: littleEndianBytes([Int64(5), Int64(Int32.max) + 1])),
            to: "big.safetensors")
        let message = checkpointMessage { () throws(CheckpointError) in _ = try Safetensors.read(tooBig) }
        #expect(message == "error: \(tooBig): tensor 'ids': I64 value 2147483648 at element 1 does not fit in Int32 (tensors are read as i32)")
    }

    @Test("truncated files are refused, naming the file")
    func truncated() throws {
        let folder = TemporaryDirectory()
        let short = folder.write([1, 0, 0], to: "short.safetensors")
        #expect(checkpointMessage { () throws(CheckpointError) in _ = try Safetensors.read(short) }
            == "error: \(short): truncated: 3 bytes, but a safetensors file starts with an 8-byte header length")
        let empty = folder.write([], to: "empty.safetensors")
        #expect(checkpointMessage { () throws(CheckpointError) in _ = try Safetensors.read(empty) }?.contains("truncated: 0 bytes") == true)

        // A whole file cut short in its data: the offsets run past the end.
        let folder2 = TemporaryDirectory()
        let full = folder2.file("full.safetensors")
        try Safetensors.write([("w", HostTensor(floats: [1, 2, 3, 4], shape: [4]))], to: full)
        let bytes = try #require(FileManager.default.contents(atPath: full))
        let cut = folder.write(Array(bytes.dropLast(3)), to: "cut.safetensors")
        let message = try #require(checkpointMessage { () throws(CheckpointError) in _ = try Safetensors.read(cut) })
        #expect(message == "error: \(cut): tensor 'w': data_offsets [0, 16] go past the end of the data (13 bytes; truncated file?)")

        // Cut inside the header.
        let inHeader = folder.write(Array(bytes.prefix(20)), to: "header.safetensors")
        #expect(checkpointMessage { () throws(CheckpointError) in _ = try Safetensors.readHeader(inHeader) }?
            .contains("\(inHeader): truncated: the header is") == true)

        let missing = folder.file("absent.safetensors")
        #expect(checkpointMessage { () throws(CheckpointError) in _ = try Safetensors.read(missing) }
            == "error: \(missing): cannot open: no such file or directory")
        #expect(checkpointMessage { () throws(CheckpointError) in _ = try Safetensors.read(folder.path) }
            == "error: \(folder.path): not a regular file")
    }

    @Test("a header length beyond the file or the 100 MB limit is refused")
    func headerLength() throws {
        let folder = TemporaryDirectory()
        let beyond = folder.write(safetensorsBytes(header: "{}", length: 1000), to: "beyond.safetensors")
        #expect(checkpointMessage { () throws(CheckpointError) in _ = try Safetensors.read(beyond) }
            == "error: \(beyond): truncated: the header is 1000 bytes but only 2 follow its length")
        let huge = folder.write(safetensorsBytes(header: "{}", length: .max), to: "huge.safetensors")
        #expect(checkpointMessage { () throws(CheckpointError) in _ = try Safetensors.read(huge) }
            == "error: \(huge): header length 18446744073709551615 is over the limit of 100000000 bytes (not a safetensors file?)")
    }

    @Test("headers that are not JSON objects of well-typed entries are refused")
    func malformedHeaders() throws {
        let folder = TemporaryDirectory()
        func message(_ header: [UInt8], data: [UInt8] = []) -> String? {
            let path = folder.write(littleEndianBytes([UInt64(header.count)]) + header + data, to: "bad.safetensors")
            return checkpointMessage { () throws(CheckpointError) in _ = try Safetensors.read(path) }?
                .replacingOccurrences(of: path, with: "FILE")
        }
        #expect(message(Array(#"{"a": {"dtype": "F32""#.utf8))?.hasPrefix("error: FILE: header is not valid JSON") == true)
        #expect(message([0x7b, 0xff, 0xfe, 0x7d]) == "error: FILE: header is not valid UTF-8")
        #expect(message([])?.hasPrefix("error: FILE: header is not valid JSON") == true)
        #expect(message(Array("[1, 2]".utf8)) == "error: FILE: header is not a JSON object")
        #expect(message(Array(#"{"__metadata__": {"a": 1}}"#.utf8)) == "error: FILE: __metadata__ value of 'a' is not a string")
        #expect(message(Array(#"{"w": [1]}"#.utf8)) == "error: FILE: tensor 'w': entry is not an object")
        #expect(message(Array(#"{"w": {"shape": [1], "data_offsets": [0, 4]}}"#.utf8)) == "error: FILE: tensor 'w': entry has no 'dtype'")
        #expect(message(Array(#"{"w": {"dtype": 7, "shape": [1], "data_offsets": [0, 4]}}"#.utf8), data: [0, 0, 0, 0])
            == "error: FILE: tensor 'w': dtype is 7, not a string")
        #expect(message(Array(#"{"w": {"dtype": "F32", "shape": [1.0], "data_offsets": [0, 4]}}"#.utf8), data: [0, 0, 0, 0])
            == "error: FILE: tensor 'w': shape [1.0] has 1.0, not a size")
        #expect(message(Array(#"{"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}"#.utf8), data: [0, 0, 0, 0])
            == "error: FILE: tensor 'w': shape [-1] has -1, not a size")
        #expect(message(Array(#"{"w": {"dtype": "F32", "shape": [true], "data_offsets": [0, 4]}}"#.utf8), data: [0, 0, 0, 0])
            == "error: FILE: tensor 'w': shape [true] has true, not a size")
        #expect(message(Array(#"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0]}}"#.utf8), data: [0, 0, 0, 0])
            == "error: FILE: tensor 'w': data_offsets is [0], not a pair of byte offsets [begin, end]")
        #expect(message(Array(#"{"w": {"dtype": "F32", "shape": [0], "data_offsets": [4, 0]}}"#.utf8), data: [0, 0, 0, 0])
            == "error: FILE: tensor 'w': data_offsets [4, 0] end before they begin")
        // Several bad entries are reported together.
        let both = message(Array(#"{"a": {"dtype": "F32"}, "b": 3}"#.utf8))
        #expect(both == "error: FILE: tensor 'a': entry has no 'shape'\nerror: FILE: tensor 'b': entry is not an object")
    }

    @Test("offsets outside the data, overlapping tensors and sizes that do not match the shape are refused")
    func badOffsets() throws {
        let folder = TemporaryDirectory()
        func message(_ header: String, bytes: Int) -> String? {
            let path = folder.write(safetensorsBytes(header: header, data: Array(repeating: 0, count: bytes)), to: "bad.safetensors")
            return checkpointMessage { () throws(CheckpointError) in _ = try Safetensors.readHeader(path) }?
                .replacingOccurrences(of: path, with: "FILE")
        }
        #expect(message(#"{"w": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}}"#, bytes: 16)
            == "error: FILE: tensor 'w': data_offsets [8, 24] go past the end of the data (16 bytes; truncated file?)")
        #expect(message(#"{"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [12, 20]}}"#, bytes: 20)
            == "error: FILE: tensor 'b': bytes [12, 20) overlap tensor 'a' at [0, 16)")
        #expect(message(#"{"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}, "c": {"dtype": "F32", "shape": [1], "data_offsets": [12, 16]}}"#, bytes: 16)
            == "error: FILE: tensor 'b': bytes [4, 8) overlap tensor 'a' at [0, 16)\nerror: FILE: tensor 'c': bytes [12, 16) overlap tensor 'a' at [0, 16)")
        // Empty tensors share no bytes with anything.
        #expect(message(#"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "e": {"dtype": "F32", "shape": [0, 3], "data_offsets": [4, 4]}}"#, bytes: 8) == nil)
        #expect(message(#"{"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 20]}}"#, bytes: 24)
            == "error: FILE: tensor 'w': shape [2, 3] of F32 is 24 bytes, but data_offsets [0, 20] hold 20")
        #expect(message(#"{"w": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 8]}}"#, bytes: 8)
            == "error: FILE: tensor 'w': shape [3] of BF16 is 6 bytes, but data_offsets [0, 8] hold 8")
        #expect(message(#"{"w": {"dtype": "F32", "shape": [4294967296, 4294967296, 0], "data_offsets": [0, 0]}}"#, bytes: 0)
            == "error: FILE: tensor 'w': shape [4294967296, 4294967296, 0] has more elements than can be counted")
        #expect(message(#"{"w": {"dtype": "F64", "shape": [1152921504606846976, 2], "data_offsets": [0, 8]}}"#, bytes: 8)
            == "error: FILE: tensor 'w': shape [1152921504606846976, 2] of F64 is too many bytes, but data_offsets [0, 8] hold 8")
    }

    @Test("dtypes that are not read are refused by name, or skipped when asked")
    func unsupportedDTypes() throws {
        let header = #"{"mask": {"dtype": "BOOL", "shape": [4], "data_offsets": [0, 4]}, "q": {"dtype": "F8_E4M3", "shape": [2], "data_offsets": [4, 6]}, "w": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}"#
        let folder = TemporaryDirectory()
        let path = folder.write(safetensorsBytes(header: header, data: [1, 0, 1, 0, 7, 7, 0, 0] + littleEndianBytes([Float(2).bitPattern])), to: "mixed.safetensors")
        let message = checkpointMessage { () throws(CheckpointError) in _ = try Safetensors.read(path) }
        #expect(message == """
            error: \(path): tensor 'mask': dtype BOOL is not supported (read are F32, F16, BF16, F64 (as f32), I32, I64 (as i32))
            error: \(path): tensor 'q': dtype F8_E4M3 is not supported (read are F32, F16, BF16, F64 (as f32), I32, I64 (as i32))
            """)
        let skipped = try Safetensors.read(path, skipUnsupported: true)
        #expect(Array(skipped.keys) == ["w"])
        #expect(skipped["w"]?.floatArray == [2])
        #expect(try Safetensors.read(path, only: ["w"]).keys.sorted() == ["w"])
        #expect(try Safetensors.readHeader(path).map(\.dtype) == ["BOOL", "F8_E4M3", "F32"])
    }

    @Test("writing is atomic: no temporary file is left, and a failed write leaves the target as it was")
    func atomicWrite() throws {
        let folder = TemporaryDirectory()
        let path = folder.file("model.safetensors")
        let tensor = HostTensor(floats: [1, 2], shape: [2])
        try Safetensors.write([("w", tensor)], to: path)
        try Safetensors.write([("w", tensor), ("v", tensor)], to: path)
        #expect(folder.contents == ["model.safetensors"])
        #expect(try Safetensors.readHeader(path).map(\.name) == ["w", "v"])

        // Refused before writing: the old file stays.
        let twice = checkpointMessage { () throws(CheckpointError) in
            try Safetensors.write([("x", tensor), ("x", tensor), ("__metadata__", tensor)], to: path)
        }
        #expect(twice == "error: \(path): tensor 'x': the name is given twice\nerror: \(path): tensor '__metadata__': '__metadata__' cannot name a tensor")
        #expect(try Safetensors.readHeader(path).map(\.name) == ["w", "v"])
        #expect(folder.contents == ["model.safetensors"])

        // Failing at the rename, after the data is written: the temporary file goes, the directory in the way stays.
        let blocked = folder.file("blocked")
        try FileManager.default.createDirectory(atPath: blocked, withIntermediateDirectories: false)
        let renameFailure = checkpointMessage { () throws(CheckpointError) in try Safetensors.write([("w", tensor)], to: blocked) }
        #expect(renameFailure == "error: \(blocked): cannot replace the file: is a directory")
        #expect(folder.contents == ["blocked", "model.safetensors"])

        let nowhere = folder.file("absent/model.safetensors")
        #expect(checkpointMessage { () throws(CheckpointError) in try Safetensors.write([("w", tensor)], to: nowhere) }
            == "error: \(nowhere): cannot create a temporary file in '\(folder.file("absent"))': no such file or directory")
    }
}

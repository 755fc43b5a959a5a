/// The ONNX messages an exported model is made of (onnx.proto's field numbers), written with `ProtobufWriter`.
public enum ONNX {
    /// TensorProto.DataType.
    public enum ElementType: Int, Sendable {
        case float = 1
        case int32 = 6
        case int64 = 7
    }

    /// A node attribute (AttributeProto).
    public struct Attribute: Sendable {
        public enum Value: Sendable {
            case int(Int)
            case float(Float)
            case ints([Int])
            case string(String)
        }

        public var name: String
        public var value: Value

        public init(_ name: String, _ value: Value) {
            self.name = name
            self.value = value
        }

        func encoded() -> ProtobufWriter {
            var writer = ProtobufWriter()
            writer.string(1, name)
            switch value {
            case let .float(value):
                writer.float(2, value)
                writer.integer(20, 1)
            case let .int(value):
                writer.integer(3, value)
                writer.integer(20, 2)
            case let .string(value):
                writer.string(4, value)
                writer.integer(20, 3)
            case let .ints(values):
                for value in values { writer.integer(8, value) }
                writer.integer(20, 7)
            }
            return writer
        }
    }

    /// NodeProto.
    public struct Node: Sendable {
        public var opType: String
        public var inputs: [String]
        public var outputs: [String]
        public var name: String
        public var attributes: [Attribute]

        public init(_ opType: String, _ inputs: [String], _ outputs: [String], name: String, _ attributes: [Attribute] = []) {
            self.opType = opType
            self.inputs = inputs
            self.outputs = outputs
            self.name = name
            self.attributes = attributes
        }

        func encoded() -> ProtobufWriter {
            var writer = ProtobufWriter()
            for input in inputs { writer.string(1, input) }
            for output in outputs { writer.string(2, output) }
            writer.string(3, name)
            writer.string(4, opType)
            for attribute in attributes { writer.message(5, attribute.encoded()) }
            return writer
        }
    }

    /// TensorProto with its values as raw little-endian bytes.
    public struct Tensor: Sendable {
        public var name: String
        public var dims: [Int]
        public var type: ElementType
        public var raw: [UInt8]

        public init(name: String, floats: [Float], dims: [Int]) {
            self.name = name
            self.dims = dims
            type = .float
            raw = floats.withUnsafeBytes { Array($0) }
        }

        public init(name: String, int32s: [Int32], dims: [Int]) {
            self.name = name
            self.dims = dims
            type = .int32
            raw = int32s.map(\.littleEndian).withUnsafeBytes { Array($0) }
        }

        public init(name: String, int64s: [Int64], dims: [Int]) {
            self.name = name
            self.dims = dims
            type = .int64
            raw = int64s.map(\.littleEndian).withUnsafeBytes { Array($0) }
        }

        func encoded() -> ProtobufWriter {
            var writer = ProtobufWriter()
            for dim in dims { writer.integer(1, dim) }
            writer.integer(2, type.rawValue)
            writer.string(8, name)
            writer.data(9, raw)
            return writer
        }
    }

    /// A graph input or output: ValueInfoProto with a tensor type whose dims are sizes or names (`B`, `S`).
    public struct ValueInfo: Sendable {
        public enum Dimension: Sendable {
            case size(Int)
            case name(String)
        }

        public var name: String
        public var type: ElementType
        public var dims: [Dimension]

        public init(name: String, type: ElementType, dims: [Dimension]) {
            self.name = name
            self.type = type
            self.dims = dims
        }

        func encoded() -> ProtobufWriter {
            var shape = ProtobufWriter()
            for dim in dims {
                var dimension = ProtobufWriter()
                switch dim {
                case let .size(value): dimension.integer(1, value)
                case let .name(value): dimension.string(2, value)
                }
                shape.message(1, dimension)
            }
            var tensorType = ProtobufWriter()
            tensorType.integer(1, type.rawValue)
            tensorType.message(2, shape)
            var typeProto = ProtobufWriter()
            typeProto.message(1, tensorType)
            var writer = ProtobufWriter()
            writer.string(1, name)
            writer.message(2, typeProto)
            return writer
        }
    }

    /// ModelProto with one GraphProto: IR version 8, the default domain at `opset`.
    public struct Model: Sendable {
        public var name: String
        public var nodes: [Node] = []
        public var initializers: [Tensor] = []
        public var inputs: [ValueInfo] = []
        public var outputs: [ValueInfo] = []
        public var metadata: [(key: String, value: String)] = []
        public var opset: Int
        public var producerVersion: String

        public init(name: String, opset: Int = 17, producerVersion: String) {
            self.name = name
            self.opset = opset
            self.producerVersion = producerVersion
        }

        /// The model as the bytes of an .onnx file.
        public func encoded() -> [UInt8] {
            var graph = ProtobufWriter()
            for node in nodes { graph.message(1, node.encoded()) }
            graph.string(2, name)
            for tensor in initializers { graph.message(5, tensor.encoded()) }
            for input in inputs { graph.message(11, input.encoded()) }
            for output in outputs { graph.message(12, output.encoded()) }
            var opsetImport = ProtobufWriter()
            opsetImport.string(1, "")
            opsetImport.integer(2, opset)
            var model = ProtobufWriter()
            model.integer(1, 8)
            model.string(2, "gmptl")
            model.string(3, producerVersion)
            model.message(7, graph)
            model.message(8, opsetImport)
            for (key, value) in metadata {
                var entry = ProtobufWriter()
                entry.string(1, key)
                entry.string(2, value)
                model.message(14, entry)
            }
            return model.bytes
        }
    }
}

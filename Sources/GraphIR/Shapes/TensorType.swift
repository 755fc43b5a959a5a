/// Element types of graph values: Float32 for activations and parameters, Int32 for labels and lengths.
public enum DType: String, Hashable, Sendable, CaseIterable {
    case f32
    case i32
}

/// The type of a graph value: element type and a shape of symbolic dimensions (`f32[B, T, 768]`).
public struct TensorType: Hashable, Sendable, CustomStringConvertible {
    public var dtype: DType
    public var shape: [Dim]

    public init(_ dtype: DType, _ shape: [Dim]) {
        self.dtype = dtype
        self.shape = shape
    }

    public static func f32(_ shape: [Dim]) -> TensorType { TensorType(.f32, shape) }
    public static func i32(_ shape: [Dim]) -> TensorType { TensorType(.i32, shape) }

    public var rank: Int { shape.count }

    /// The number of elements, as an expression.
    public var elementCount: Dim { shape.reduce(Dim(1), *) }

    /// `f32[B, T, 768]`; a scalar is `f32[]`.
    public var description: String { "\(dtype.rawValue)[\(shape.map(\.description).joined(separator: ", "))]" }
}

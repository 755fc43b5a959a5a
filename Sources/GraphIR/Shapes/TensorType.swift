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

    /// The most elements one tensor may have: 2^36 (256 GiB of f32), past any model or batch this project runs and
    /// far from Int's range, so that byte counts and offsets computed from element counts cannot wrap.
    public static let elementLimit = 1 << 36

    /// Why no tensor can have this type, or nil: a dimension whose arithmetic went out of range, or more than
    /// `elementLimit` elements in its constant dimensions (symbolic ones are checked when bound to sizes).
    public var sizeProblem: String? {
        if shape.contains(where: \.isOutOfRange) {
            return "a dimension out of range (sizes are limited to \(Dim.magnitudeLimit), 2^40)"
        }
        var count = 1
        for dim in shape {
            guard let size = dim.constantValue else { continue }
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            if overflow || product > Self.elementLimit {
                return "more than \(Self.elementLimit) elements (2^36, the limit of one tensor)"
            }
            count = product
        }
        return nil
    }

    /// `f32[B, T, 768]`; a scalar is `f32[]`.
    public var description: String { "\(dtype.rawValue)[\(shape.map(\.description).joined(separator: ", "))]" }
}

import GraphIR
import Synchronization

/// A dense row-major tensor in host memory: Float32 or Int32 elements with a concrete shape.
///
/// A reference type that owns its 64-byte aligned storage: parameter stores, graph inputs and the interpreter's
/// buffers hand tensors around without copying them.
public final class HostTensor: @unchecked Sendable {
    public let dtype: DType
    public let shape: [Int]
    public let count: Int
    /// The elements, 4 bytes each.
    public let storage: UnsafeMutableRawPointer
    /// Where the storage goes back to when the tensor is released (nil: freed).
    private let pool: BufferPool?
    /// For a view into a run's arena: the arena, kept alive by the view (nothing is freed when the view goes).
    private let arena: Arena?
    /// Counts `markModified()` calls: writers that change a tensor in place through its pointer (the optimizer's
    /// step) bump it, so that caches keyed by the tensor (the interpreter's cached constants) see the change.
    private let modifications = Atomic<Int>(0)

    /// How many times the contents were marked as changed in place.
    public var version: Int { modifications.load(ordering: .acquiring) }

    /// Records that the contents changed in place (after writing through `floats`).
    public func markModified() { modifications.add(1, ordering: .releasing) }

    /// A tensor of zeros.
    public init(_ dtype: DType, shape: [Int]) {
        self.dtype = dtype
        self.shape = shape
        count = shape.reduce(1) { $0 * max(0, $1) }
        storage = UnsafeMutableRawPointer.allocate(byteCount: max(4, count * 4), alignment: 64)
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: max(4, count * 4))
        pool = nil
        arena = nil
    }

    /// A tensor whose storage comes from `pool` and returns to it; its contents are undefined until written (every
    /// kernel writes all of its output).
    public init(_ dtype: DType, shape: [Int], pool: BufferPool) {
        self.dtype = dtype
        self.shape = shape
        count = shape.reduce(1) { $0 * max(0, $1) }
        storage = pool.take(max(4, count * 4))
        self.pool = pool
        arena = nil
    }

    /// A view of `arena`'s bytes at `offset` (the memory plan's placement); contents undefined until written.
    init(_ dtype: DType, shape: [Int], arena: Arena, offset: Int) {
        self.dtype = dtype
        self.shape = shape
        count = shape.reduce(1) { $0 * max(0, $1) }
        storage = arena.base + offset
        pool = nil
        self.arena = arena
    }

    /// A Float32 tensor holding `values` (their count must match the shape).
    public convenience init(floats values: [Float], shape: [Int]) {
        self.init(.f32, shape: shape)
        values.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            floats.update(from: base, count: min(count, buffer.count))
        }
    }

    /// An Int32 tensor holding `values`.
    public convenience init(int32s values: [Int32], shape: [Int]) {
        self.init(.i32, shape: shape)
        values.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            int32s.update(from: base, count: min(count, buffer.count))
        }
    }

    deinit {
        if arena != nil { return }
        if let pool { pool.give(storage, byteCount: max(4, count * 4)) } else { storage.deallocate() }
    }

    /// The elements as Float32 (meaningful for `.f32` tensors).
    public var floats: UnsafeMutablePointer<Float> { storage.assumingMemoryBound(to: Float.self) }
    /// The elements as Int32 (meaningful for `.i32` tensors).
    public var int32s: UnsafeMutablePointer<Int32> { storage.assumingMemoryBound(to: Int32.self) }

    /// A copy of the elements as an array (tests and reports).
    public var floatArray: [Float] { Array(UnsafeBufferPointer(start: floats, count: count)) }
    public var int32Array: [Int32] { Array(UnsafeBufferPointer(start: int32s, count: count)) }

    /// `f32[2, 199, 768]`.
    public var typeDescription: String { "\(dtype.rawValue)[\(shape.map(String.init).joined(separator: ", "))]" }
}

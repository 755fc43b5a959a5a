import Testing

/// A heap buffer of Float32 owned by a test, handed to kernels as a pointer.
final class TestBuffer {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int, value: Float = 0) {
        self.count = count
        pointer = .allocate(capacity: max(1, count))
        pointer.initialize(repeating: value, count: max(1, count))
    }

    convenience init(_ values: [Float]) {
        self.init(count: values.count)
        for (index, value) in values.enumerated() { pointer[index] = value }
    }

    /// Uniform values in [low, high) from a seeded generator.
    convenience init(random count: Int, seed: UInt64, low: Float = -1, high: Float = 1) {
        self.init(count: count)
        var generator = SplitMix64(seed: seed)
        for index in 0..<count { pointer[index] = generator.nextFloat(low: low, high: high) }
    }

    deinit { pointer.deallocate() }

    var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
    var doubles: [Double] { array.map(Double.init) }
    var readOnly: UnsafePointer<Float> { UnsafePointer(pointer) }

    subscript(index: Int) -> Float {
        get { pointer[index] }
        set { pointer[index] = newValue }
    }

    func fill(_ value: Float) { pointer.update(repeating: value, count: count) }
    func copy() -> TestBuffer { TestBuffer(array) }
}

/// A small deterministic generator for test data (independent of the kernels' Philox streams).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func nextFloat(low: Float = 0, high: Float = 1) -> Float {
        low + (high - low) * Float(next() >> 40) * 0x1p-24
    }
}

/// Expects `actual` to match the Float64 reference elementwise within `atol + rtol * |expected|`.
func expectClose(
    _ actual: [Float], _ expected: [Double], rtol: Double = 1e-4, atol: Double = 1e-5, _ what: String = "",
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(actual.count == expected.count, "\(what): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
    var worst = 0.0
    var worstIndex = -1
    for index in 0..<min(actual.count, expected.count) {
        let error = abs(Double(actual[index]) - expected[index])
        let excess = error / (atol + rtol * abs(expected[index]))
        if !(excess <= worst) { worst = excess; worstIndex = index }
    }
    if worstIndex >= 0 {
        #expect(worst <= 1, "\(what): element \(worstIndex) is \(actual[worstIndex]), expected \(expected[worstIndex])", sourceLocation: sourceLocation)
    }
}

import Collectives
import Runtime
@testable import SER
import Testing

/// The bookkeeping of data-parallel gradient buckets (one process: the sums are the identity).
@Suite("Gradient buckets")
struct GradientBucketsTests {
    @Test("gradients come back in place whatever the order they arrive in; those never made are zeros; a bucket of a step starts afresh")
    func bookkeeping() throws {
        let names = (0..<7).map { "p\($0)" }
        let sizes = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, 300 + 97 * $0) })
        let shapes = sizes.mapValues { [$0] }
        let buckets = GradientBuckets(parameters: names, sizes: sizes, communicator: .single)
        func gradient(_ name: String, step: Int) -> HostTensor {
            let count = sizes[name]!
            return HostTensor(floats: (0..<count).map { Float($0 + 1000 * step) + Float(name.dropFirst().first!.wholeNumberValue!) / 10 },
                              shape: [count])
        }
        for step in 0..<2 {
            buckets.begin()
            // The backward order (last parameters first), one gradient twice, p3 never made.
            for name in names.reversed() where name != "p3" { try buckets.deposit(name, gradient(name, step: step)) }
            try buckets.deposit("p6", gradient("p6", step: 99))
            let summed = try buckets.finish(shapes: shapes)
            #expect(Set(summed.keys) == Set(names))
            for name in names {
                let expected = name == "p3" ? [Float](repeating: 0, count: sizes[name]!) : gradient(name, step: step).floatArray
                #expect(summed[name]?.floatArray == expected, "\(name), step \(step)")
            }
        }
    }
}

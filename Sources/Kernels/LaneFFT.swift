import Foundation
import Synchronization

/// Complex radix-2 FFTs of many signals at once, laid out as the sequences of this project are: position-major,
/// `[n, lanes]` (a channels-last sequence's channels are its lanes), real and imaginary parts in two planes. Every
/// butterfly runs across 16 lanes at a time, so no transposition is needed and each stage is a few streaming passes
/// over rows that stay in cache.
///
/// `forward` computes `X[f] = sum_t x[t] e^(-2 pi i f t / n)`; `inverse` the same with `+i`, scaled by `1 / n`, so
/// `inverse(forward(x)) == x` up to rounding. Twiddle factors are computed in Double and rounded once.
public struct LaneFFT: Sendable {
    /// The transform length, a power of two.
    public let length: Int
    private let cosines: [Float]
    private let sines: [Float]
    private let reversed: [Int]

    /// The transform of `length` points, made once per length and process (its tables are a few KB; building them
    /// allocates, which the kernels that call this per call must not).
    public static func shared(length: Int) -> LaneFFT {
        cache.withLock { transforms in
            if let transform = transforms[length] { return transform }
            let transform = LaneFFT(length: length)
            transforms[length] = transform
            return transform
        }
    }

    private static let cache = Mutex<[Int: LaneFFT]>([:])

    /// A transform of `length` points; `length` must be a power of two of at least 2.
    public init(length: Int) {
        precondition(length >= 2 && length & (length - 1) == 0, "LaneFFT: the length must be a power of two")
        self.length = length
        var cosines = [Float](), sines = [Float]()
        for j in 0..<length / 2 {
            let angle = -2 * Double.pi * Double(j) / Double(length)
            cosines.append(Float(cos(angle)))
            sines.append(Float(sin(angle)))
        }
        self.cosines = cosines
        self.sines = sines
        let bits = length.trailingZeroBitCount
        reversed = (0..<length).map { index in
            var value = 0
            for bit in 0..<bits where index & (1 << bit) != 0 { value |= 1 << (bits - 1 - bit) }
            return value
        }
    }

    /// The transform in place of `lanes` signals: `real` and `imaginary` are `[length, stride]` (element `(t, lane)`
    /// at `t * stride + lane`) and the lanes are `0..<lanes`.
    public func forward(real: UnsafeMutablePointer<Float>, imaginary: UnsafeMutablePointer<Float>, lanes: Int, stride: Int) {
        transform(real: real, imaginary: imaginary, lanes: lanes, stride: stride, inverse: false)
    }

    /// The inverse transform in place, scaled by `1 / length`.
    public func inverse(real: UnsafeMutablePointer<Float>, imaginary: UnsafeMutablePointer<Float>, lanes: Int, stride: Int) {
        transform(real: real, imaginary: imaginary, lanes: lanes, stride: stride, inverse: true)
        let scale = 1 / Float(length)
        for t in 0..<length {
            let re = real + t * stride, im = imaginary + t * stride
            for lane in 0..<lanes {
                re[lane] *= scale
                im[lane] *= scale
            }
        }
    }

    private func transform(
        real: UnsafeMutablePointer<Float>, imaginary: UnsafeMutablePointer<Float>, lanes: Int, stride: Int, inverse: Bool
    ) {
        // Bit-reversal permutation of the rows.
        for index in 0..<length {
            let partner = reversed[index]
            guard partner > index else { continue }
            swapRows(real + index * stride, real + partner * stride, lanes)
            swapRows(imaginary + index * stride, imaginary + partner * stride, lanes)
        }
        // Iterative Cooley-Tukey, decimation in time: spans of 2, 4, ..., length.
        var half = 1
        while half < length {
            let step = length / (2 * half)
            var start = 0
            while start < length {
                for j in 0..<half {
                    let c = cosines[j * step], s = inverse ? -sines[j * step] : sines[j * step]
                    let top = start + j, bottom = top + half
                    butterfly(real + top * stride, imaginary + top * stride, real + bottom * stride,
                              imaginary + bottom * stride, lanes: lanes, c: c, s: s)
                }
                start += 2 * half
            }
            half *= 2
        }
    }

    /// `(a, b) <- (a + w b, a - w b)` with `w = c + i s`, over `lanes` lanes.
    @inline(__always)
    private func butterfly(
        _ ar: UnsafeMutablePointer<Float>, _ ai: UnsafeMutablePointer<Float>, _ br: UnsafeMutablePointer<Float>,
        _ bi: UnsafeMutablePointer<Float>, lanes: Int, c: Float, s: Float
    ) {
        var lane = 0
        let vc = SIMD16<Float>(repeating: c), vs = SIMD16<Float>(repeating: s)
        while lane + 16 <= lanes {
            let xr = load(ar + lane), xi = load(ai + lane), yr = load(br + lane), yi = load(bi + lane)
            let wr = yr * vc - yi * vs, wi = yr * vs + yi * vc
            store(xr + wr, ar + lane)
            store(xi + wi, ai + lane)
            store(xr - wr, br + lane)
            store(xi - wi, bi + lane)
            lane += 16
        }
        while lane < lanes {
            let wr = br[lane] * c - bi[lane] * s, wi = br[lane] * s + bi[lane] * c
            let xr = ar[lane], xi = ai[lane]
            ar[lane] = xr + wr
            ai[lane] = xi + wi
            br[lane] = xr - wr
            bi[lane] = xi - wi
            lane += 1
        }
    }

    @inline(__always)
    private func swapRows(_ a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>, _ lanes: Int) {
        var lane = 0
        while lane + 16 <= lanes {
            let x = load(a + lane), y = load(b + lane)
            store(y, a + lane)
            store(x, b + lane)
            lane += 16
        }
        while lane < lanes {
            (a[lane], b[lane]) = (b[lane], a[lane])
            lane += 1
        }
    }

    @inline(__always)
    private func load(_ pointer: UnsafeMutablePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(pointer).loadUnaligned(as: SIMD16<Float>.self)
    }

    @inline(__always)
    private func store(_ value: SIMD16<Float>, _ pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: SIMD16<Float>.self)
    }
}

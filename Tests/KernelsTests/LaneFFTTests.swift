import Foundation
import Kernels
import Testing

@Suite("LaneFFT")
struct LaneFFTTests {
    /// The DFT of each lane in Float64, `X[f] = sum_t x[t] e^(-2 pi i f t / n)`.
    static func naive(real: [Double], imaginary: [Double], length: Int, lanes: Int) -> (re: [Double], im: [Double]) {
        var re = [Double](repeating: 0, count: length * lanes), im = re
        for lane in 0..<lanes {
            for f in 0..<length {
                var sumR = 0.0, sumI = 0.0
                for t in 0..<length {
                    let angle = -2 * Double.pi * Double(f * t % length) / Double(length)
                    let xr = real[t * lanes + lane], xi = imaginary[t * lanes + lane]
                    sumR += xr * cos(angle) - xi * sin(angle)
                    sumI += xr * sin(angle) + xi * cos(angle)
                }
                re[f * lanes + lane] = sumR
                im[f * lanes + lane] = sumI
            }
        }
        return (re, im)
    }

    @Test("forward against the DFT, and inverse back to the signal", arguments: [(2, 3), (8, 16), (64, 21), (256, 35)])
    func roundTrip(length: Int, lanes: Int) {
        let real = TestBuffer(random: length * lanes, seed: 11), imaginary = TestBuffer(random: length * lanes, seed: 12)
        let expected = Self.naive(real: real.doubles, imaginary: imaginary.doubles, length: length, lanes: lanes)
        let original = (real.array, imaginary.array)
        let fft = LaneFFT(length: length)
        fft.forward(real: real.pointer, imaginary: imaginary.pointer, lanes: lanes, stride: lanes)
        // Sums of `length` terms of size ~1: absolute error grows like log(length) ulps of sqrt(length).
        expectClose(real.array, expected.re, rtol: 1e-5, atol: 1e-5, "real part")
        expectClose(imaginary.array, expected.im, rtol: 1e-5, atol: 1e-5, "imaginary part")
        fft.inverse(real: real.pointer, imaginary: imaginary.pointer, lanes: lanes, stride: lanes)
        expectClose(real.array, original.0.map(Double.init), rtol: 1e-5, atol: 1e-6, "inverse, real")
        expectClose(imaginary.array, original.1.map(Double.init), rtol: 1e-5, atol: 1e-6, "inverse, imaginary")
    }

    @Test("lanes past the count and rows' other columns are left alone (a stride wider than the lanes)")
    func strideWiderThanLanes() {
        let length = 16, lanes = 5, stride = 9
        let real = TestBuffer(random: length * stride, seed: 13), imaginary = TestBuffer(random: length * stride, seed: 14)
        let before = real.array
        LaneFFT(length: length).forward(real: real.pointer, imaginary: imaginary.pointer, lanes: lanes, stride: stride)
        for t in 0..<length {
            for lane in lanes..<stride { #expect(real.array[t * stride + lane] == before[t * stride + lane]) }
        }
    }
}

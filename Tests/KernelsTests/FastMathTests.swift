import Foundation
import Kernels
import Testing

@Suite("Elementary functions")
struct FastMathTests {
    static let grid: [Float] = stride(from: -12.0, through: 12.0, by: 0.0137).map { Float($0) }

    @Test("exp within 2 ulp of Float64 exp over [-87, 88]")
    func exponential() {
        for x in stride(from: Float(-87), through: 88, by: 0.0571) {
            let reference = Foundation.exp(Double(x))
            let ulp = Double(Float(reference).ulp)
            #expect(abs(Double(FastMath.exp(x)) - reference) <= 2 * ulp, "exp(\(x))")
        }
        #expect(FastMath.exp(-200) == 0)
        #expect(FastMath.exp(0) == 1)
    }

    @Test("erf within 1e-6 of Float64 erf")
    func errorFunction() {
        for x in Self.grid {
            #expect(abs(Double(FastMath.erf(x)) - Foundation.erf(Double(x))) <= 1e-6, "erf(\(x))")
        }
    }

    @Test("tanh, sigmoid and GELU against Float64")
    func tanhSigmoidGelu() {
        for x in Self.grid {
            let d = Double(x)
            #expect(abs(Double(FastMath.tanh(x)) - Foundation.tanh(d)) <= 2e-7, "tanh(\(x))")
            #expect(abs(Double(FastMath.sigmoid(x)) - 1 / (1 + Foundation.exp(-d))) <= 2e-7, "sigmoid(\(x))")
            let gelu = 0.5 * d * (1 + Foundation.erf(d / 2.0.squareRoot()))
            #expect(abs(Double(FastMath.gelu(x)) - gelu) <= 2e-6 * max(1, abs(d)), "gelu(\(x))")
        }
    }
}

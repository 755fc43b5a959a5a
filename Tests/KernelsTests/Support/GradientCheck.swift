import Testing

/// The one helper that checks a backward kernel against central finite differences of its forward kernel.
///
/// The scalar checked is `L = sum_i r_i * y_i` for fixed random weights `r` over the forward outputs `y`, so that
/// `backward(r)` must return dL/dx for each input. Each input element (or a sample of them for big inputs) is
/// perturbed by ±eps in place, `L` is evaluated in Float64 from the Float32 outputs, and the two must agree within
/// `atol + rtol * max(|analytic|, |numeric|)`.
enum GradientCheck {
    static func check(
        inputs: [TestBuffer],
        forward: () -> [Float],
        backward: (_ outputGradient: [Float]) -> [[Float]],
        eps: Float = 1e-2, rtol: Double = 2e-2, atol: Double = 2e-3, maxChecksPerInput: Int = 200,
        _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let outputs = forward()
        var generator = SplitMix64(seed: 0x5EED)
        let weights = outputs.map { _ in Double(generator.nextFloat(low: -1, high: 1)) }
        func loss() -> Double {
            let y = forward()
            var total = 0.0
            for index in 0..<y.count { total += weights[index] * Double(y[index]) }
            return total
        }
        let analytic = backward(weights.map(Float.init))
        #expect(analytic.count == inputs.count, "\(what): backward returned \(analytic.count) gradients for \(inputs.count) inputs", sourceLocation: sourceLocation)
        for (inputIndex, input) in inputs.enumerated() where inputIndex < analytic.count {
            let gradient = analytic[inputIndex]
            #expect(gradient.count == input.count, "\(what): gradient \(inputIndex) has \(gradient.count) values for \(input.count)", sourceLocation: sourceLocation)
            let step = max(1, input.count / maxChecksPerInput)
            var worst = 0.0
            var worstMessage = ""
            for element in stride(from: 0, to: min(input.count, gradient.count), by: step) {
                let saved = input[element]
                input[element] = saved + eps
                let plus = loss()
                input[element] = saved - eps
                let minus = loss()
                input[element] = saved
                let numeric = (plus - minus) / (2 * Double(eps))
                let value = Double(gradient[element])
                let excess = abs(value - numeric) / (atol + rtol * max(abs(value), abs(numeric)))
                if !(excess <= worst) {
                    worst = excess
                    worstMessage = "input \(inputIndex) element \(element): analytic \(value), numeric \(numeric)"
                }
            }
            #expect(worst <= 1, "\(what): \(worstMessage)", sourceLocation: sourceLocation)
        }
    }
}

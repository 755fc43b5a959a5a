import Kernels

/// Band-limited sample-rate conversion between any two rates: a Kaiser-windowed sinc low-pass in polyphase form.
///
/// The ratio is exact: output rate over input rate is reduced to `up / down` by their gcd, and the filter for each
/// of the `up` output phases is computed once per rate pair and cached (`PolyphaseFilter`), so each output sample
/// is one dot product of about 114 * max(in, out) / out coefficients (316 for 44.1 kHz to 16 kHz). The low-pass
/// passes 0 to 0.9 of the lower Nyquist frequency (ripple 3e-5) and stops everything above the lower Nyquist
/// frequency by 90 dB.
///
/// Conventions:
/// - **Length.** `n` input samples give `ceil(n * to / from)` outputs: exactly the output instants that fall
///   inside the input's span `[0, n)` input samples.
/// - **Timing.** Output sample `j` is the band-limited signal at input time `j * from / to` (in input samples):
///   sample 0 of both is the same instant, and there is no delay to compensate. The signal is taken to be 0 before
///   the first and after the last input sample, so the first and last ~57 samples at the lower of the two rates
///   (3.6 ms at 16 kHz) see the edge, as any filter would.
/// - **Same rate** returns the samples unchanged; empty input gives empty output.
/// - **Determinism.** Output chunks run on `KernelThreads.count` threads (`Parallel.forChunks`); each output is
///   computed by the same operations whatever the chunking, so results do not depend on the thread count.
public enum Resampler {
    /// The sample rates accepted, in Hz.
    public static let supportedRates: ClosedRange<Int> = 1...1_000_000

    /// The largest accepted ratio between the two rates (either way). Beyond it the filter would span more than
    /// 100,000 input samples per output sample (resampling 1 MHz to 1 kHz, or 10 Hz to 16 kHz, is not audio).
    public static let maximumRatio = 1_000

    /// `samples` at `source` Hz resampled to `target` Hz. Throws, with no file named, when a rate is outside
    /// `supportedRates`, the rates differ by more than `maximumRatio`, or the output length would overflow.
    public static func resample(_ samples: [Float], from source: Int, to target: Int) throws(AudioError) -> [Float] {
        try check(from: source, to: target)
        if source == target || samples.isEmpty { return samples }
        let filter = PolyphaseFilterCache.shared.filter(from: source, to: target)
        let (up, down) = (filter.up, filter.down)
        let n = samples.count
        // ceil(n * up / down) = (n * up + down - 1) / down, computed without overflow or not at all.
        let (scaled, overflow) = n.multipliedReportingOverflow(by: up)
        guard !overflow, scaled <= Int.max - down else {
            throw AudioError("\(n) samples at \(source) Hz are too many to resample to \(target) Hz", file: nil)
        }
        let count = (scaled + down - 1) / down
        let (taps, before, phases) = (filter.taps, filter.before, filter.phases)
        var output = [Float](repeating: 0, count: count)
        samples.withUnsafeBufferPointer { input in
            filter.coefficients.withUnsafeBufferPointer { table in
                output.withUnsafeMutableBufferPointer { result in
                    guard let x = input.baseAddress, let h = table.baseAddress, let y = result.baseAddress else { return }
                    Parallel.forChunks(count, grain: max(64, 131_072 / taps)) { range in
                        for j in range {
                            // Output j is at input time j * down / up = center + phase / up, 0 <= center < n.
                            let position = j * down
                            var center = position / up
                            var phase = position - center * up
                            if phases != up {
                                phase = (phase * phases + up / 2) / up
                                if phase == phases { (center, phase) = (center + 1, 0) }
                            }
                            // Taps k read x[first + k]; only those inside 0..<n contribute.
                            let first = center - before
                            let low = max(0, -first), high = min(taps, n - first)
                            guard high > low else { y[j] = 0; continue }
                            y[j] = dot(h + phase * taps + low, x + (first + low), count: high - low)
                        }
                    }
                }
            }
        }
        return output
    }

    /// Throws unless both rates are supported and within `maximumRatio` of each other.
    static func check(from source: Int, to target: Int) throws(AudioError) {
        for rate in [source, target] where !supportedRates.contains(rate) {
            throw AudioError("a sample rate of \(rate) Hz is not supported (1 Hz to 1,000,000 Hz)", file: nil)
        }
        guard max(source, target) / min(source, target) <= maximumRatio else {
            throw AudioError("cannot resample \(source) Hz to \(target) Hz: the rates differ by more than a factor of \(maximumRatio)",
                             file: nil)
        }
    }

    /// The dot product of two contiguous vectors in 16 partial sums (a fixed order: the same for every call).
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var partial0 = SIMD8<Float>(), partial1 = SIMD8<Float>()
        let rawA = UnsafeRawPointer(a), rawB = UnsafeRawPointer(b)
        var index = 0
        while index + 16 <= count {
            partial0 += rawA.loadUnaligned(fromByteOffset: index * 4, as: SIMD8<Float>.self)
                * rawB.loadUnaligned(fromByteOffset: index * 4, as: SIMD8<Float>.self)
            partial1 += rawA.loadUnaligned(fromByteOffset: index * 4 + 32, as: SIMD8<Float>.self)
                * rawB.loadUnaligned(fromByteOffset: index * 4 + 32, as: SIMD8<Float>.self)
            index += 16
        }
        var total = (partial0 + partial1).sum()
        while index < count {
            total += a[index] * b[index]
            index += 1
        }
        return total
    }
}

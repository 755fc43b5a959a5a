import Audio
import Foundation
import Kernels
import Testing

@Suite("Resampler")
struct ResamplerTests {
    /// `amplitude * sin(2 pi frequency t)` sampled at `rate` Hz.
    static func tone(_ frequency: Double, rate: Int, count: Int, amplitude: Double = 0.5) -> [Float] {
        (0..<count).map { Float(amplitude * sin(2 * Double.pi * frequency * Double($0) / Double(rate))) }
    }

    /// 20 log10 of the RMS of `error` over the RMS of `signal`.
    static func decibels(error: [Double], signal: [Double]) -> Double {
        let e = error.reduce(0) { $0 + $1 * $1 }, s = signal.reduce(0) { $0 + $1 * $1 }
        return 10 * log10(e / s)
    }

    /// Output samples far enough from both ends that the filter sees only the signal: 10 ms at each end.
    static func interior(count: Int, rate: Int) -> Range<Int> {
        let margin = rate / 100
        return margin..<max(margin, count - margin)
    }

    @Test("a 44.1 kHz linear sweep resampled to 16 kHz is the band-limited sweep to better than -60 dB")
    func sweep() throws {
        // 50 Hz to 8 kHz in 0.5 s; phase(t) = 2 pi (f0 t + (f1 - f0) t^2 / (2 T)).
        let (f0, f1, duration, amplitude) = (50.0, 8_000.0, 0.5, 0.9)
        let phase = { (t: Double) in 2 * Double.pi * (f0 * t + (f1 - f0) * t * t / (2 * duration)) }
        let input = (0..<22_050).map { Float(amplitude * sin(phase(Double($0) / 44_100))) }
        let output = try Resampler.resample(input, from: 44_100, to: 16_000)
        #expect(output.count == 8_000)

        // Compared: from 10 ms (past the start's transient) to where the sweep reaches 7 kHz, below the passband edge
        // (7.2 kHz) and the new Nyquist frequency, so the exact result is the sweep itself at the output times.
        let end = (7_000 - f0) / (f1 - f0) * duration
        let compared = 160..<Int(end * 16_000)
        var error = [Double](), signal = [Double](), worst = 0.0
        for j in compared {
            let exact = amplitude * sin(phase(Double(j) / 16_000))
            error.append(Double(output[j]) - exact)
            signal.append(exact)
            worst = max(worst, abs(Double(output[j]) - exact))
        }
        let rms = Self.decibels(error: error, signal: signal)
        let peak = 20 * log10(worst / amplitude)
        print("sweep 44.1 kHz -> 16 kHz: error RMS \(rms) dB relative to the signal, max error \(peak) dB of the amplitude")
        #expect(rms < -60)
        #expect(peak < -60)
    }

    static let ratePairs: [(Int, Int)] = [
        (8_000, 16_000), (11_025, 16_000), (22_050, 16_000), (44_100, 16_000), (48_000, 16_000), (96_000, 16_000),
        (16_000, 44_100), (44_100, 48_000), (48_000, 44_100), (16_000, 8_000), (7_919, 16_000),
        // Coprime: 16,000 phases of 7,144 taps do not fit the table, so the phase is rounded to one of 587 steps.
        (999_983, 16_000),
    ]

    @Test("a tone keeps its frequency, amplitude and phase at every rate pair", arguments: ratePairs)
    func tones(source: Int, target: Int) throws {
        let lowerNyquist = Double(min(source, target)) / 2
        // A low tone and one near the passband edge (0.9 of the lower Nyquist frequency).
        for frequency in [0.3 * lowerNyquist, 0.85 * lowerNyquist] {
            let input = Self.tone(frequency, rate: source, count: source / 4)
            let output = try Resampler.resample(input, from: source, to: target)
            // Least squares fit of a sin(w t) + b cos(w t) over the interior: amplitude and phase of the output.
            let w = 2 * Double.pi * frequency / Double(target)
            var (ss, sc, cc, ys, yc) = (0.0, 0.0, 0.0, 0.0, 0.0)
            let range = Self.interior(count: output.count, rate: target)
            for j in range {
                let (s, c, y) = (sin(w * Double(j)), cos(w * Double(j)), Double(output[j]))
                ss += s * s; sc += s * c; cc += c * c; ys += y * s; yc += y * c
            }
            let determinant = ss * cc - sc * sc
            let a = (ys * cc - yc * sc) / determinant, b = (yc * ss - ys * sc) / determinant
            let amplitude = (a * a + b * b).squareRoot(), shift = atan2(b, a)
            // What the fit leaves is what is not that tone: other frequencies, aliases, images.
            var residual = [Double](), signal = [Double]()
            for j in range {
                let fitted = a * sin(w * Double(j)) + b * cos(w * Double(j))
                residual.append(Double(output[j]) - fitted)
                signal.append(fitted)
            }
            let rest = Self.decibels(error: residual, signal: signal)
            #expect(abs(amplitude - 0.5) < 1e-4, "\(source) -> \(target) Hz, \(frequency) Hz: amplitude \(amplitude)")
            #expect(abs(shift) < 1e-4, "\(source) -> \(target) Hz, \(frequency) Hz: phase \(shift) rad")
            #expect(rest < -70, "\(source) -> \(target) Hz, \(frequency) Hz: residual \(rest) dB")
        }
    }

    @Test("tones above the new Nyquist frequency are removed, not aliased", arguments: [
        (44_100, 16_000, 10_000.0), (44_100, 16_000, 8_100.0), (48_000, 16_000, 8_500.0), (96_000, 16_000, 12_000.0),
        (96_000, 16_000, 40_000.0), (22_050, 16_000, 9_000.0), (16_000, 8_000, 5_000.0),
    ])
    func aliasing(source: Int, target: Int, frequency: Double) throws {
        let input = Self.tone(frequency, rate: source, count: source / 4, amplitude: 1)
        let output = try Resampler.resample(input, from: source, to: target)
        let range = Self.interior(count: output.count, rate: target)
        let power = range.reduce(0.0) { $0 + Double(output[$1]) * Double(output[$1]) } / Double(range.count)
        let attenuation = -10 * log10(power / 0.5)
        // Designed for 90 dB from the new Nyquist frequency up; 80 dB is the requirement.
        #expect(attenuation >= 80, "\(frequency) Hz at \(source) -> \(target) Hz: \(attenuation) dB")
    }

    @Test("a constant stays constant")
    func constant() throws {
        for (source, target) in Self.ratePairs {
            let output = try Resampler.resample([Float](repeating: 0.25, count: source / 10), from: source, to: target)
            let range = Self.interior(count: output.count, rate: target)
            #expect(range.allSatisfy { abs(output[$0] - 0.25) < 1e-6 }, "\(source) -> \(target) Hz")
        }
    }

    @Test("the same rate returns the samples unchanged; empty input gives empty output")
    func identity() throws {
        let samples = Self.tone(440, rate: 16_000, count: 1_000)
        #expect(try Resampler.resample(samples, from: 16_000, to: 16_000) == samples)
        #expect(try Resampler.resample([], from: 44_100, to: 16_000).isEmpty)
        #expect(try Resampler.resample([], from: 8_000, to: 16_000).isEmpty)
    }

    @Test("n samples give ceil(n * to / from), very short inputs included")
    func lengths() throws {
        let extremes = [(1_000_000, 16_000), (16, 16_000), (999_983, 999_979)]
        for (source, target) in Self.ratePairs + extremes {
            for n in [1, 2, 3, 4, 7, 100, 441, 1_001, 44_101] where n < 2_000 || source * 10 > target {
                let input = (0..<n).map { Float($0 % 5) * 0.1 }
                let output = try Resampler.resample(input, from: source, to: target)
                #expect(output.count == (n * target + source - 1) / source, "\(n) samples, \(source) -> \(target) Hz")
                #expect(output.allSatisfy { $0.isFinite })
            }
        }
        // One sample upsampled by 2: its own instant (the whole sample: each phase filter sums to 1, and only the
        // centre tap of phase 0 sees it) and half a sample later.
        let one = try Resampler.resample([1], from: 8_000, to: 16_000)
        #expect(one.count == 2)
        #expect(one.first.map { $0 > 0.9 } == true)
    }

    @Test("rates outside 1 Hz ... 1 MHz, or further apart than 1000 to 1, are errors, not traps")
    func badRates() {
        for (source, target) in [(0, 16_000), (-44_100, 16_000), (44_100, 0), (1_000_001, 16_000), (Int.min, 16_000),
                                 (Int.max, 16_000), (1, 16_000), (16_000, 15), (1_000_000, 999)] {
            #expect(throws: AudioError.self, "\(source) -> \(target) Hz") {
                try Resampler.resample([0, 1, 0], from: source, to: target)
            }
        }
        #expect { try Resampler.resample([0], from: 0, to: 16_000) } throws: { error in
            (error as? AudioError)?.description == "error: a sample rate of 0 Hz is not supported (1 Hz to 1,000,000 Hz)"
        }
        // The limits themselves are accepted.
        #expect((try? Resampler.resample([0, 1, 0], from: 16, to: 16_000)) != nil)
        #expect((try? Resampler.resample([0, 1, 0], from: 1_000_000, to: 1_000)) != nil)
    }

    @Test("the result does not depend on the thread count")
    func threads() throws {
        let input = Self.tone(1_234, rate: 44_100, count: 44_100)
        let saved = KernelThreads.count
        defer { KernelThreads.set(saved) }
        var results = [[Float]]()
        for threads in [1, 2, 3] {
            KernelThreads.set(threads)
            results.append(try Resampler.resample(input, from: 44_100, to: 16_000))
            results.append(try Resampler.resample(input, from: 44_100, to: 48_000))
        }
        #expect(results[0] == results[2] && results[0] == results[4])
        #expect(results[1] == results[3] && results[1] == results[5])
    }
}

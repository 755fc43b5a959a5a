import GraphIR
import Testing

@Suite("Symbolic dimensions")
struct DimTests {
    @Test("HuBERT's seven conv layers collapse to floor((S - 400) / 320) + 1")
    func hubertFrames() {
        var frames: Dim = "S"
        for (kernel, stride) in zip([10, 3, 3, 3, 3, 2, 2], [5, 2, 2, 2, 2, 2, 2]) {
            frames = frames.windowed(kernel: kernel, stride: stride, padding: 0)!
        }
        #expect(frames.description == "floor((S - 400) / 320) + 1")
        // Against the exact iteration for many lengths, 4 s (64,000 samples -> 199 frames) included.
        for samples in [400, 401, 719, 720, 16_000, 64_000, 72_000, 160_000] {
            var expected = samples
            for (kernel, stride) in zip([10, 3, 3, 3, 3, 2, 2], [5, 2, 2, 2, 2, 2, 2]) { expected = (expected - kernel) / stride + 1 }
            #expect(frames.evaluate(["S": samples]) == expected, "S = \(samples)")
        }
        #expect(frames.evaluate(["S": 64_000]) == 199)
    }

    @Test("the positional conv's extra frame and its removal cancel")
    func positionalConv() {
        let frames: Dim = "T"
        let padded = frames.windowed(kernel: 128, stride: 1, padding: 64)!
        #expect(padded == frames + 1)
        #expect(padded - 1 == frames)
    }

    @Test("arithmetic is canonical: equal expressions compare equal")
    func canonical() {
        let b: Dim = "B", t: Dim = "T"
        #expect(b * t == t * b)
        #expect((b + 3) - 3 == b)
        #expect(b * 4 + t - b * 4 == t)
        #expect((t * 6 + 4).floorDivided(by: 2) == t * 3 + 2)
        #expect((t + 7).floorDivided(by: 2)!.description == "floor((T + 7) / 2)")
        #expect(Dim(17).floorDivided(by: 5) == Dim(3))
        #expect(Dim(-7).floorDivided(by: 2) == Dim(-4))
        #expect(t.floorDivided(by: 0) == nil)
        #expect((b * t).symbols == ["B", "T"])
        #expect((b * 2 - 1).description == "2 * B - 1")
        #expect((-b).description == "-B")
    }
}

@testable import SER
import Testing

@Suite("Batching")
struct BatchingTests {
    static let classes = ["neutral", "happy", "angry", "sad"]

    /// Utterances without files and their lengths in samples: 37 of lengths from 1,000 to 37,000 in a scrambled order.
    static func planned(_ options: Batching.Options) throws -> Batching {
        let lengths = (0..<37).map { 1_000 * (1 + ($0 * 11) % 37) }
        let utterances = lengths.indices.map {
            Utterance(id: "u\($0)", path: "/nowhere/u\($0).wav", emotion: classes[$0 % 4], gender: .female, speaker: "s\($0 % 3)", session: nil)
        }
        return try Batching(utterances: utterances, lengths: lengths, classes: classes, options: options)
    }

    @Test("training batches hold similar lengths, cover every utterance once, and come from (seed, epoch) alone")
    func bucketingAndShuffles() throws {
        let batching = try Self.planned(.init(batchSize: 4, bucketBatches: 100))
        let plan = batching.trainingPlan(seed: 42, epoch: 0)
        #expect(plan.count == 10)
        #expect(plan.flatMap { $0.map(\.index) }.sorted() == Array(0..<37))
        // One pool: the batches are consecutive runs of the sorted lengths.
        let runs = plan.map { $0.map(\.count) }.sorted { ($0.first ?? 0) < ($1.first ?? 0) }
        #expect(runs.flatMap { $0 } == batching.lengths.sorted())
        #expect(plan.allSatisfy { batch in batch.map(\.count) == batch.map(\.count).sorted() })

        #expect(batching.trainingPlan(seed: 42, epoch: 0) == plan)
        #expect(batching.trainingPlan(seed: 42, epoch: 1) != plan)
        #expect(batching.trainingPlan(seed: 43, epoch: 0) != plan)

        // Small pools: lengths are sorted within each pool of 8 only.
        let small = try Self.planned(.init(batchSize: 4, bucketBatches: 2)).trainingPlan(seed: 42, epoch: 0)
        #expect(small.flatMap { $0.map(\.index) }.sorted() == Array(0..<37))
        #expect(small.count == 10)
    }

    @Test("crops: random windows in training, whole utterances in evaluation unless configured")
    func crops() throws {
        let batching = try Self.planned(.init(batchSize: 5, maxSeconds: 0.5))   // 8,000 samples at 16 kHz
        for epoch in 0..<3 {
            for item in batching.trainingPlan(seed: 5, epoch: epoch).flatMap({ $0 }) {
                let length = batching.lengths[item.index]
                #expect(item.count == min(length, 8_000))
                #expect(item.start >= 0 && item.start + item.count <= length)
            }
        }
        let starts = (0..<4).map { epoch in batching.trainingPlan(seed: 5, epoch: epoch).flatMap { $0 }.first { $0.index == 36 }?.start }
        #expect(Set(starts).count > 1)

        let evaluation = batching.evaluationPlan().flatMap { $0 }
        #expect(evaluation.map(\.count) == batching.lengths.sorted())
        #expect(evaluation.allSatisfy { $0.start == 0 })
        #expect(batching.evaluationPlan() == batching.evaluationPlan())

        let centered = try Self.planned(.init(batchSize: 5, maxSeconds: 0.5, evaluationCrop: .center))
        let longest = try #require(centered.evaluationPlan().flatMap { $0 }.first { centered.lengths[$0.index] == 37_000 })
        #expect(longest.start == 14_500 && longest.count == 8_000)

        #expect(throws: DataError.self) { try Self.planned(.init(batchSize: 0)) }
        #expect(throws: DataError.self) { try Self.planned(.init(maxSeconds: -1)) }
        #expect(throws: DataError.self) { try Self.planned(.init(maxSeconds: .nan)) }
    }

    @Test("loading pads to [B, S] with lengths and class labels; other sample rates are resampled")
    func loadingAndPadding() throws {
        let corpus = try TemporaryCorpus("batching")
        let lengths = [300, 1_000, 700]
        let utterances = try lengths.enumerated().map { index, length in
            Utterance(id: "u\(index)", path: try corpus.wav("u\(index).wav", samples: length), emotion: Self.classes[3 - index],
                      gender: .male, speaker: "s", session: nil)
        }
        let batching = try Batching.readingLengths(utterances, classes: Self.classes, options: .init(batchSize: 3, maxSeconds: 0.05))
        #expect(batching.lengths == lengths)
        let plan = batching.evaluationPlan()
        #expect(plan.count == 1)
        let batch = try batching.load(try #require(plan.first))
        #expect(batch.ids == ["u0", "u2", "u1"])
        #expect(batch.waves.shape == [3, 1_000])
        #expect(batch.lengths.int32Array == [300, 700, 1_000])
        #expect(batch.labels.int32Array == [3, 1, 2])
        let waves = batch.waves.floatArray
        #expect(waves[299] == 0.299 && waves[300] == 0 && waves[999] == 0)
        #expect(waves[1_000 + 699] == 0.699 && waves[1_000 + 700] == 0)
        #expect(waves[2_000 + 999] == 0.999)

        // Training crops to 800 samples; the window is the file's samples from its start.
        let training = try batching.load(try #require(batching.trainingPlan(seed: 9, epoch: 0).first))
        #expect(training.waves.shape == [3, 800])
        let item = try #require(batching.trainingPlan(seed: 9, epoch: 0).first?.first { $0.index == 1 })
        let row = try #require(training.ids.firstIndex(of: "u1"))
        #expect(training.waves.floatArray[row * 800] == Float(item.start) / 1000)

        let slow = Utterance(id: "slow", path: try corpus.wav("slow.wav", samples: 100, rate: 8_000), emotion: "sad", gender: .male, speaker: "s", session: nil)
        // Another rate is resampled: 100 samples at 8 kHz are 200 at 16 kHz, as planned and as loaded.
        let resampled = try Batching.readingLengths([slow], classes: Self.classes)
        #expect(resampled.lengths == [200])
        let loaded = try resampled.load(try #require(resampled.evaluationPlan().first))
        #expect(loaded.waves.shape == [1, 200])
        let stray = Utterance(id: "x", path: "/x.wav", emotion: "bored", gender: .male, speaker: "s", session: nil)
        #expect(throws: DataError.self) { try Batching(utterances: [stray], lengths: [10], classes: Self.classes) }
        #expect(Batching.pad([], ids: [], labels: []).waves.shape == [0, 0])
    }
}

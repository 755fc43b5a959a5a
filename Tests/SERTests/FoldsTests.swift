@testable import SER
import Testing

@Suite("Folds")
struct FoldsTests {
    /// IEMOCAP-shaped utterances without files: 5 sessions, a woman and a man each, 6 utterances per speaker.
    static let iemocapLike: [Utterance] = (1...5).flatMap { session in
        ["F", "M"].flatMap { letter in
            (0..<6).map { index in
                Utterance(id: "Ses0\(session)\(letter)_impro01_\(letter)00\(index)", path: "/s\(session)/\(letter)\(index).wav",
                          emotion: ["neutral", "happy", "angry", "sad"][index % 4], gender: letter == "F" ? .female : .male,
                          speaker: "Ses0\(session)\(letter)", session: "Session\(session)")
            }
        }
    }

    @Test("leave-one-session-out: 5 folds, disjoint test sessions, no test speaker in training or validation")
    func leaveOneSessionOut() throws {
        let folds = try Folds.leaveOneSessionOut(Self.iemocapLike, validation: ValidationSplit(fraction: 0.25, seed: 7))
        #expect(folds.map(\.name) == (1...5).map { "Session\($0)" })
        var tested = Set<String>()
        for fold in folds {
            let testSessions = Set(fold.test.compactMap(\.session))
            #expect(testSessions == [fold.name])
            #expect(tested.isDisjoint(with: fold.test.map(\.id)))
            tested.formUnion(fold.test.map(\.id))
            let test = Set(fold.test.map(\.speaker)), train = Set(fold.train.map(\.speaker)), validation = Set(fold.validation.map(\.speaker))
            #expect(test.isDisjoint(with: train) && test.isDisjoint(with: validation) && train.isDisjoint(with: validation))
            // 8 training speakers, a quarter of them for validation, all from the other sessions.
            #expect(validation.count == 2 && train.count == 6)
            #expect(fold.validation.allSatisfy { $0.session != fold.name })
            #expect(fold.train.count + fold.validation.count + fold.test.count == Self.iemocapLike.count)
            #expect(fold.trainingOnly.utterances == fold.train)
            try fold.checkNoLeakage()
        }
        #expect(tested.count == Self.iemocapLike.count)
    }

    @Test("validation speakers are deterministic from the seed and differ across folds and seeds")
    func deterministicValidation() throws {
        func speakers(_ seed: UInt64) throws -> [Set<String>] {
            try Folds.leaveOneSessionOut(Self.iemocapLike, validation: ValidationSplit(fraction: 0.125, seed: seed)).map { Set($0.validation.map(\.speaker)) }
        }
        let first = try speakers(1)
        #expect(try speakers(1) == first)
        #expect(first.allSatisfy { $0.count == 1 })
        let others = try (2...6).map { try speakers($0) }
        #expect(others.contains { $0 != first })
        #expect(try Folds.leaveOneSessionOut(Self.iemocapLike, validation: .none).allSatisfy(\.validation.isEmpty))
    }

    @Test("a hand-made fold with a test speaker in training or validation is an error")
    func leakageIsAnError() throws {
        let utterances = Self.iemocapLike
        let session1 = utterances.filter { $0.session == "Session1" }
        let rest = utterances.filter { $0.session != "Session1" }
        let leaked = try #require(throws: DataError.self) {
            try Fold(name: "bad", train: rest + [session1[0]], validation: [], test: Array(session1.dropFirst()))
        }
        #expect(leaked.description.contains("test speaker Ses01F is also in training"))
        #expect(throws: DataError.self) {
            try Fold(name: "bad", train: rest, validation: [session1[0]], test: Array(session1.dropFirst()))
        }
        let session2 = rest.filter { $0.session == "Session2" }
        #expect(throws: DataError.self) {
            try Fold(name: "bad", train: rest, validation: session2, test: session1)
        }
        #expect(throws: DataError.self) { try Fold(name: "empty", train: [], validation: [], test: session1) }
        // A manifest whose fold column splits a speaker over two folds cannot make folds.
        var moved = utterances
        moved[0].session = "Session2"
        #expect(throws: DataError.self) { try Folds.make(.manifestFolds, moved) }
    }

    @Test("leave-one-speaker-out, fitting data and the errors of protocols the corpus cannot support")
    func speakersAndErrors() throws {
        let folds = try Folds.make(.leaveOneSpeakerOut, Self.iemocapLike, validation: ValidationSplit(fraction: 0.2, seed: 3))
        #expect(folds.count == 10)
        #expect(folds.allSatisfy { Set($0.test.map(\.speaker)) == [$0.name] && $0.validation.count == 12 })
        let counts = folds[0].trainingOnly.classCounts(["neutral", "happy", "angry", "sad"])
        #expect(counts.reduce(0, +) == folds[0].train.count)
        #expect(counts == [14, 14, 7, 7])

        var noSessions = Self.iemocapLike
        noSessions[3].session = nil
        #expect(throws: DataError.self) { try Folds.leaveOneSessionOut(noSessions) }
        #expect(throws: DataError.self) { try Folds.leaveOneSessionOut(Self.iemocapLike.filter { $0.session == "Session1" }) }
        #expect(throws: DataError.self) { try Folds.leaveOneSessionOut(Self.iemocapLike, validation: ValidationSplit(fraction: 1)) }
        #expect(Folds.naturalOrder("Session2", "Session10"))
    }
}

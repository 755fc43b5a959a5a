@testable import SER
import Testing

/// The leakage guard of the k-means stage: pseudo-labels are fitted on the fold's own training utterances only.
@Suite("Pseudo-label leakage guard")
struct PseudoLabelLeakageTests {
    @Test("fitting k-means for a fold on data holding one of its test or validation speakers is an error")
    func fittingOnATestSpeakerIsRefused() throws {
        let folds = try Folds.leaveOneSessionOut(FoldsTests.iemocapLike, validation: ValidationSplit(fraction: 0.25, seed: 7))
        // Each fold's own training split passes.
        for fold in folds { try PseudoLabeler.checkNoLeakage(fold.trainingOnly, fold: fold) }
        // Another fold's training split holding Ses01F, a test speaker of fold 1.
        let other = try #require(folds.dropFirst().first { $0.train.contains { $0.speaker == "Ses01F" } })
        let error = #expect(throws: TrainingError.self) {
            try PseudoLabeler.checkNoLeakage(other.trainingOnly, fold: folds[0])
        }
        let message = error?.description ?? ""
        #expect(message.contains("k-means of fold Session1 would be fitted on speaker Ses01"), "\(message)")
        #expect(message.contains("who is in its test split"))
    }
}

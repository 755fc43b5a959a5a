/// The IEMOCAP emotion codes the demo corpus writes, with what the evaluators' lines say for each.
///
/// `neu`, `hap`, `ang` and `sad` are the four classes; `exc` (excited) is merged into happy by the usual four-class
/// protocol; `fru`, `sur` and `xxx` (no majority) are outside it and readers must drop them.
enum DemoLabel: String, CaseIterable, Sendable {
    case neu, hap, exc, ang, sad, fru, sur, xxx

    /// The four-class emotion, or nil for labels the protocol drops.
    var emotion: SpeechEmotion? {
        switch self {
        case .neu: .neutral
        case .hap, .exc: .happy
        case .ang: .angry
        case .sad: .sad
        case .fru, .sur, .xxx: nil
        }
    }

    /// The prosody the utterance is synthesized with.
    var voicedAs: SpeechEmotion {
        switch self {
        case .neu, .xxx: .neutral
        case .hap, .exc, .sur: .happy
        case .ang, .fru: .angry
        case .sad: .sad
        }
    }

    /// The categorical ratings of evaluators E1, E2 and E3 (IEMOCAP's category words); the majority is the code,
    /// except for `xxx`, where all three differ. The third evaluator picks `alternative` when `dissent` is true.
    func categories(dissent: Bool) -> [String] {
        switch self {
        case .neu: ["Neutral", "Neutral", dissent ? "Frustration" : "Neutral"]
        case .hap: ["Happiness", "Happiness", dissent ? "Excited" : "Happiness"]
        case .exc: ["Excited", "Excited", dissent ? "Happiness" : "Excited"]
        case .ang: ["Anger", "Anger", dissent ? "Frustration" : "Anger"]
        case .sad: ["Sadness", "Sadness", dissent ? "Neutral" : "Sadness"]
        case .fru: ["Frustration", "Frustration", dissent ? "Anger" : "Frustration"]
        case .sur: ["Surprise", "Surprise", dissent ? "Excited" : "Surprise"]
        case .xxx: ["Neutral", "Frustration", "Excited"]
        }
    }

    /// Valence, activation and dominance (1 to 5) of the first evaluator.
    var attributes: SIMD3<Int> {
        switch self {
        case .neu: [3, 2, 2]
        case .hap: [4, 3, 3]
        case .exc: [4, 4, 3]
        case .ang: [2, 4, 4]
        case .sad: [2, 2, 2]
        case .fru: [2, 3, 3]
        case .sur: [3, 4, 3]
        case .xxx: [3, 3, 3]
        }
    }
}

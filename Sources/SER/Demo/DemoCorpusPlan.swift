extension DemoCorpus {
    /// Who says what, in which dialog, when and for how long: everything about the corpus except the audio.
    struct Plan {
        /// One utterance to synthesize and label.
        struct Item {
            /// The utterance index: the step of its random streams. Four-class utterances come first (class-major:
            /// neutral, happy, angry, sad), then the extra ones.
            var index: Int
            var label: DemoLabel
            /// 0 ..< 10: Ses01F, Ses01M, Ses02F, ...
            var speaker: Int
            var sampleCount: Int
            var id = ""
            var relativePath = ""
            var turn = EmoEvaluation.Turn(id: "", code: "", start: 0, end: 0, categories: [], attributes: [])

            var gender: Gender { speaker % 2 == 0 ? .female : .male }
            var sessionNumber: Int { speaker / 2 + 1 }
            var session: String { "Session\(sessionNumber)" }
            var speakerID: String { "Ses0\(sessionNumber)" + (gender == .female ? "F" : "M") }
        }

        /// A dialog: its name, session and utterances (indices into `utterances`) in time order.
        struct Dialog {
            var name: String
            var session: String
            var utterances: [Int]
        }

        var utterances: [Item] = []
        var dialogs: [Dialog] = []
        /// The voice of each speaker.
        var voices: [Voice]

        /// Dialog names of a session (after `Ses0N`), used in this order as the session needs more.
        static let dialogSuffixes = ["F_impro01", "M_impro01", "F_script01_1", "M_script01_1", "F_impro02", "M_script02_1"]
        /// Utterances per dialog the session aims for (6 dialogs at most).
        static let utterancesPerDialog = 16
        static let speakerCount = 2 * DemoCorpus.sessionCount

        init(utterancesPerClass: Int, seed: UInt64) {
            let speakers = Self.speakerCount
            voices = (0..<speakers).map { Voice.demo(gender: $0 % 2 == 0 ? .female : .male, speaker: $0, seed: seed) }

            // The balanced four-class utterances, dealt round-robin over the speakers, then one extra per speaker.
            let classes: [DemoLabel] = [.neu, .hap, .ang, .sad]
            var gaps = [Int]()
            for (number, code) in classes.enumerated() {
                for k in 0..<utterancesPerClass {
                    let index = number * utterancesPerClass + k
                    let label: DemoLabel = code == .hap && k % 3 == 1 ? .exc : code
                    utterances.append(Item(index: index, label: label, speaker: index % speakers, sampleCount: 0))
                }
            }
            for (speaker, label) in DemoCorpus.extraLabels.enumerated() {
                utterances.append(Item(index: classes.count * utterancesPerClass + speaker, label: label, speaker: speaker, sampleCount: 0))
            }

            // Each utterance's own draws: length, the gap before it, the evaluators' ratings.
            let sampleRate = SpeechSynthesizer.sampleRate
            for position in utterances.indices {
                var random = RandomStream(seed: seed, step: UInt64(utterances[position].index), node: DemoStreams.corpus)
                utterances[position].sampleCount = Int(random.uniform(1.5...4) * Double(sampleRate))
                gaps.append(Int((random.uniform(0.3...2) * 10_000).rounded()))
                let label = utterances[position].label
                let base = label.attributes
                let offsets = SIMD3(random.index(3) - 1, random.index(3) - 1, random.index(3) - 1)
                let second = (base &+ offsets).clamped(lowerBound: SIMD3(repeating: 1), upperBound: SIMD3(repeating: 5))
                utterances[position].turn.categories = label.categories(dissent: random.chance(0.3))
                utterances[position].turn.attributes = [base, second]
                utterances[position].turn.code = label.rawValue
            }

            // Sessions: their utterances in index order, dealt in (female, male) pairs over the dialogs.
            for session in 1...DemoCorpus.sessionCount {
                let members = utterances.indices.filter { utterances[$0].sessionNumber == session }
                let count = min(Self.dialogSuffixes.count, max(1, (members.count + Self.utterancesPerDialog - 1) / Self.utterancesPerDialog))
                var sessionDialogs = Self.dialogSuffixes.prefix(count).map { Dialog(name: "Ses0\(session)\($0)", session: "Session\(session)", utterances: []) }
                for (order, member) in members.enumerated() {
                    sessionDialogs[(order / 2) % count].utterances.append(member)
                }
                for dialog in sessionDialogs {
                    var clock = 15_000  // the first turn starts 1.5 s and a gap into the dialog
                    var numbers: [Gender: Int] = [:]
                    for member in dialog.utterances {
                        let gender = utterances[member].gender
                        let number = numbers[gender, default: 0]
                        numbers[gender] = number + 1
                        let digits = String(number)
                        let id = dialog.name + "_" + (gender == .female ? "F" : "M") + String(repeating: "0", count: max(0, 3 - digits.count)) + digits
                        let start = clock + (gaps.indices.contains(member) ? gaps[member] : 0)
                        let end = start + EmoEvaluation.duration(samples: utterances[member].sampleCount, sampleRate: sampleRate)
                        clock = end
                        utterances[member].id = id
                        utterances[member].relativePath = "\(dialog.session)/sentences/wav/\(dialog.name)/\(id).wav"
                        utterances[member].turn.id = id
                        utterances[member].turn.start = start
                        utterances[member].turn.end = end
                    }
                }
                dialogs += sessionDialogs
            }
        }
    }
}

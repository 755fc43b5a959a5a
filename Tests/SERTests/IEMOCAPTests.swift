import Foundation
@testable import SER
import Testing

@Suite("IEMOCAP")
struct IEMOCAPTests {
    /// One EmoEvaluation block as the release writes it.
    static func block(_ start: Double, _ id: String, _ code: String) -> String {
        """
        [\(String(format: "%.4f", start)) - \(String(format: "%.4f", start + 1.5))]\t\(id)\t\(code)\t[2.5000, 3.0000, 2.5000]
        C-E2:\tNeutral;\t()
        C-E3:\tFrustration;\t()
        A-E3:\tval 3; act 2; dom  2;\t()
        A-F1:\tval 3; act 2; dom  1;\t()


        """
    }

    static let header = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n"

    /// The utterances of one improvised dialog of each session: five kept (neu, hap, exc, ang, sad) and six dropped.
    static let impro: [(suffix: String, code: String)] = [
        ("F000", "neu"), ("F001", "hap"), ("F002", "exc"), ("M000", "ang"), ("M001", "sad"),
        ("F003", "fru"), ("M002", "xxx"), ("F004", "oth"), ("M003", "sur"), ("F005", "fea"), ("M004", "dis"),
    ]

    /// Five sessions in the release layout: 27 kept utterances (neutral 6, happy 10, angry 5, sad 6), 30 dropped
    /// labels and one missing WAV.
    static func makeRelease(_ corpus: TemporaryCorpus) throws {
        for session in 1...5 {
            let dialog = "Ses0\(session)F_impro01"
            var text = header
            for (offset, entry) in impro.enumerated() {
                let id = "\(dialog)_\(entry.suffix)"
                text += block(Double(offset) * 2 + 0.25, id, entry.code)
                try corpus.wav("Session\(session)/sentences/wav/\(dialog)/\(id).wav", samples: 160 * (offset + 1))
            }
            if session == 1 {
                // Labelled, but its WAV is missing.
                text += block(40, "\(dialog)_M005", "neu")
            }
            try corpus.write("Session\(session)/dialog/EmoEvaluation/\(dialog).txt", text)
            // Subfolders of EmoEvaluation hold other formats and are not read.
            try corpus.write("Session\(session)/dialog/EmoEvaluation/Categorical/\(dialog)_e1_cat.txt", "[not an evaluation\n")
        }
        let script = "Ses02M_script01_1"
        try corpus.write("Session2/dialog/EmoEvaluation/\(script).txt",
                         header + block(1, "\(script)_M000", "sad") + block(5, "\(script)_F000", "neu"))
        try corpus.wav("Session2/sentences/wav/\(script)/\(script)_M000.wav")
        try corpus.wav("Session2/sentences/wav/\(script)/\(script)_F000.wav")
    }

    @Test("a release-layout tree is counted exactly: exc merged into happy, other labels and a missing WAV skipped")
    func releaseCounts() throws {
        let corpus = try TemporaryCorpus("iemocap")
        try Self.makeRelease(corpus)
        let read = try IEMOCAP.read(root: corpus.root)
        #expect(read.utterances.count == 27)
        let byEmotion = Dictionary(grouping: read.utterances, by: \.emotion).mapValues(\.count)
        #expect(byEmotion == ["neutral": 6, "happy": 10, "angry": 5, "sad": 6])
        #expect(read.utterances.filter { $0.gender == .female }.count == 16)
        #expect(read.utterances.filter { $0.gender == .male }.count == 11)
        #expect(Set(read.utterances.map(\.speaker)) == Set((1...5).flatMap { ["Ses0\($0)F", "Ses0\($0)M"] }))
        #expect(Set(read.utterances.compactMap(\.session)) == Set((1...5).map { "Session\($0)" }))

        #expect(read.skipped.count == 31)
        let reasons = Dictionary(grouping: read.skipped, by: \.reason).mapValues(\.count)
        for code in ["fru", "xxx", "oth", "sur", "fea", "dis"] {
            #expect(reasons["label \(code) is not in the classes"] == 5)
        }
        #expect(reasons["no such audio file"] == 1)
        #expect(read.skipped.contains { $0.path.hasSuffix("Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_M005.wav") })

        let script = try #require(read.utterances.first { $0.id == "Ses02M_script01_1_F000" })
        #expect(script.speaker == "Ses02F" && script.gender == .female && script.emotion == "neutral" && script.session == "Session2")
        #expect(script.path.hasSuffix("Session2/sentences/wav/Ses02M_script01_1/Ses02M_script01_1_F000.wav"))
        let excited = try #require(read.utterances.first { $0.id == "Ses03F_impro01_F002" })
        #expect(excited.emotion == "happy")
    }

    @Test("the label map and class order come from the caller")
    func labelMapFromCaller() throws {
        let corpus = try TemporaryCorpus("iemocap-map")
        try Self.makeRelease(corpus)
        let map = LabelMap(["ang": "anger", "fru": "anger", "neu": "calm"], classes: ["calm", "anger"])
        let read = try IEMOCAP.read(root: corpus.root, labels: map)
        #expect(Dictionary(grouping: read.utterances, by: \.emotion).mapValues(\.count) == ["anger": 10, "calm": 6])
        #expect(read.skipped.contains { $0.reason == "label hap is not in the classes" })
        #expect(throws: DataError.self) { try IEMOCAP.read(root: corpus.root, labels: LabelMap(["neu": "x"], classes: ["y"])) }
    }

    @Test("gender and speaker come from the utterance id")
    func speakerAndGender() {
        #expect(IEMOCAP.speakerAndGender(of: "Ses01F_impro01_F000")?.speaker == "Ses01F")
        #expect(IEMOCAP.speakerAndGender(of: "Ses01F_impro01_F000")?.gender == .female)
        #expect(IEMOCAP.speakerAndGender(of: "Ses01M_script02_1_M012")?.gender == .male)
        #expect(IEMOCAP.speakerAndGender(of: "Ses01F_impro01_M003")?.speaker == "Ses01M")
        for bad in ["", "Ses01F_impro01_X000", "Ses01F_impro01_F00", "Ses01F_impro01F000", "Sxx01F_impro01_F000", "Ses0"] {
            #expect(IEMOCAP.speakerAndGender(of: bad) == nil, "\(bad)")
        }
        #expect(IEMOCAP.dialog(of: "Ses01M_script02_1_M012") == "Ses01M_script02_1")
    }

    @Test("a label file that is a broken or looping symbolic link, or a FIFO, is an error naming it, never dropped or waited on")
    func unreadableLabelFiles() throws {
        let corpus = try TemporaryCorpus("iemocap-links")
        try corpus.write("Session1/dialog/EmoEvaluation/Ses01F_impro01.txt", Self.header + Self.block(1, "Ses01F_impro01_F000", "neu"))
        let link = corpus.path("Session1/dialog/EmoEvaluation/Ses01F_impro02.txt")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: corpus.path("missing.txt"))
        let broken = try #require(throws: DataError.self) { try IEMOCAP.read(root: corpus.root) }
        #expect(broken.description.contains("\(link): a symbolic link to a file that does not exist"), "\(broken)")

        try FileManager.default.removeItem(atPath: link)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: link)
        let loop = try #require(throws: DataError.self) { try IEMOCAP.read(root: corpus.root) }
        #expect(loop.description.contains("\(link): a symbolic link that refers to itself"), "\(loop)")

        try FileManager.default.removeItem(atPath: link)
        #expect(mkfifo(link, 0o644) == 0)
        let fifo = try #require(throws: DataError.self) { try IEMOCAP.read(root: corpus.root) }
        #expect(fifo.description.contains("\(link): a FIFO (named pipe), not a regular file"), "\(fifo)")
    }

    @Test("malformed bracketed lines are errors at file:line")
    func malformedLines() throws {
        let corpus = try TemporaryCorpus("iemocap-bad")
        let file = try corpus.write("Session1/dialog/EmoEvaluation/Ses01F_impro01.txt",
                                    Self.header + Self.block(1, "Ses01F_impro01_F000", "neu") + "[2.0 - 3.0\tSes01F_impro01_F001\tneu\t[1, 2, 3]\n")
        // The header and a blank line, five lines of the first block and a blank line: the bad line is line 9.
        let error = try #require(throws: DataError.self) { try IEMOCAP.read(root: corpus.root) }
        #expect(error.description.hasPrefix("\(file):9:1: error:"), "\(error)")

        try corpus.write("Session1/dialog/EmoEvaluation/Ses01F_impro01.txt",
                         Self.header + "[2.0 - 3.0]\tSes01F_impro01_000\tneu\t[1, 2, 3]\n")
        let noGender = try #require(throws: DataError.self) { try IEMOCAP.read(root: corpus.root) }
        #expect(noGender.description.contains("\(file):3:1: error: utterance id 'Ses01F_impro01_000'"), "\(noGender)")

        try corpus.write("Session1/dialog/EmoEvaluation/Ses01F_impro01.txt", Self.header + "[a - b]\tSes01F_impro01_F000\tneu\n")
        #expect(throws: DataError.self) { try IEMOCAP.read(root: corpus.root) }

        let empty = try TemporaryCorpus("iemocap-empty")
        let missing = try #require(throws: DataError.self) { try IEMOCAP.read(root: empty.root) }
        #expect(missing.description.contains("no Session1"))
    }
}

import Foundation
@testable import SER
import Testing

@Suite("Corpus stats")
struct CorpusStatsTests {
    @Test("stats of the IEMOCAP tree: counts, seconds from headers, sorted JSON keys")
    func iemocapStats() throws {
        let corpus = try TemporaryCorpus("stats")
        try IEMOCAPTests.makeRelease(corpus)
        let stats = CorpusStats(try IEMOCAP.read(root: corpus.root))
        #expect(stats.utterances == 27)
        // Per session the kept utterances are 160, 320, 480, 640 and 800 samples; two 160-sample ones in session 2.
        #expect(abs(stats.seconds - (5 * 2_400 + 320) / 16_000.0) < 1e-9)
        #expect(stats.byGender == ["female": 16, "male": 11])
        #expect(stats.bySession["Session2"] == 7)
        #expect(stats.bySpeaker["Ses02M"] == 3)
        #expect(stats.bySampleRate == ["16000": 27])

        let json = stats.json
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(Set(object.keys).isSuperset(of: ["utterances", "seconds", "by_emotion", "by_gender", "by_session", "skipped"]))
        #expect(object["utterances"] as? Int == 27)
        #expect(object["by_emotion"] as? [String: Int] == ["neutral": 6, "happy": 10, "angry": 5, "sad": 6])
        let skipped = try #require(object["skipped"] as? [[String: Any]])
        #expect(skipped.count == 31 && skipped.allSatisfy { Set($0.keys) == ["path", "reason", "unreadable"] })
        // A missing recording cannot be read; labels outside the classes are the corpus's rules.
        #expect(skipped.filter { $0["unreadable"] as? Bool == true }.map { $0["reason"] as? String } == ["no such audio file"])
        let topKeys = json.split(separator: "\n").filter { $0.hasPrefix("  \"") }.map { $0.split(separator: "\"")[1] }
        #expect(topKeys == topKeys.sorted() && topKeys.first == "by_emotion")
        #expect(json.contains("\"by_emotion\": {\n    \"angry\": 5,\n    \"happy\": 10,\n    \"neutral\": 6,\n    \"sad\": 6\n  }"))
        #expect(stats.json == CorpusStats(try IEMOCAP.read(root: corpus.root)).json)
        #expect(stats.text.contains("utterances  27"))
    }

    @Test("files whose header cannot be read are skipped with the reason; formats are detected")
    func unreadableAndDetection() throws {
        let corpus = try TemporaryCorpus("stats-detect")
        try corpus.wav("good.wav", samples: 8_000)
        try corpus.write("bad.wav", "not audio at all")
        let manifest = try corpus.write("m.csv", "path,emotion,gender,speaker\ngood.wav,sad,f,a\nbad.wav,sad,m,b\n")
        let stats = CorpusStats(try Manifest.read(manifest))
        #expect(stats.utterances == 1 && stats.seconds == 0.5)
        #expect(stats.skipped.count == 1 && stats.skipped.first?.reason.hasPrefix("cannot read as audio") == true)
        #expect(JSONText.quoted("a\"b\\c\n\u{1}") == "\"a\\\"b\\\\c\\n\\u0001\"")

        #expect(try CorpusFormat.detect(manifest) == .manifest)
        try IEMOCAPTests.makeRelease(corpus)
        #expect(try CorpusFormat.detect(corpus.root) == .iemocap)
        let ravdess = try TemporaryCorpus("stats-ravdess")
        try ravdess.wav("Actor_01/03-01-01-01-01-01-01.wav")
        #expect(try CorpusFormat.detect(ravdess.root) == .ravdess)
        let cremad = try TemporaryCorpus("stats-cremad")
        try cremad.wav("1001_DFA_ANG_XX.wav")
        #expect(try CorpusFormat.detect(cremad.root) == .cremad)
        let other = try TemporaryCorpus("stats-other")
        try other.wav("hello.wav")
        #expect(throws: DataError.self) { try CorpusFormat.detect(other.root) }
    }
}

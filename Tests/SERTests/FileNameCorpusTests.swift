@testable import SER
import Testing

@Suite("File-name corpora (RAVDESS, CREMA-D)")
struct FileNameCorpusTests {
    @Test("RAVDESS names give emotion, actor and gender; songs, video and other names are skipped")
    func ravdess() throws {
        let corpus = try TemporaryCorpus("ravdess")
        try corpus.wav("Actor_12/03-01-05-01-02-01-12.wav")   // angry, actor 12: female
        try corpus.wav("Actor_01/03-01-01-01-01-01-01.wav")   // neutral, actor 1: male
        try corpus.wav("Actor_01/03-01-02-01-01-01-01.wav")   // calm
        try corpus.wav("Actor_01/03-02-03-01-01-01-01.wav")   // a song
        try corpus.wav("Actor_01/01-01-03-01-01-01-01.wav")   // audio-visual
        try corpus.wav("Actor_01/03-01-09-01-01-01-01.wav")   // no such emotion
        try corpus.wav("Actor_01/readme.wav")
        try corpus.write("Actor_01/notes.txt", "not audio")

        let all = try RAVDESS.read(root: corpus.root)
        #expect(all.utterances.map(\.id) == ["03-01-01-01-01-01-01", "03-01-02-01-01-01-01", "03-01-05-01-02-01-12"])
        #expect(all.utterances.map(\.emotion) == ["neutral", "calm", "angry"])
        #expect(all.utterances.map(\.gender) == [.male, .male, .female])
        #expect(all.utterances.map(\.speaker) == ["01", "01", "12"])
        #expect(all.utterances.allSatisfy { $0.session == nil })
        #expect(all.skipped.count == 4)

        let four = try RAVDESS.read(root: corpus.root, labels: RAVDESS.fourClass)
        #expect(four.utterances.map(\.emotion) == ["neutral", "angry"])
        #expect(four.skipped.contains { $0.reason == "label calm is not in the classes" })
        let songs = try RAVDESS.read(root: corpus.root, includeSong: true)
        #expect(songs.utterances.map(\.emotion).contains("happy"))

        let name = try #require(RAVDESS.FileName("03-01-05-01-02-01-12.wav"))
        #expect(name.emotion == 5 && name.intensity == 1 && name.statement == 2 && name.repetition == 1 && name.actor == 12)
        #expect(RAVDESS.FileName("03-01-05-01-02-01") == nil)
        #expect(RAVDESS.FileName("03-01-05-01-02-01-1x") == nil)
    }

    @Test("CREMA-D names with genders from VideoDemographics.csv, which is required")
    func cremad() throws {
        let corpus = try TemporaryCorpus("cremad")
        try corpus.wav("AudioWAV/1001_DFA_ANG_XX.wav")
        try corpus.wav("AudioWAV/1002_IEO_HAP_HI.wav")
        try corpus.wav("AudioWAV/1003_IEO_SAD_LO.wav")   // not in the demographics
        try corpus.wav("AudioWAV/1001_DFA_XYZ_XX.wav")   // no such emotion
        try corpus.wav("AudioWAV/1001-DFA.wav")

        let missing = try #require(throws: DataError.self) { try CREMAD.read(root: corpus.path("AudioWAV")) }
        #expect(missing.description.contains("VideoDemographics.csv"))

        try corpus.write("VideoDemographics.csv", "ActorID,Age,Sex,Race,Ethnicity\n1001,51,Male,Caucasian,Not Hispanic\n1002,21,Female,Caucasian,Not Hispanic\n")
        let read = try CREMAD.read(root: corpus.path("AudioWAV"))
        #expect(read.utterances.map(\.id) == ["1001_DFA_ANG_XX", "1002_IEO_HAP_HI"])
        #expect(read.utterances.map(\.emotion) == ["angry", "happy"])
        #expect(read.utterances.map(\.gender) == [.male, .female])
        #expect(read.utterances.map(\.speaker) == ["1001", "1002"])
        #expect(Set(read.skipped.map(\.reason)) == [
            "actor 1003 is not in VideoDemographics.csv",
            "emotion code XYZ is not one of ANG, DIS, FEA, HAP, NEU, SAD",
            "not a CREMA-D file name (actor_sentence_emotion_level, like 1001_DFA_ANG_XX.wav)",
        ])
        let sad = try CREMAD.read(root: corpus.root, labels: LabelMap(["sad": "sad", "angry": "angry"], classes: ["angry", "sad"]))
        #expect(sad.utterances.map(\.emotion) == ["angry"])

        try corpus.write("VideoDemographics.csv", "ActorID,Age,Sex\n1001,51,Unknown\n")
        let bad = try #require(throws: DataError.self) { try CREMAD.read(root: corpus.root) }
        #expect(bad.description.contains("VideoDemographics.csv:2:1: error: Sex 'Unknown'"))
    }
}

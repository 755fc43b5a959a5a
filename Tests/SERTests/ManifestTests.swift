import Foundation
@testable import SER
import Testing

@Suite("Manifest")
struct ManifestTests {
    @Test("a CSV with RFC 4180 quoting: commas, doubled quotes and line breaks inside quoted fields")
    func csvQuoting() throws {
        let corpus = try TemporaryCorpus("manifest-csv")
        try corpus.wav("wav/a, b.wav")
        try corpus.wav("wav/say \"hi\".wav")
        try corpus.wav("wav/c.wav")
        let manifest = try corpus.write("list.csv", """
            Path,emotion,GENDER,speaker,session\r
            "wav/a, b.wav",angry,F,spk1,1\r
            "wav/say ""hi"".wav",neutral,male,"spk
            two",2\r
            wav/c.wav,sad,female,spk3,\r
            wav/missing.wav,sad,m,spk3,2\r

            """)
        let read = try Manifest.read(manifest)
        #expect(read.name == "list")
        #expect(read.utterances.map(\.id) == ["wav/a, b", "wav/say \"hi\"", "wav/c"])
        #expect(read.utterances.map(\.path) == [corpus.path("wav/a, b.wav"), corpus.path("wav/say \"hi\".wav"), corpus.path("wav/c.wav")])
        #expect(read.utterances.map(\.gender) == [.female, .male, .female])
        #expect(read.utterances.map(\.speaker) == ["spk1", "spk\ntwo", "spk3"])
        #expect(read.utterances.map(\.session) == ["1", "2", nil])
        #expect(read.skipped == [SkippedFile(path: corpus.path("wav/missing.wav"), reason: "no such audio file", unreadable: true)])
    }

    @Test("audio paths that are broken links, links to themselves, folders or FIFOs are left out as unreadable with what they are, never opened")
    func unreadableAudio() throws {
        let corpus = try TemporaryCorpus("manifest-unreadable")
        try corpus.wav("good.wav")
        try FileManager.default.createSymbolicLink(atPath: corpus.path("broken.wav"), withDestinationPath: corpus.path("gone.wav"))
        try FileManager.default.createSymbolicLink(atPath: corpus.path("loop.wav"), withDestinationPath: corpus.path("loop.wav"))
        try FileManager.default.createDirectory(atPath: corpus.path("folder.wav"), withIntermediateDirectories: true)
        #expect(mkfifo(corpus.path("pipe.wav"), 0o644) == 0)
        let manifest = try corpus.write("list.csv", """
            path,emotion,gender,speaker,session
            good.wav,sad,f,s1,1
            broken.wav,sad,f,s1,1
            loop.wav,sad,f,s1,1
            folder.wav,sad,f,s1,1
            pipe.wav,sad,f,s1,1
            absent.wav,sad,f,s1,1

            """)
        let read = try Manifest.read(manifest)
        #expect(read.utterances.map(\.id) == ["good"])
        #expect(read.skipped.allSatisfy { $0.isUnreadable })
        #expect(read.skipped.map(\.reason) == [
            "a symbolic link to a file that does not exist", "a symbolic link that refers to itself (a loop)",
            "a directory, not a regular file", "a FIFO (named pipe), not a regular file", "no such audio file",
        ])
        // The training log and data stats list them by path.
        let lines = SkippedSummary.lines(for: read)
        #expect(lines.first == "corpus list: 1 utterances, 5 left out")
        #expect(lines.contains("  left out because they cannot be read:"))
        #expect(lines.contains("    \(read.skipped[3].path): a FIFO (named pipe), not a regular file"))
        let text = CorpusStats(read).text
        #expect(text.contains("unreadable  5"), "\(text)")
        #expect(CorpusStats(read).json.contains("\"unreadable\": true"))
    }

    @Test("a TSV with a fold column and a label map; tabs are sniffed for other extensions")
    func tsvWithFold() throws {
        let corpus = try TemporaryCorpus("manifest-tsv")
        try corpus.wav("x.wav")
        try corpus.wav("y.wav")
        let text = "path\temotion\tgender\tspeaker\tfold\nx.wav\thap\tf\ts1\tA\ny.wav\tfru\tm\ts2\tB\n"
        let map = LabelMap(["hap": "happy"], classes: ["happy"])
        for name in ["list.tsv", "list.txt"] {
            let read = try Manifest.read(try corpus.write(name, text), labels: map)
            #expect(read.utterances.map(\.emotion) == ["happy"])
            #expect(read.utterances.first?.session == "A")
            #expect(read.skipped.map(\.reason) == ["label fru is not in the classes"])
        }
    }

    @Test("one file spelled two ways, or two files with one id, are errors: an utterance cannot be in two splits")
    func duplicates() throws {
        let corpus = try TemporaryCorpus("manifest-duplicates")
        try corpus.wav("a.wav")
        try corpus.wav("sub/b.wav")
        try corpus.wav("a.flac")
        let twice = try corpus.write("twice.csv", "path,emotion,gender,speaker,session\na.wav,sad,f,s1,1\n./sub/../a.wav,sad,m,s2,2\n")
        let error = try #require(throws: DataError.self) { try Manifest.read(twice) }
        #expect(error.description.contains("twice.csv:3:1: error: ./sub/../a.wav is listed twice"))
        let sameID = try corpus.write("ids.csv", "path,emotion,gender,speaker\na.wav,sad,f,s1\na.flac,sad,f,s1\n")
        let idError = try #require(throws: DataError.self) { try Manifest.read(sameID) }
        #expect(idError.description.contains("ids.csv:3:1: error: utterance id 'a'"))
    }

    @Test("a manifest that is not UTF-8 is an error at its first bad line; a line of spaces is an empty line")
    func encodingAndBlankLines() throws {
        let corpus = try TemporaryCorpus("manifest-encoding")
        try corpus.wav("a.wav")
        let latin1 = corpus.path("latin1.csv")
        var bytes = Array("path,emotion,gender,speaker\na.wav,sad,f,s1\n".utf8)
        bytes += [0x63, 0x61, 0x66, 0xE9] + Array(".wav,sad,f,s1\n".utf8)  // "café" in Latin-1
        try Data(bytes).write(to: URL(fileURLWithPath: latin1))
        let error = try #require(throws: DataError.self) { try Manifest.read(latin1) }
        #expect(error.description.contains("latin1.csv:3:1: error: the file is not UTF-8 text"))
        let spaced = try corpus.write("spaced.csv", "path,emotion,gender,speaker\na.wav,sad,f,s1\n   \n")
        #expect(try Manifest.read(spaced).utterances.count == 1)
    }

    @Test("session names sort the same way on every run: a strict total order")
    func naturalOrder() {
        let names = ["s9", "s10", "s1a", "Session2", "Session10", "x", "s01"]
        for a in names {
            #expect(!Folds.naturalOrder(a, a))
            for b in names where a != b {
                #expect(Folds.naturalOrder(a, b) != Folds.naturalOrder(b, a), "\(a) and \(b)")
                for c in names where Folds.naturalOrder(a, b) && Folds.naturalOrder(b, c) {
                    #expect(Folds.naturalOrder(a, c), "\(a) < \(b) < \(c)")
                }
            }
        }
        #expect(["Session10", "Session2"].sorted(by: Folds.naturalOrder) == ["Session2", "Session10"])
    }

    @Test("bad headers and rows are errors at file:line")
    func errors() throws {
        let corpus = try TemporaryCorpus("manifest-errors")
        func failure(_ text: String) throws -> String {
            let file = try corpus.write("m.csv", text)
            let error = try #require(throws: DataError.self) { try Manifest.read(file) }
            return error.description.replacingOccurrences(of: file, with: "m.csv")
        }
        let unknown = try failure("path,emotion,gender,speaker,speeker\n")
        #expect(unknown.hasPrefix("m.csv:1:1: error: unknown column 'speeker'; the known columns are path, emotion, gender, speaker, session, fold"))
        #expect(try failure("path,emotion,gender\n").contains("the header has no speaker column"))
        #expect(try failure("path,emotion,gender,speaker,session,fold\n").contains("not both"))
        #expect(try failure("").contains("empty"))
        let quoted = "path,emotion,gender,speaker\n\"a\nb.wav\",sad,f,s1\nc.wav,sad,x,s1\n"
        #expect(try failure(quoted).hasPrefix("m.csv:4:1: error: gender 'x' is not f, female, m or male"))
        #expect(try failure("path,emotion,gender,speaker\nc.wav,sad,f\n").hasPrefix("m.csv:2:1: error: the row has 3 fields, the header 4"))
        #expect(try failure("path,emotion,gender,speaker\nc.wav,,f,s1\n").hasPrefix("m.csv:2:1: error: the emotion is empty"))
        #expect(try failure("path,emotion,gender,speaker\nc.wav,sad,f,s1\n\nc.wav,sad,f,s1\n").hasPrefix("m.csv:4:1: error: c.wav is listed twice"))
        #expect(try failure("path,emotion,gender,speaker\n\"c.wav\"x,sad,f,s1\n").hasPrefix("m.csv:2:1: error: text after the closing quote"))
        #expect(try failure("path,emotion,gender,speaker\nc.wav,sad,f,\"s1\n\n").hasPrefix("m.csv:2:1: error: a quoted field is not closed"))
    }

    @Test("damaged manifests and EmoEvaluation text give errors or skips, never a crash")
    func damagedInputs() throws {
        let corpus = try TemporaryCorpus("manifest-damaged")
        let manifest = "path,emotion,gender,speaker,session\n\"a, b.wav\",sad,f,s1,1\nc.wav,hap,m,\"s\"\"2\",2\n"
        let evaluation = "% header\n\n[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]\nC-E2:\tNeutral;\t()\n"
        let replacements = Array("\",\t\n\r[]- _F0M%\u{FEFF}é".unicodeScalars)
        var state: UInt64 = 12_345
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(max(1, bound)))
        }
        for round in 0..<200 {
            var scalars = Array((round % 2 == 0 ? manifest : evaluation).unicodeScalars)
            if round % 5 == 0 { scalars = Array(scalars.prefix(next(scalars.count))) }
            for _ in 0..<(1 + round % 4) where !scalars.isEmpty {
                scalars[next(scalars.count)] = replacements[next(replacements.count)]
            }
            var text = ""
            text.unicodeScalars.append(contentsOf: scalars)
            if round % 2 == 0 {
                _ = try? Manifest.read(try corpus.write("m.csv", text))
            } else {
                _ = try? IEMOCAP.evaluations(in: text, file: "e.txt")
            }
        }
    }
}

import Audio
import Foundation
import SER
import Testing

/// The demo corpus the tests read: written once per test process (2 utterances per class) into a temporary folder,
/// removed when the process exits.
private let demoFolder = FileManager.default.temporaryDirectory.appendingPathComponent("gmptl-demo-\(UUID().uuidString)").path
private let demo: Result<DemoCorpus.Summary, DataError> = {
    atexit { try? FileManager.default.removeItem(atPath: demoFolder) }
    return Result { () throws(DataError) in try DemoCorpus.generate(in: demoFolder, utterancesPerClass: 2, seed: 7) }
}()

/// One block of an EmoEvaluation file: the bracketed line and the evaluator lines under it.
struct LabelBlock {
    var start: Double
    var end: Double
    var id: String
    var code: String
    var dimensions: [Double]
    var evaluatorLines: [String]
}

/// Reads IEMOCAP's EmoEvaluation text: `[start - end]<TAB>id<TAB>code<TAB>[v, a, d]` lines, each followed by
/// `C-`/`A-` evaluator lines and a blank line.
func parseEmoEvaluation(_ text: String) -> (header: String, blocks: [LabelBlock], malformed: [String]) {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    var blocks = [LabelBlock](), malformed = [String]()
    for line in lines.dropFirst() where !line.isEmpty {
        if line.hasPrefix("[") {
            let fields = line.split(separator: "\t").map(String.init)
            guard fields.count == 4 else { malformed.append(line); continue }
            let times = fields[0].trimmingCharacters(in: CharacterSet(charactersIn: "[]")).components(separatedBy: " - ")
            let dimensions = fields[3].trimmingCharacters(in: CharacterSet(charactersIn: "[]")).components(separatedBy: ", ").compactMap(Double.init)
            guard times.count == 2, let start = Double(times[0]), let end = Double(times[1]), dimensions.count == 3 else {
                malformed.append(line)
                continue
            }
            blocks.append(LabelBlock(start: start, end: end, id: fields[1], code: fields[2], dimensions: dimensions, evaluatorLines: []))
        } else if line.hasPrefix("C-") || line.hasPrefix("A-"), !blocks.isEmpty {
            blocks[blocks.count - 1].evaluatorLines.append(line)
        } else {
            malformed.append(line)
        }
    }
    return (lines.first ?? "", blocks, malformed)
}

/// Every file under `folder`, as paths relative to it, sorted.
func relativeFiles(under folder: String) -> [String] {
    guard let enumerator = FileManager.default.enumerator(atPath: folder) else { return [] }
    var files = [String]()
    while let next = enumerator.nextObject() as? String {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder + "/" + next, isDirectory: &isFolder), !isFolder.boolValue { files.append(next) }
    }
    return files.sorted()
}

@Suite("Demo corpus")
struct DemoCorpusTests {
    @Test("IEMOCAP's layout: 5 sessions, 10 speakers, WAVs and label files where IEMOCAP puts them")
    func layout() throws {
        let summary = try demo.get()
        let files = relativeFiles(under: demoFolder)
        let wavs = files.filter { $0.hasSuffix(".wav") }
        let labels = files.filter { $0.hasSuffix(".txt") && $0 != DemoCorpus.markerFile }
        #expect(files.contains(DemoCorpus.markerFile))
        #expect(wavs.count == 8 + 10)
        #expect(wavs.count + labels.count + 1 == files.count, "no stray files: \(files)")
        var speakers = Set<String>(), sessions = Set<String>()
        for wav in wavs {
            // SessionN/sentences/wav/<dialog>/<dialog>_<F|M><3 digits>.wav, the dialog named after the session.
            let parts = wav.split(separator: "/").map(String.init)
            try #require(parts.count == 5, "\(wav)")
            let (session, dialog, file) = (parts[0], parts[3], parts[4])
            #expect(parts[1] == "sentences" && parts[2] == "wav")
            let number = try #require(Int(session.dropFirst("Session".count)))
            #expect(dialog.hasPrefix("Ses0\(number)F_") || dialog.hasPrefix("Ses0\(number)M_"), "\(wav)")
            #expect(file.hasPrefix(dialog + "_"), "\(wav)")
            let suffix = file.dropFirst(dialog.count + 1).dropLast(".wav".count)
            #expect(suffix.count == 4 && (suffix.first == "F" || suffix.first == "M") && Int(suffix.dropFirst()) != nil, "\(wav)")
            speakers.insert("Ses0\(number)" + String(suffix.prefix(1)))
            sessions.insert(session)
            #expect(labels.contains("\(session)/dialog/EmoEvaluation/\(dialog).txt"), "no label file for \(dialog)")
        }
        #expect(sessions == Set((1...5).map { "Session\($0)" }))
        #expect(speakers.count == 10)
        #expect(summary.speakers == speakers.sorted())

        // The returned corpus: the four classes, balanced; gender and speaker as the ids say; the dropped ones skipped.
        let corpus = summary.corpus
        #expect(corpus.utterances.count == 8)
        for emotion in ["neutral", "happy", "angry", "sad"] {
            #expect(corpus.utterances.filter { $0.emotion == emotion }.count == 2, "\(emotion)")
        }
        for utterance in corpus.utterances {
            let letter = utterance.id.dropLast(3).last
            #expect(letter == (utterance.gender == .female ? "F" : "M"), "\(utterance.id)")
            #expect(utterance.speaker == String(utterance.id.prefix(5)) + String(letter ?? "?"))
            #expect(utterance.path == demoFolder + "/" + (utterance.session ?? "") + "/sentences/wav/" + String(utterance.id.dropLast(5)) + "/" + utterance.id + ".wav")
            #expect(FileManager.default.fileExists(atPath: utterance.path))
        }
        #expect(corpus.skipped.count == 10)
        #expect(summary.labelCounts == ["neu": 2, "hap": 1, "exc": 1, "ang": 2, "sad": 2, "fru": 5, "xxx": 3, "sur": 2])
        #expect(DemoCorpus.droppedLabels.map(\.count).reduce(0, +) == 10)
        #expect(DemoCorpus.excitedCount(utterancesPerClass: 2) == 1 && DemoCorpus.excitedCount(utterancesPerClass: 100) == 33)
    }

    @Test("EmoEvaluation files parse back: codes, evaluator lines, times matching the WAV durations")
    func labelFiles() throws {
        let summary = try demo.get()
        let labels = relativeFiles(under: demoFolder).filter { $0.contains("/dialog/EmoEvaluation/") }
        var codes = [String: Int](), seen = Set<String>()
        for label in labels {
            let text = try String(contentsOfFile: demoFolder + "/" + label, encoding: .utf8)
            let parsed = parseEmoEvaluation(text)
            #expect(parsed.header == "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]")
            #expect(parsed.malformed.isEmpty, "\(parsed.malformed)")
            #expect(text.hasPrefix(parsed.header + "\n\n[") && text.hasSuffix(")\n\n"))
            let session = String(label.prefix(while: { $0 != "/" }))
            let dialog = URL(fileURLWithPath: label).deletingPathExtension().lastPathComponent
            var previousEnd = 0.0
            for block in parsed.blocks {
                codes[block.code, default: 0] += 1
                seen.insert(block.id)
                #expect(block.start >= previousEnd && block.end > block.start, "\(block.id) out of order")
                previousEnd = block.end
                #expect(block.evaluatorLines.filter { $0.hasPrefix("C-E") }.count == 3)
                #expect(block.evaluatorLines.filter { $0.hasPrefix("A-E") && $0.contains("; dom  ") }.count == 2)
                #expect(block.dimensions.allSatisfy { (1...5).contains($0) })
                let audio = try AudioFile.read("\(demoFolder)/\(session)/sentences/wav/\(dialog)/\(block.id).wav")
                #expect(audio.sampleRate == 16_000 && audio.channels == 1)
                #expect((1.5...4).contains(audio.seconds), "\(block.id): \(audio.seconds) s")
                #expect(abs((block.end - block.start) - audio.seconds) <= 0.000_15, "\(block.id): \(block.end - block.start) vs \(audio.seconds)")
            }
        }
        #expect(codes == summary.labelCounts)
        #expect(seen == Set(summary.corpus.utterances.map(\.id)).union(summary.corpus.skipped.map {
            URL(fileURLWithPath: $0.path).deletingPathExtension().lastPathComponent
        }))
        // The exact line format of the bracketed lines and the evaluator lines.
        let first = try String(contentsOfFile: demoFolder + "/" + (labels.first ?? ""), encoding: .utf8)
        let lines = first.split(separator: "\n").map(String.init)
        #expect(lines.count > 3)
        let bracketed = lines.dropFirst().first ?? ""
        #expect(bracketed.range(of: #"^\[\d+\.\d{4} - \d+\.\d{4}\]\tSes0\d[FM]_[a-z0-9_]+_[FM]\d{3}\t[a-z]{3}\t\[\d\.\d{4}, \d\.\d{4}, \d\.\d{4}\]$"#,
                                options: .regularExpression) != nil, "\(bracketed)")
        #expect(lines.contains { $0.range(of: #"^C-E1:\t[A-Z][a-z]+;\t\(\)$"#, options: .regularExpression) != nil })
        #expect(lines.contains { $0.range(of: #"^A-E1:\tval \d; act \d; dom  \d;\t\(\)$"#, options: .regularExpression) != nil })
    }

    @Test("same seed, same bytes; another seed, other audio")
    func determinism() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("gmptl-demo-seeds-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: base) }
        _ = try DemoCorpus.write(to: base + "/a", utterancesPerClass: 1, seed: 3)
        _ = try DemoCorpus.write(to: base + "/b", utterancesPerClass: 1, seed: 3)
        _ = try DemoCorpus.write(to: base + "/c", utterancesPerClass: 1, seed: 4)
        let files = relativeFiles(under: base + "/a")
        #expect(files == relativeFiles(under: base + "/b") && files == relativeFiles(under: base + "/c"))
        var differing = 0
        for file in files {
            let a = FileManager.default.contents(atPath: base + "/a/" + file)
            #expect(a != nil && a == FileManager.default.contents(atPath: base + "/b/" + file), "\(file)")
            if file.hasSuffix(".wav"), a != FileManager.default.contents(atPath: base + "/c/" + file) { differing += 1 }
        }
        #expect(differing == files.filter { $0.hasSuffix(".wav") }.count)

        // Rewriting a demo folder replaces it; a folder holding something else is refused.
        _ = try DemoCorpus.write(to: base + "/a", utterancesPerClass: 1, seed: 3)
        #expect(relativeFiles(under: base + "/a") == files)
        #expect(throws: DataError.self) { try DemoCorpus.write(to: base, utterancesPerClass: 1, seed: 3) }
        #expect(throws: DataError.self) { try DemoCorpus.write(to: base + "/a/DEMO_CORPUS.txt/x", utterancesPerClass: 1, seed: 3) }
        #expect(throws: DataError.self) { try DemoCorpus.write(to: base + "/d", utterancesPerClass: 0, seed: 3) }
    }

    @Test("female speakers have a higher median F0 than male ones")
    func genderPitch() throws {
        let corpus = try demo.get().corpus
        var female = [Double](), male = [Double]()
        for utterance in corpus.utterances {
            let pitch = PitchEstimate(try AudioFile.read(utterance.path).mono)
            if utterance.gender == .female { female += pitch.frames } else { male += pitch.frames }
        }
        let femaleMedian = PitchEstimate.median(female), maleMedian = PitchEstimate.median(male)
        #expect(female.count > 100 && male.count > 100)
        #expect((150...400).contains(femaleMedian), "female median F0 \(femaleMedian)")
        #expect((70...200).contains(maleMedian), "male median F0 \(maleMedian)")
        #expect(femaleMedian > 1.4 * maleMedian, "female \(femaleMedian) Hz, male \(maleMedian) Hz")
    }

    @Test("emotions differ as intended: happy and angry higher than sad, angry louder than sad")
    func emotionMeasures() throws {
        let corpus = try demo.get().corpus
        var pitch = [String: [Double]](), loudness = [String: [Double]]()
        for utterance in corpus.utterances {
            let samples = try AudioFile.read(utterance.path).mono
            // Pitch relative to the speaker's gender (the classes have one female and one male utterance each).
            let estimate = PitchEstimate(samples)
            let reference = utterance.gender == .female ? 200.0 : 115.0
            pitch[utterance.emotion, default: []].append(estimate.mean / reference)
            loudness[utterance.emotion, default: []].append(PitchEstimate.rms(samples))
        }
        func mean(_ values: [Double]?) -> Double { (values ?? []).reduce(0, +) / Double(max(1, values?.count ?? 0)) }
        #expect(mean(pitch["happy"]) > 1.1 * mean(pitch["sad"]), "\(pitch)")
        #expect(mean(pitch["angry"]) > 1.1 * mean(pitch["sad"]), "\(pitch)")
        #expect(mean(loudness["angry"]) > 1.1 * mean(loudness["sad"]), "\(loudness)")
    }
}

/// F0 by normalised autocorrelation over 32 ms frames every 20 ms: the smallest lag (55-530 Hz) within 90% of the
/// best, in frames with energy and a clear periodicity.
struct PitchEstimate {
    var frames: [Double] = []
    var mean: Double { frames.reduce(0, +) / Double(max(1, frames.count)) }

    init(_ samples: [Float], sampleRate: Int = 16_000) {
        let frame = 512, hop = 320, minimumLag = sampleRate / 530, maximumLag = sampleRate / 55
        let threshold = Self.rms(samples) * 0.5
        var start = 0
        samples.withUnsafeBufferPointer { x in
            while start + frame + maximumLag <= x.count {
                var energy: Float = 0
                for i in start..<(start + frame) { energy += x[i] * x[i] }
                defer { start += hop }
                guard Double((energy / Float(frame)).squareRoot()) > threshold else { continue }
                var scores = [Float](repeating: 0, count: maximumLag + 1)
                for lag in minimumLag...maximumLag {
                    var product: Float = 0, shifted: Float = 0
                    for i in start..<(start + frame) {
                        product += x[i] * x[i + lag]
                        shifted += x[i + lag] * x[i + lag]
                    }
                    scores[lag] = product / max(1e-12, (energy * shifted).squareRoot())
                }
                let best = scores.max() ?? 0
                guard best > 0.5, let lag = (minimumLag...maximumLag).first(where: { scores[$0] >= 0.9 * best }) else { continue }
                frames.append(Double(sampleRate) / Double(lag))
            }
        }
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    static func rms(_ samples: [Float]) -> Double {
        (samples.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(1, samples.count))).squareRoot()
    }
}

import ArgumentParser
import Foundation
import GraphIR
import SER

/// `gmptl corpus ...`: commands that make corpora.
struct CorpusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corpus",
        abstract: "Make corpora.",
        subcommands: [CorpusSynth.self]
    )
}

/// `gmptl corpus synth`: writes the synthetic demo corpus in IEMOCAP's layout.
struct CorpusSynth: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Write the synthetic demo corpus (IEMOCAP layout): a smoke test, not an emotion benchmark.",
        discussion: """
            Writes wordless synthetic speech (a source-filter synthesizer: glottal pulses, formants, fricatives) \
            from 10 speakers (a female and a male in each of Session1 ... Session5) in IEMOCAP's release layout: \
            SessionN/sentences/wav/<dialog>/<utterance>.wav (16 kHz, 16-bit) and the labels in \
            SessionN/dialog/EmoEvaluation/<dialog>.txt. The four emotions (neutral, happy, angry, sad) differ by \
            construction in pitch, speaking rate, loudness and voice quality, so the corpus shows that training and \
            evaluation run end to end without a download; it says nothing about recognising real emotions.

            Each class gets --utterances-per-class utterances spread evenly over the speakers; every third happy one \
            is labelled exc (counted as happy). 10 more utterances carry labels the four-class protocol drops \
            (5 fru, 3 xxx, 2 sur). The same seed gives the same files on any machine. The folder must be new, empty \
            or a demo corpus written before (its sessions are replaced).
            """)

    @Option(help: "The folder to write (created if needed).")
    var out: String

    @Option(help: "Utterances of each of the four classes.")
    var utterancesPerClass: Int = 100

    @Option(help: "The random seed.")
    var seed: UInt64 = 0

    func validate() throws {
        guard (1...DemoCorpus.maximumUtterancesPerClass).contains(utterancesPerClass) else {
            throw ValidationError("--utterances-per-class must be from 1 to \(DemoCorpus.maximumUtterancesPerClass), got \(utterancesPerClass)")
        }
    }

    func run() throws {
        let started = DispatchTime.now().uptimeNanoseconds
        let summary: DemoCorpus.Summary
        do {
            summary = try DemoCorpus.generate(in: out, utterancesPerClass: utterancesPerClass, seed: seed)
        } catch {
            printError(Diagnostic.render(error))
            throw ExitCode(1)
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let corpus = summary.corpus
        let counts = summary.labelCounts
        print("wrote the demo corpus to \(out) (synthetic speech for smoke tests, not an emotion benchmark)")
        for emotion in SpeechEmotion.allCases {
            let count = corpus.utterances.filter { $0.emotion == emotion.rawValue }.count
            let note = emotion == .happy ? "  (\(counts["exc", default: 0]) labelled exc)" : ""
            print("  \(emotion.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(count)\(note)")
        }
        let dropped = DemoCorpus.droppedLabels.map { "\(counts[$0.code, default: 0]) \($0.code)" }.joined(separator: ", ")
        print("  dropped  \(corpus.skipped.count)  (\(dropped): outside the four classes)")
        let female = summary.speakers.filter { $0.hasSuffix("F") }.count
        print("speakers \(summary.speakers.count) (\(female) female, \(summary.speakers.count - female) male) in \(summary.sessions.count) sessions, \(summary.dialogs) dialogs")
        print("audio    \(String(format: "%.1f", summary.seconds)) s in \(corpus.utterances.count + corpus.skipped.count) files")
        print("time     \(String(format: "%.2f", elapsed)) s")
    }
}

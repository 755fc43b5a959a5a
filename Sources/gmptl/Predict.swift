import ArgumentParser
import Audio
import Foundation
import GraphIR
import Kernels
import Runtime
import SER

/// `gmptl predict`: the emotion, class probabilities and gender of audio files, or of segments of long recordings,
/// from a trained run; for a person, or as JSON Lines or CSV.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predict the emotion (with class probabilities) and gender of audio files with a trained model.",
        discussion: """
            CHECKPOINT is a run folder of gmptl train (its first fold's last finished stage), a fold or stage folder \
            in one (runs/demo/Session1/multitask), or a parameters file there (best.safetensors). Audio at any rate \
            is resampled to 16 kHz.

            A whole file gets one prediction (files up to \(Int(Predict.wholeFileLimit)) s: attention over a longer \
            one would take gigabytes). Long recordings are cut: --segment S [--hop H] predicts windows of S seconds \
            every H seconds; --vad predicts the stretches of speech an energy-based voice activity detector finds \
            (loudness in windows of 25 ms every 10 ms against a threshold 12 dB over the recording's noise floor, \
            pauses shorter than --min-silence bridged, speech shorter than --min-speech dropped, stretches longer \
            than --max-segment cut). Segments are read from the file one batch at a time: memory stays bounded for \
            recordings of hours.

            --json writes one JSON object per file or segment and line (JSON Lines: file, start, end, emotion, \
            probabilities by class, gender); --csv a header and one row per file or segment.
            """)

    /// The longest recording predicted whole.
    static let wholeFileLimit = 60.0

    @Argument(help: "The trained model: a run, fold or stage folder, or a parameters file in one.")
    var checkpoint: String

    @Argument(help: "Audio files.")
    var audio: [String]

    @Option(help: "Predict windows of this many seconds.")
    var segment: Double?

    @Option(help: "Seconds between the starts of windows (default: --segment, no overlap).")
    var hop: Double?

    @Flag(help: "Predict the stretches of speech an energy-based voice activity detector finds.")
    var vad = false

    @Option(name: .customLong("vad-threshold"), help: "Loudness of speech for --vad, in dBFS (default: 12 dB over the noise floor, at least -55).")
    var vadThreshold: Double?

    @Option(name: .customLong("min-speech"), help: "--vad drops speech shorter than this (seconds).")
    var minimumSpeech: Double = 0.25

    @Option(name: .customLong("min-silence"), help: "--vad bridges pauses shorter than this (seconds).")
    var minimumSilence: Double = 0.3

    @Option(name: .customLong("max-segment"), help: "--vad cuts longer stretches of speech (seconds).")
    var maximumSegment: Double = 10

    @Flag(help: "One JSON object per file or segment and line (JSON Lines).")
    var json = false

    @Flag(help: "CSV: a header, then one row per file or segment.")
    var csv = false

    @Option(help: "Segments predicted together.")
    var batch: Int = 8

    @Option(help: "Kernel threads (default: all cores).")
    var threads: Int?

    func validate() throws {
        guard !audio.isEmpty else { throw ValidationError("give at least one audio file") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1, got \(batch)") }
        if let segment, !(segment > 0 && segment.isFinite) { throw ValidationError("--segment must be a positive number of seconds, got \(segment)") }
        if let hop {
            guard segment != nil else { throw ValidationError("--hop goes with --segment") }
            guard hop > 0, hop.isFinite else { throw ValidationError("--hop must be a positive number of seconds, got \(hop)") }
        }
        guard !(vad && segment != nil) else { throw ValidationError("choose --segment or --vad, not both") }
        guard !(json && csv) else { throw ValidationError("choose --json or --csv, not both") }
        for (name, value) in [("--min-speech", minimumSpeech), ("--min-silence", minimumSilence)] where !(value >= 0 && value.isFinite) {
            throw ValidationError("\(name) must be 0 or more seconds, got \(value)")
        }
        guard maximumSegment > 0, maximumSegment.isFinite else { throw ValidationError("--max-segment must be a positive number of seconds") }
    }

    func run() throws {
        if let threads { KernelThreads.set(threads) }
        do {
            let model = try TrainedModel.load(checkpoint)
            printError("model: \(model.runFolder) fold \(model.fold), stage \(model.stage.name)")
            if csv { print(PredictionRow.csvHeader(classes: model.classes)) }
            for path in audio {
                try predict(path, model: model) { row in
                    print(json ? row.json(classes: model.classes) : csv ? row.csv(classes: model.classes) : row.text(classes: model.classes))
                }
            }
        } catch let error as any DiagnosticError {
            printError(Diagnostic.render(error))
            throw ExitCode(1)
        }
    }

    /// The rows of one file, handed to `emit` as they are made: the whole file, or its segments predicted a batch
    /// at a time.
    func predict(_ path: String, model: TrainedModel, emit: (PredictionRow) -> Void) throws {
        let stream = try AudioStream(path)
        let segments: [Segment]?
        if let segment {
            segments = Segmentation.windows(duration: stream.seconds, length: segment, hop: hop ?? segment)
        } else if vad {
            let settings = Segmentation.VoiceActivity(threshold: vadThreshold, minimumSpeech: minimumSpeech, minimumSilence: minimumSilence,
                                                      maximumSegment: maximumSegment)
            let loudness = try stream.loudness(window: settings.window, hop: settings.hop)
            segments = Segmentation.speech(loudness: loudness, duration: stream.seconds, settings: settings)
            printError("\(path): \(segments?.count ?? 0) stretches of speech in \(String(format: "%.1f", stream.seconds)) s "
                       + "(threshold \(String(format: "%.1f", Segmentation.threshold(loudness, settings: settings))) dBFS)")
        } else {
            guard stream.seconds <= Self.wholeFileLimit else {
                throw AudioError("is \(String(format: "%.1f", stream.seconds)) s long: predicting it whole would hold attention over every frame at once",
                                 file: path, hint: "cut it: --segment 10, or --vad for the stretches of speech")
            }
            segments = nil
        }
        let minimum = model.spec.graph.shortestInput("S").map { Double($0) / Double(AudioFile.modelRate) } ?? 0
        let pieces = segments.map { $0.filter { $0.duration >= minimum } } ?? [Segment(start: 0, end: stream.seconds)]
        var done = 0
        var reported = ContinuousClock.now
        for start in stride(from: 0, to: pieces.count, by: batch) {
            let part = Array(pieces[start..<min(start + batch, pieces.count)])
            var waves = [[Float]]()
            for piece in part {
                let samples = try stream.segment(from: piece.start, to: piece.end, rate: AudioFile.modelRate)
                try Embed.checkLength(samples.count, file: path, graph: model.spec.graph)
                waves.append(samples)
            }
            let ids = part.map { "\(path) \(String(format: "%.3f-%.3f s", $0.start, $0.end))" }
            let predictions = try model.evaluator.predict(Batching.pad(waves, ids: ids, labels: part.map { _ in -1 }), parameters: model.parameters)
            for (piece, prediction) in zip(part, predictions) {
                let name = model.classes.indices.contains(prediction.emotion) ? model.classes[prediction.emotion] : "class \(prediction.emotion)"
                emit(PredictionRow(file: path, segment: segments == nil ? nil : piece, emotion: name, probabilities: prediction.probabilities,
                                   gender: prediction.gender.map { $0 == 0 ? "female" : "male" }))
                done += 1
            }
            if ContinuousClock.now - reported > .seconds(10) {
                printError("\(path): \(done) of \(pieces.count) segments")
                reported = ContinuousClock.now
            }
        }
    }
}

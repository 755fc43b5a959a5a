import ArgumentParser
import GraphIR
import GraphSpec
import SER

/// `gmptl data`: commands over corpora.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Inspect speech emotion corpora.",
        subcommands: [DataStats.self])
}

extension CorpusFormat: ExpressibleByArgument {}

/// `gmptl data stats`: what a corpus holds, as the readers see it.
struct DataStats: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Count a corpus: utterances, hours, emotions, genders, sessions, speakers, skipped files.",
        discussion: """
            The format is detected when not given: a folder with Session1 is IEMOCAP (four classes: neutral, happy \
            with excited, angry, sad), a .csv or .tsv file a manifest (path, emotion, gender, speaker, optional \
            session or fold), a folder of RAVDESS or CREMA-D file names that corpus (CREMA-D needs \
            VideoDemographics.csv next to the audio). Durations come from the audio headers.
            """)

    @Argument(help: "The corpus folder, or a manifest file.")
    var path: String

    @Option(help: "The corpus format (\(CorpusFormat.allCases.map(\.rawValue).joined(separator: ", "))); detected when not given.")
    var format: CorpusFormat?

    @Flag(help: "Print a JSON object (sorted keys) instead of a report.")
    var json = false

    @Option(help: "Take the classes and the label map from this spec's config.data (default: the format's own).")
    var spec: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a config value of the spec.", valueName: "key=value"))
    var overrides: [String] = []

    func run() throws {
        var labels: LabelMap?
        if let spec {
            guard let data = try compileOrExit(spec, overrides: overrides).data else {
                printError("error: \(spec) has no config.data.classes; the format's default classes would be used")
                throw ExitCode(1)
            }
            labels = LabelMap(data.labels, classes: data.classes)
        }
        do {
            let format = try self.format ?? CorpusFormat.detect(path)
            let stats = CorpusStats(try format.read(path, labels: labels))
            print(json ? stats.json : stats.text)
        } catch {
            printError(Diagnostic.render(error))
            throw ExitCode(1)
        }
    }
}

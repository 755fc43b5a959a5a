import ArgumentParser
import Audio
import GraphIR

/// `gmptl audio ...`: commands about audio files.
struct AudioCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audio",
        abstract: "Inspect audio files.",
        subcommands: [AudioInfo.self]
    )
}

/// `gmptl audio info FILE...`: format, rate, channels and length of audio files, from their headers.
struct AudioInfo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Print the format, sample rate, channels and length of audio files.",
        discussion: """
            Reads each file's header (not its samples) through libsndfile and prints one table row per file. Files \
            that cannot be read are listed on stderr, one line each. Exit status 0 when every file could be read, \
            1 otherwise.
            """)

    @Argument(help: "Audio files (WAV, FLAC, OGG, AIFF, ...).")
    var files: [String]

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one audio file") }
    }

    func run() throws {
        var rows = [[String]]()
        var failures = [AudioError]()
        for file in files {
            do {
                let header = try AudioFile.header(file)
                rows.append([file, header.format, header.encoding, grouped(header.sampleRate), String(header.channels),
                             grouped(header.frames), formatFixed(header.seconds, digits: 3)])
            } catch {
                failures.append(error)
            }
        }
        if !rows.isEmpty { print(Self.table(rows)) }
        guard !failures.isEmpty else { return }
        // One line per file; the hints, which repeat from file to file, once each at the end.
        var hints = [String]()
        for failure in failures {
            var bare = failure
            for index in bare.diagnostics.indices {
                if let hint = bare.diagnostics[index].hint, !hints.contains(hint) { hints.append(hint) }
                bare.diagnostics[index].hint = nil
            }
            printError(Diagnostic.render(bare))
        }
        for hint in hints { printError("  hint: \(hint)") }
        printError("\(failures.count) of \(files.count) file\(files.count == 1 ? "" : "s") could not be read")
        throw ExitCode(1)
    }

    /// The rows under a header line; text columns left-aligned, number columns right-aligned.
    static func table(_ rows: [[String]]) -> String {
        let header = ["file", "format", "encoding", "rate", "channels", "frames", "seconds"]
        let numeric = [false, false, false, true, true, true, true]
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            header.indices.map { column in
                numeric[column] ? row[column].leftPadding(widths[column]) : row[column].padding(widths[column])
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }.joined(separator: "\n")
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}

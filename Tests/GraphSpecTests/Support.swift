import Foundation
import Testing

/// The repository root, found from this file's path (Tests/GraphSpecTests/Support.swift).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A spec of graphs/ by file name.
func graphPath(_ name: String) -> String { repositoryRoot.appendingPathComponent("graphs").appendingPathComponent(name).path }

/// Compares `text` with the committed snapshot `Snapshots/<name>`; `RECORD_SNAPSHOTS=1` re-records it (review the
/// diff with `git diff` before committing).
func expectSnapshot(_ text: String, named name: String, filePath: String = #filePath, sourceLocation: SourceLocation = #_sourceLocation) {
    let directory = URL(fileURLWithPath: filePath).deletingLastPathComponent().appendingPathComponent("Snapshots")
    let file = directory.appendingPathComponent(name)
    if ProcessInfo.processInfo.environment["RECORD_SNAPSHOTS"] == "1" {
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try? text.write(to: file, atomically: true, encoding: .utf8)
        return
    }
    guard let expected = try? String(contentsOf: file, encoding: .utf8) else {
        Issue.record("no snapshot \(name); run with RECORD_SNAPSHOTS=1 to record it", sourceLocation: sourceLocation)
        return
    }
    #expect(expected == text, "snapshot \(name) differs; RECORD_SNAPSHOTS=1 re-records it", sourceLocation: sourceLocation)
}

import Foundation
import Testing

/// The fuzzing harness: every past finding under Tests/Regressions is refused with a located message, never a
/// signal, within 5 s and 1 GiB (`gmptl fuzz replay`); the mutation driver runs and reports.
@Suite("Fuzzing harness", .serialized)
struct FuzzRegressionTests {
    @Test("every regression input exits with status 1 and a message naming its file, within 5 s and 1 GiB")
    func replay() throws {
        let regressions = CommandLineTests.root.appendingPathComponent("Tests/Regressions").path
        let inputs = FileManager.default.enumerator(atPath: regressions)?.compactMap { $0 as? String }.filter { $0.contains(".") } ?? []
        #expect(inputs.count >= 17)
        let run = try CommandLineTests.run(["fuzz", "replay", "Tests/Regressions", "--timeout", "5", "--memory-mb", "1024"])
        #expect(run.status == 0, "\(run.output)\n\(run.error)")
        #expect(run.output.contains("\(inputs.count) of \(inputs.count) inputs refused with a located message"), "\(run.output)")
    }

    @Test("replay fails an input that is accepted, and one whose message does not name it")
    func replayFailures() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-replay-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder + "/hf-config", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try #"{"hidden_size": 96}"#.write(toFile: folder + "/hf-config/valid.json", atomically: true, encoding: .utf8)
        let run = try CommandLineTests.run(["fuzz", "replay", folder])
        #expect(run.status == 1)
        let row = run.output.split(separator: "\n").first { $0.contains("valid.json") } ?? ""
        #expect(row.hasPrefix("FAIL") && row.contains("exit 0"), "\(run.output)")
        #expect(run.output.contains("0 of 1 inputs refused"))
    }

    @Test("a short campaign runs mutants of every target in children and reports no finding")
    func campaign() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-out-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let run = try CommandLineTests.run(["fuzz", "campaign", "hf-config", "spec", "--seconds", "2", "--seed", "7", "--out", out])
        #expect(run.status == 0, "\(run.output)\n\(run.error)")
        let rows = run.output.split(separator: "\n").filter { $0.hasPrefix("hf-config") || $0.hasPrefix("spec") }
        #expect(rows.count == 2, "\(run.output)")
        for row in rows {
            let fields = row.split(separator: " ", omittingEmptySubsequences: true)
            #expect((Int(fields[1]) ?? 0) > 0, "no mutant ran: \(row)")
            #expect(fields[5] == "0", "\(row)")
        }
    }
}

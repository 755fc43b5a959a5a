import Foundation
import Kernels
import Testing

/// The start-up selection of OpenBLAS's kernels, through the gmptl binary. A preloaded library
/// (Tests/OpenBLASFallbackShim) makes OpenBLAS report Prescott while OPENBLAS_CORETYPE is unset, which is what
/// Debian's 0.3.21 does on processors newer than itself, so the restart is exercised on any machine.
@Suite("OpenBLAS core at start-up")
struct BLASCoreSelectionTests {
    /// The shim library next to gmptl.
    static var shim: URL? {
        guard let binary = CommandLineTests.binary else { return nil }
        let library = binary.deletingLastPathComponent().appendingPathComponent("libOpenBLASFallbackShim.so")
        return FileManager.default.fileExists(atPath: library.path) ? library : nil
    }

    /// The test's environment without any core setting, plus `extra`.
    static func environment(_ extra: [String: String]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_CORETYPE"] = nil
        environment["GMPTL_OPENBLAS_CORE_CHOICE"] = nil
        return environment.merging(extra) { $1 }
    }

    static func coreLine(_ output: String) -> String {
        output.split(separator: "\n").first { $0.hasPrefix("core ") }.map(String.init) ?? ""
    }

    @Test("without any variable set, a fallback to Prescott is replaced by the CPU's best core (the program restarts)")
    func restartWithBestCore() throws {
        let shim = try #require(Self.shim, "libOpenBLASFallbackShim.so is not built next to gmptl")
        let cpu = CPUIdentity.current
        let run = try CommandLineTests.run(["info"], environment: Self.environment(["LD_PRELOAD": shim.path]))
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.hasPrefix("CPU         \(cpu) ("), "\(run.output)")
        let line = Self.coreLine(run.output)
        guard BLASCore.tier(of: cpu) > .sse else {
            #expect(line.contains("Prescott"), "\(line)")
            return
        }
        #expect(line.hasPrefix("core        \(BLASCore.bestCore(for: cpu)) "), "\(line)")
        #expect(line.contains("chosen at start-up: OpenBLAS picked Prescott (SSE3)"), "\(line)")
        #expect(!run.error.contains("warning"), "\(run.error)")
    }

    @Test("the user's OPENBLAS_CORETYPE is respected, even where gmptl would choose another core")
    func userCoreRespected() throws {
        let shim = try #require(Self.shim, "libOpenBLASFallbackShim.so is not built next to gmptl")
        let run = try CommandLineTests.run(["info"], environment: Self.environment(["LD_PRELOAD": shim.path, "OPENBLAS_CORETYPE": "Prescott"]))
        #expect(run.status == 0, "\(run.error)")
        #expect(Self.coreLine(run.output).hasPrefix("core        Prescott (SSE3): set by the user's OPENBLAS_CORETYPE=Prescott"))
    }

    @Test("an OPENBLAS_CORETYPE whose kernels the CPU cannot run is an error with a hint, not an illegal instruction")
    func unrunnableCoreRefused() throws {
        let cpu = CPUIdentity.current
        guard let core = ["SkylakeX", "Sandybridge"].first(where: { !BLASCore.canRun($0, on: cpu) }) else {
            print("skipped: this CPU runs every OpenBLAS core that can be forced (SkylakeX and below)")
            return
        }
        let run = try CommandLineTests.run(["info"], environment: Self.environment(["OPENBLAS_CORETYPE": core]))
        #expect(run.status == 2)
        #expect(run.reason == .exit)
        #expect(run.error.contains("error: OPENBLAS_CORETYPE=\(core) makes OpenBLAS use its \(core) kernels"), "\(run.error)")
        #expect(run.error.contains("hint: unset OPENBLAS_CORETYPE"), "\(run.error)")
    }

    @Test("info --can-run answers with its exit status; an unknown core name is a usage error")
    func canRun() throws {
        let prescott = try CommandLineTests.run(["info", "--can-run", "Prescott"])
        #expect(prescott.status == 0)
        let runsSkylakeX = BLASCore.canRun("SkylakeX", on: .current)
        #expect(try CommandLineTests.run(["info", "--can-run", "SkylakeX"]).status == (runsSkylakeX ? 0 : 1))
        let unknown = try CommandLineTests.run(["info", "--can-run", "Pentium"])
        #expect(unknown.status == 64)
        #expect(unknown.error.contains("'Pentium' is not an OpenBLAS x86-64 core name"))
    }
}

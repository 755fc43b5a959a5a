import Foundation

/// One run of a child process under a time and a memory limit, watched from outside: the resident set size is
/// read from /proc every few milliseconds and the child killed past either limit.
struct ChildRun {
    enum Outcome: Equatable, CustomStringConvertible {
        case exited(Int32)
        case signal(Int32)
        case timedOut
        case tooMuchMemory

        var description: String {
            switch self {
            case let .exited(status): "exit \(status)"
            case let .signal(number): "signal \(number) (\(String(cString: strsignal(number))))"
            case .timedOut: "hang"
            case .tooMuchMemory: "memory"
            }
        }

        /// A trap, a crash, a hang or growth: what the harness exists to find.
        var isFailure: Bool {
            switch self {
            case let .exited(status): status != 0 && status != 1
            default: true
            }
        }
    }

    var outcome: Outcome
    var standardError: String
    var seconds: Double
    var peakBytes: Int

    static func run(_ executable: String, _ arguments: [String], seconds limit: Double, bytes memoryLimit: Int) throws -> ChildRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("gmptl-fuzz-stderr-\(getpid())").path
        _ = FileManager.default.createFile(atPath: errors, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errors) }
        let errorHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: errors))
        process.standardError = errorHandle
        let start = Date()
        try process.run()
        var peak = 0, killedFor: Outcome?
        while process.isRunning {
            peak = max(peak, residentBytes(process.processIdentifier))
            if peak > memoryLimit { killedFor = .tooMuchMemory }
            if Date().timeIntervalSince(start) > limit { killedFor = .timedOut }
            if killedFor != nil {
                kill(process.processIdentifier, SIGKILL)
                break
            }
            usleep(2_000)
        }
        process.waitUntilExit()
        try? errorHandle.close()
        let seconds = Date().timeIntervalSince(start)
        let text = String(decoding: FileManager.default.contents(atPath: errors) ?? Data(), as: UTF8.self)
        let outcome: Outcome = killedFor
            ?? (process.terminationReason == .uncaughtSignal ? .signal(process.terminationStatus) : .exited(process.terminationStatus))
        return ChildRun(outcome: outcome, standardError: text, seconds: seconds, peakBytes: peak)
    }

    /// The resident set of a process (VmRSS), 0 once it has gone.
    static func residentBytes(_ pid: Int32) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

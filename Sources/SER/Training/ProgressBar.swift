import Foundation

/// One line of training progress on standard error: stage, epoch, a bar, loss, learning rate, throughput and ETA.
/// On a terminal the line is redrawn in place; otherwise (a log file, CI) a line is printed every `logEvery` steps.
public final class ProgressBar {
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private let clock = ContinuousClock()
    private var start: ContinuousClock.Instant
    private var startStep = 0
    /// Utterances trained on since the last restart (for the throughput).
    private var utterances = 0
    private var lastPrinted = -1
    private let logEvery: Int
    public var isEnabled: Bool

    public init(enabled: Bool = true, logEvery: Int = 10) {
        isEnabled = enabled
        self.logEvery = logEvery
        start = clock.now
    }

    /// Restarts the throughput clock (at the start or resumption of a stage).
    public func restart(at step: Int) {
        start = clock.now
        startStep = step
        utterances = 0
    }

    /// Records a finished optimizer step over `stepUtterances` utterances and redraws (or prints) the line.
    public func update(stage: String, epoch: Int, epochs: Int, step: Int, totalSteps: Int, loss: Double,
                       learningRate: Double, stepUtterances: Int) {
        utterances += stepUtterances
        guard isEnabled, isTerminal || step - lastPrinted >= logEvery || step == totalSteps else { return }
        lastPrinted = step
        let elapsed = Self.seconds(clock.now - start)
        let done = step - startStep
        let perStep = done > 0 ? elapsed / Double(done) : 0
        let eta = perStep * Double(max(0, totalSteps - step))
        let width = 20
        let filled = totalSteps > 0 ? min(width, width * step / totalSteps) : 0
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
        let rate = elapsed > 0 ? Double(utterances) / elapsed : 0
        let line = "\(stage) epoch \(epoch + 1)/\(epochs) [\(bar)] step \(step)/\(totalSteps)  loss \(String(format: "%.4f", loss))"
            + "  lr \(String(format: "%.2e", learningRate))  \(String(format: "%.1f", rate)) utt/s  ETA \(Self.duration(eta))"
        FileHandle.standardError.write(Data(((isTerminal ? "\r\u{1B}[K" : "") + line + (isTerminal ? "" : "\n")).utf8))
    }

    /// Ends the in-place line before other output.
    public func finishLine() {
        if isEnabled && isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    public func message(_ text: String) {
        guard isEnabled else { return }
        finishLine()
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }

    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        if total >= 3_600 { return "\(total / 3_600)h\(String(format: "%02d", total % 3_600 / 60))m" }
        if total >= 60 { return "\(total / 60)m\(String(format: "%02d", total % 60))s" }
        return "\(total)s"
    }
}

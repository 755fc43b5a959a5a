/// Wall-clock timing for benchmarks: a warm-up run, then repetitions until both a minimum count and a minimum
/// time are reached; the median is reported (robust to the odd slow run on a shared machine).
struct Timing {
    var minimumRuns = 5
    var minimumSeconds = 0.5

    /// Median seconds of one call of `body`.
    func median(_ body: () -> Void) -> Double {
        body()
        var samples = [Double]()
        let clock = ContinuousClock()
        let start = clock.now
        while samples.count < minimumRuns || seconds(clock.now - start) < minimumSeconds {
            let begin = clock.now
            body()
            samples.append(seconds(clock.now - begin))
            if samples.count >= 1_000 { break }
        }
        samples.sort()
        return samples[samples.count / 2]
    }

    private func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
    }
}

/// A plain-text table with right-aligned numeric columns.
struct TextTable {
    var header: [String]
    var rows: [[String]] = []

    mutating func add(_ row: [String]) { rows.append(row) }

    func render() -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                let padding = String(repeating: " ", count: widths[index] - cell.count)
                return index == 0 ? cell + padding : padding + cell
            }.joined(separator: "  ")
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        return ([line(header), rule] + rows.map(line)).joined(separator: "\n")
    }
}

import Foundation

/// A line chart of loss curves as a self-contained SVG: one polyline per loss name over steps, axes with ticks and
/// labels, and a legend.
///
/// Non-finite values are left out of the curves (the CSV keeps them). A series with one point gets a dot, as a
/// one-point polyline draws nothing; no records give the axes and the words "no loss records".
public enum LossChart {
    static let width = 760.0, height = 420.0
    static let left = 70.0, right = 180.0, top = 36.0, bottom = 56.0
    static let gridColor = "#dddddd", noteColor = "#777777"
    static let colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    /// The series of `records`: one per loss name, in the order names first appear, points sorted by step.
    static func series(_ records: [LossRecord]) -> [(name: String, points: [(step: Double, value: Double)])] {
        var order = [String]()
        var points = [String: [(offset: Int, step: Int, value: Double)]]()
        for (offset, record) in records.enumerated() {
            if points[record.name] == nil { order.append(record.name) }
            points[record.name, default: []].append((offset, record.step, record.value))
        }
        return order.map { name in
            let sorted = (points[name] ?? []).sorted { $0.step != $1.step ? $0.step < $1.step : $0.offset < $1.offset }
            return (name, sorted.filter { $0.value.isFinite }.map { (Double($0.step), $0.value) })
        }
    }

    /// The chart's SVG text.
    public static func svg(_ records: [LossRecord], title: String = "Training losses") -> String {
        let series = series(records)
        let all = series.flatMap(\.points)
        let (xLow, xHigh) = range(all.map(\.step), pad: false)
        let (yLow, yHigh) = range(all.map(\.value), pad: true)
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        func x(_ step: Double) -> Double { left + scale(step, xLow, xHigh) * plotWidth }
        func y(_ value: Double) -> Double { top + plotHeight - scale(value, yLow, yHigh) * plotHeight }

        var lines = [
            #"<?xml version="1.0" encoding="UTF-8"?>"#,
            #"<svg xmlns="http://www.w3.org/2000/svg" width="\#(number(width))" height="\#(number(height))" viewBox="0 0 \#(number(width)) \#(number(height))" font-family="sans-serif" font-size="12">"#,
            #"<rect x="0" y="0" width="\#(number(width))" height="\#(number(height))" fill="white"/>"#,
            #"<text x="\#(number(left + plotWidth / 2))" y="20" text-anchor="middle" font-size="14">\#(escaped(title))</text>"#,
        ]
        // Axes, ticks and labels.
        lines.append(#"<g class="axes" stroke="black" fill="none">"#)
        lines.append(#"<line x1="\#(number(left))" y1="\#(number(top + plotHeight))" x2="\#(number(left + plotWidth))" y2="\#(number(top + plotHeight))"/>"#)
        lines.append(#"<line x1="\#(number(left))" y1="\#(number(top))" x2="\#(number(left))" y2="\#(number(top + plotHeight))"/>"#)
        lines.append("</g>")
        lines.append(#"<g class="ticks" font-size="11">"#)
        for tick in ticks(xLow, xHigh) {
            let px = number(x(tick)), base = top + plotHeight
            lines.append(#"<line x1="\#(px)" y1="\#(number(base))" x2="\#(px)" y2="\#(number(base + 5))" stroke="black"/>"#)
            lines.append(#"<text x="\#(px)" y="\#(number(base + 18))" text-anchor="middle">\#(label(tick))</text>"#)
        }
        for tick in ticks(yLow, yHigh) {
            let py = number(y(tick))
            lines.append(#"<line x1="\#(number(left - 5))" y1="\#(py)" x2="\#(number(left))" y2="\#(py)" stroke="black"/>"#)
            lines.append(#"<line x1="\#(number(left))" y1="\#(py)" x2="\#(number(left + plotWidth))" y2="\#(py)" stroke="\#(gridColor)"/>"#)
            lines.append(#"<text x="\#(number(left - 8))" y="\#(number(y(tick) + 4))" text-anchor="end">\#(label(tick))</text>"#)
        }
        lines.append("</g>")
        lines.append(#"<text x="\#(number(left + plotWidth / 2))" y="\#(number(height - 14))" text-anchor="middle">step</text>"#)
        lines.append(#"<text x="16" y="\#(number(top + plotHeight / 2))" text-anchor="middle" transform="rotate(-90 16 \#(number(top + plotHeight / 2)))">loss</text>"#)
        if series.isEmpty {
            lines.append(#"<text x="\#(number(left + plotWidth / 2))" y="\#(number(top + plotHeight / 2))" text-anchor="middle" fill="\#(noteColor)">no loss records</text>"#)
        }
        // Curves.
        for (index, item) in series.enumerated() {
            let color = colors[index % colors.count]
            let points = item.points.map { "\(number(x($0.step))),\(number(y($0.value)))" }.joined(separator: " ")
            lines.append(#"<polyline class="series" data-name="\#(escaped(item.name))" fill="none" stroke="\#(color)" stroke-width="1.5" points="\#(points)"/>"#)
            if item.points.count == 1, let point = item.points.first {
                lines.append(#"<circle cx="\#(number(x(point.step)))" cy="\#(number(y(point.value)))" r="3" fill="\#(color)"/>"#)
            }
        }
        // Legend.
        lines.append(#"<g class="legend">"#)
        for (index, item) in series.enumerated() {
            let color = colors[index % colors.count]
            let rowY = top + 8 + Double(index) * 18
            let legendX = left + plotWidth + 16
            lines.append(#"<rect x="\#(number(legendX))" y="\#(number(rowY - 9))" width="14" height="10" fill="\#(color)"/>"#)
            lines.append(#"<text x="\#(number(legendX + 20))" y="\#(number(rowY))">\#(escaped(item.name))</text>"#)
        }
        lines.append("</g>")
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The low and high ends of an axis over `values`; a width-2 range around a single value, [0, 1] for none.
    static func range(_ values: [Double], pad: Bool) -> (Double, Double) {
        guard let low = values.min(), let high = values.max() else { return (0, 1) }
        guard high > low else { return (low - 1, high + 1) }
        guard pad, (high - low).isFinite else { return (low, high) }
        let margin = (high - low) * 0.05
        return (low - margin, high + margin)
    }

    /// Where `value` lies in [low, high], as a fraction (0 where that is undefined).
    static func scale(_ value: Double, _ low: Double, _ high: Double) -> Double {
        let fraction = (value - low) / (high - low)
        return fraction.isFinite ? fraction : 0
    }

    /// About five round tick values (1, 2 or 5 times a power of ten apart) within [low, high].
    static func ticks(_ low: Double, _ high: Double) -> [Double] {
        let span = high - low
        guard low.isFinite, high.isFinite, span.isFinite, span > 0 else { return low.isFinite ? [low] : [] }
        let raw = span / 5
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        // The round step nearest a fifth of the span (by ratio): 4 to 8 ticks.
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.min { abs(log($0 / raw)) < abs(log($1 / raw)) } ?? magnitude
        guard step.isFinite, step > 0 else { return [low] }
        let first = (low / step).rounded(.up) * step
        var result = [Double]()
        var index = 0.0
        while result.count < 20 {
            let value = first + index * step
            guard value <= high + step * 1e-9 else { break }
            result.append(abs(value) < step * 1e-9 ? 0 : value)
            index += 1
        }
        return result
    }

    /// A coordinate with two decimals.
    static func number(_ value: Double) -> String {
        value.isFinite ? String(format: "%.2f", value) : "0"
    }

    /// A tick label (`%g`: `0.5`, `1000`, `1e+06`).
    static func label(_ value: Double) -> String { String(format: "%g", value) }

    /// Text escaped for XML content and attribute values.
    static func escaped(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            default:
                // Control characters other than tab and newline are not allowed in XML 1.0.
                if let scalar = character.unicodeScalars.first, character.unicodeScalars.count == 1,
                   scalar.value < 0x20, scalar != "\t", scalar != "\n" {
                    result += "\u{FFFD}"
                } else {
                    result.append(character)
                }
            }
        }
        return result
    }
}

import Foundation

/// One prediction of `gmptl predict`: a file, or a segment of one, with the emotion, every class's probability and
/// the gender; written for a person, as a JSON object (one per line, JSON Lines) or as a CSV row.
public struct PredictionRow: Sendable {
    public var file: String
    public var segment: Segment?
    public var emotion: String
    public var probabilities: [Float]
    /// "female" or "male" when the model has a gender head.
    public var gender: String?

    public init(file: String, segment: Segment?, emotion: String, probabilities: [Float], gender: String?) {
        self.file = file
        self.segment = segment
        self.emotion = emotion
        self.probabilities = probabilities
        self.gender = gender
    }

    /// `a.wav [12.30-14.10 s]: happy  [neutral 0.120, happy 0.700, ...]  gender female`.
    public func text(classes: [String]) -> String {
        let place = segment.map { " [\(Self.seconds($0.start))-\(Self.seconds($0.end)) s]" } ?? ""
        let probabilities = zip(classes, self.probabilities).map { "\($0) \(String(format: "%.3f", $1))" }.joined(separator: ", ")
        return "\(file)\(place): \(emotion)  [\(probabilities)]" + (gender.map { "  gender \($0)" } ?? "")
    }

    /// `{"file": ..., "start": ..., "end": ..., "emotion": ..., "probabilities": {...}, "gender": ...}` on one line;
    /// start and end only for a segment, gender only when the model has it.
    public func json(classes: [String]) -> String {
        var fields = ["\"file\": \(JSONText.quoted(file))"]
        if let segment { fields += ["\"start\": \(Self.seconds(segment.start))", "\"end\": \(Self.seconds(segment.end))"] }
        fields.append("\"emotion\": \(JSONText.quoted(emotion))")
        let probabilities = zip(classes, self.probabilities).map { "\(JSONText.quoted($0)): \(Self.probability($1))" }
        fields.append("\"probabilities\": {\(probabilities.joined(separator: ", "))}")
        if let gender { fields.append("\"gender\": \(JSONText.quoted(gender))") }
        return "{" + fields.joined(separator: ", ") + "}"
    }

    /// `file,start,end,emotion,p_<class>...,gender`.
    public static func csvHeader(classes: [String]) -> String {
        (["file", "start", "end", "emotion"] + classes.map { "p_" + $0 } + ["gender"]).map(csvField).joined(separator: ",")
    }

    /// The row under `csvHeader`; start and end empty for a whole file, gender empty without a gender head.
    public func csv(classes: [String]) -> String {
        var fields = [file, segment.map { Self.seconds($0.start) } ?? "", segment.map { Self.seconds($0.end) } ?? "", emotion]
        fields += probabilities.prefix(classes.count).map(Self.probability)
        fields.append(gender ?? "")
        return fields.map(Self.csvField).joined(separator: ",")
    }

    /// RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled.
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A probability to 7 significant digits (Float32's precision: small ones keep their digits, `1.554546e-06`).
    static func probability(_ value: Float) -> String { String(format: "%.7g", value) }

    /// Seconds to the millisecond.
    static func seconds(_ value: Double) -> String { String(format: "%.3f", value) }
}

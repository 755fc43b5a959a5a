import FileSystem
import Foundation

/// The report folder of a training run: metrics over folds, confusion matrices, loss logs and a loss chart.
///
/// `write` makes the folder (and its parents) and writes each file atomically (a temporary file in the same folder,
/// then a rename), so a reader never sees a half-written file:
/// - `metrics.json`: keys sorted at every level; `classes`, `per_fold` (`fold`, `n`, `war`, `uar`, `per_class_recall`,
///   `absent_classes`), `mean` and `std` over folds (`war`, `uar`), `pooled` (the same figures of the summed
///   confusion matrix, plus `confusion`, per-class precision and F1 and macro F1), and `definitions` saying what each
///   figure is. An undefined figure (no test utterances, a class absent from the test set) is `null`, never NaN.
/// - `confusion.csv` (pooled) and `confusion_<fold>.csv` per fold: a header row of predicted classes, one row per true
///   class.
/// - `losses.csv`: `step,epoch,stage,loss,value,learning_rate`, one row per `LossRecord` in the order given.
/// - `losses.svg`: `LossChart.svg`.
public enum Report {
    /// What `metrics.json` says each figure is.
    public static let definitions: [String: String] = [
        "war": "WAR (weighted average recall) = accuracy = correct predictions / test utterances (the trace of the confusion matrix over its total)",
        "uar": "UAR (unweighted average recall) = the unweighted mean of the per-class recalls, over the classes with at least one test utterance; classes absent from a test set are listed in absent_classes and left out of that mean",
        "mean": "mean over folds of the per-fold WAR and UAR (folds with no test utterances left out)",
        "std": "sample standard deviation over folds (n - 1 in the denominator) of the per-fold WAR and UAR; null for fewer than two folds",
        "pooled": "WAR and UAR of the confusion matrix summed over all folds (every test utterance counted once), which differ from the mean over folds when folds differ in size or class balance",
        "confusion": "rows are true classes, columns predicted classes, both in the order of classes",
        "f1": "F1 = 2 TP / (2 TP + FP + FN) per class; precision is null for a class never predicted; macro_f1 is the mean F1 over the classes that are true or predicted at least once",
    ]

    /// Writes the report files into `folder`, creating it; returns the paths written, in the order written.
    @discardableResult
    public static func write(_ summary: FoldSummary, losses: [LossRecord], to folder: String) throws(EvaluationError) -> [String] {
        do {
            try Folder.create(folder)
        } catch {
            throw EvaluationError(error.message, file: folder)
        }
        var files: [(name: String, text: String)] = [
            ("metrics.json", metricsJSON(summary)),
            ("confusion.csv", confusionCSV(summary.pooled)),
        ]
        for fold in summary.folds {
            let name = foldFileName(fold.name)
            if let other = files.first(where: { $0.name == name }) {
                throw EvaluationError("fold \(fold.name) would be written to \(name), as another file already is",
                                      file: other.name, hint: "give folds names that differ in letters, digits, '.', '-' or '_'")
            }
            files.append((name, confusionCSV(fold.confusion)))
        }
        files.append(("losses.csv", lossesCSV(losses)))
        files.append(("losses.svg", LossChart.svg(losses)))
        let base = folder.hasSuffix("/") ? folder : folder + "/"
        var written = [String]()
        for file in files {
            do {
                try AtomicFile.write(file.text, to: base + file.name)
            } catch {
                throw EvaluationError(error.message, file: error.path)
            }
            written.append(base + file.name)
        }
        return written
    }

    /// `confusion_<fold>.csv` (see `safeName`).
    public static func foldFileName(_ fold: String) -> String { "confusion_\(safeName(fold)).csv" }

    /// A fold's name for file names: characters other than ASCII letters, digits, `.`, `-` and `_` made `_`.
    public static func safeName(_ fold: String) -> String {
        String(fold.unicodeScalars.map { scalar -> Character in
            let ok = scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "._-".unicodeScalars.contains(scalar))
            return ok ? Character(scalar) : "_"
        })
    }

    /// The text of `metrics.json`.
    public static func metricsJSON(_ summary: FoldSummary) -> String {
        let classes = summary.classes
        let perFold: [JSONText] = summary.folds.map { fold in
            .object([
                "fold": .string(fold.name),
                "n": .number(String(fold.count)),
                "war": number(fold.war),
                "uar": number(fold.uar),
                "per_class_recall": perClass(classes, fold.confusion.recalls),
                "absent_classes": .array(fold.confusion.absentClasses.map(JSONText.string)),
            ])
        }
        let pooled = summary.pooled
        let object: JSONText = .object([
            "classes": .array(classes.map(JSONText.string)),
            "per_fold": .array(perFold),
            "mean": .object(["war": number(summary.war.mean), "uar": number(summary.uar.mean)]),
            "std": .object(["war": number(summary.war.standardDeviation), "uar": number(summary.uar.standardDeviation)]),
            "pooled": .object([
                "n": .number(String(pooled.total)),
                "war": number(pooled.war),
                "uar": number(pooled.uar),
                "per_class_recall": perClass(classes, pooled.recalls),
                "per_class_precision": perClass(classes, pooled.precisions),
                "per_class_f1": perClass(classes, pooled.f1Scores),
                "macro_f1": number(pooled.macroF1),
                "absent_classes": .array(pooled.absentClasses.map(JSONText.string)),
                // Each row on one line: already-formatted text, as `.number` allows.
                "confusion": .array(pooled.counts.map { .number("[" + $0.map(String.init).joined(separator: ", ") + "]") }),
            ]),
            "definitions": .object(definitions.mapValues(JSONText.string)),
        ])
        return object.rendered(indent: "") + "\n"
    }

    /// A confusion matrix as CSV: `true/predicted,<classes>` then one row per true class.
    public static func confusionCSV(_ matrix: ConfusionMatrix) -> String {
        var lines = [(["true/predicted"] + matrix.classes).map(csvField).joined(separator: ",")]
        for (index, row) in matrix.counts.enumerated() {
            lines.append(([csvField(matrix.classes[index])] + row.map(String.init)).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Loss records as CSV, in the order given; an absent learning rate is an empty field, a non-finite loss
    /// `nan`/`inf`/`-inf`.
    public static func lossesCSV(_ records: [LossRecord]) -> String {
        var lines = ["step,epoch,stage,loss,value,learning_rate"]
        for record in records {
            lines.append([String(record.step), String(record.epoch), csvField(record.stage), csvField(record.name),
                          "\(record.value)", record.learningRate.map { "\($0)" } ?? ""].joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A JSON number, or null for nil and non-finite values.
    static func number(_ value: Double?) -> JSONText {
        guard let value, value.isFinite else { return .number("null") }
        return .number("\(value)")
    }

    /// Per-class values as an object keyed by class name.
    static func perClass(_ classes: [String], _ values: [Double?]) -> JSONText {
        .object(Dictionary(zip(classes, values.map(number)), uniquingKeysWith: { first, _ in first }))
    }

    /// A CSV field, quoted (RFC 4180) when it holds a comma, quote or line break.
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import SER
import Testing

@Suite("Report")
struct ReportTests {
    /// Two folds over neutral and angry; angry is absent from S2's test set.
    static func smallSummary() throws -> FoldSummary {
        let classes = ["neutral", "angry"]
        return try FoldSummary(classes: classes, folds: [
            ("S1", ConfusionMatrix(classes: classes, counts: [[2, 0], [1, 1]])),
            ("S2", ConfusionMatrix(classes: classes, counts: [[1, 1], [0, 0]])),
        ])
    }

    static let losses = [
        LossRecord(step: 0, epoch: 0, stage: "finetune", name: "total", value: 2.5, learningRate: 0.001),
        LossRecord(step: 0, epoch: 0, stage: "finetune", name: "ce", value: 2.0, learningRate: 0.001),
        LossRecord(step: 10, epoch: 1, stage: "finetune", name: "total", value: 1.25, learningRate: 0.0005),
        LossRecord(step: 10, epoch: 1, stage: "finetune", name: "ce", value: 1.0, learningRate: nil),
        LossRecord(step: 20, epoch: 2, stage: "fine,tune", name: "<kl & \"co\">", value: 0.5),
    ]

    @Test("metrics.json: exact text for two folds, one missing a class")
    func metricsJSONText() throws {
        let definitions = Report.definitions.sorted { $0.key < $1.key }
            .map { "    \(JSONText.quoted($0.key)): \(JSONText.quoted($0.value))" }.joined(separator: ",\n")
        let expected = """
        {
          "classes": [
            "neutral",
            "angry"
          ],
          "definitions": {
        \(definitions)
          },
          "mean": {
            "uar": 0.625,
            "war": 0.625
          },
          "per_fold": [
            {
              "absent_classes": [],
              "fold": "S1",
              "n": 4,
              "per_class_recall": {
                "angry": 0.5,
                "neutral": 1.0
              },
              "uar": 0.75,
              "war": 0.75
            },
            {
              "absent_classes": [
                "angry"
              ],
              "fold": "S2",
              "n": 2,
              "per_class_recall": {
                "angry": null,
                "neutral": 0.5
              },
              "uar": 0.5,
              "war": 0.5
            }
          ],
          "pooled": {
            "absent_classes": [],
            "confusion": [
              [3, 1],
              [1, 1]
            ],
            "macro_f1": 0.625,
            "n": 6,
            "per_class_f1": {
              "angry": 0.5,
              "neutral": 0.75
            },
            "per_class_precision": {
              "angry": 0.5,
              "neutral": 0.75
            },
            "per_class_recall": {
              "angry": 0.5,
              "neutral": 0.75
            },
            "uar": 0.625,
            "war": 0.6666666666666666
          },
          "std": {
            "uar": 0.1767766952966369,
            "war": 0.1767766952966369
          }
        }

        """
        let text = Report.metricsJSON(try Self.smallSummary())
        #expect(text == expected)
        // Valid JSON, and the definitions say what WAR and UAR are.
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let stated = try #require(object["definitions"] as? [String: String])
        #expect(stated["war"]?.contains("accuracy") == true)
        #expect(stated["uar"]?.contains("unweighted mean of the per-class recalls") == true)
    }

    @Test("confusion.csv: header row of predicted classes, one labelled row per true class, names quoted when needed")
    func confusionCSV() throws {
        let matrix = try ConfusionMatrix(classes: ["neutral", "sad, low", "say \"hi\""], counts: [[1, 2, 3], [4, 5, 6], [7, 8, 9]])
        #expect(Report.confusionCSV(matrix) == #"""
        true/predicted,neutral,"sad, low","say ""hi"""
        neutral,1,2,3
        "sad, low",4,5,6
        "say ""hi""",7,8,9

        """#)
        #expect(Report.foldFileName("Session 1/a") == "confusion_Session_1_a.csv")
        #expect(Report.foldFileName("Ses01F") == "confusion_Ses01F.csv")
    }

    @Test("losses.csv: one row per record in order, empty learning rate when absent, fields quoted when needed")
    func lossesCSV() {
        #expect(Report.lossesCSV(Self.losses) == #"""
        step,epoch,stage,loss,value,learning_rate
        0,0,finetune,total,2.5,0.001
        0,0,finetune,ce,2.0,0.001
        10,1,finetune,total,1.25,0.0005
        10,1,finetune,ce,1.0,
        20,2,"fine,tune","<kl & ""co"">",0.5,

        """#)
        #expect(Report.lossesCSV([]) == "step,epoch,stage,loss,value,learning_rate\n")
    }

    @Test("losses.svg parses as XML, has one polyline per loss name and the names in the legend")
    func svgWellFormed() throws {
        let svg = LossChart.svg(Self.losses)
        let parsed = try SVGSummary(svg)
        #expect(parsed.root == "svg")
        #expect(parsed.polylines == ["total", "ce", "<kl & \"co\">"])
        #expect(parsed.texts.contains("total") && parsed.texts.contains("ce") && parsed.texts.contains("<kl & \"co\">"))
        #expect(parsed.texts.contains("step") && parsed.texts.contains("loss"))
        // The single-point series gets a dot; the two-point ones have two points.
        #expect(parsed.circles == 1)
        #expect(parsed.pointCounts == [2, 2, 1])
        // Empty input still parses: axes, a note, no curves.
        let empty = try SVGSummary(LossChart.svg([]))
        #expect(empty.polylines.isEmpty && empty.texts.contains("no loss records"))
        // A constant single series and non-finite values do not break the chart.
        let odd = try SVGSummary(LossChart.svg([LossRecord(step: 5, epoch: 0, stage: "s", name: "a", value: 1),
                                                LossRecord(step: 5, epoch: 0, stage: "s", name: "b", value: .nan)]))
        #expect(odd.polylines == ["a", "b"] && odd.pointCounts == [1, 0])
    }

    @Test("ticks are round numbers inside the range")
    func ticks() {
        #expect(LossChart.ticks(0, 100) == [0, 20, 40, 60, 80, 100])
        #expect(LossChart.ticks(0.13, 0.92) == [0.2, 0.4, 0.6000000000000001, 0.8])
        #expect(LossChart.ticks(0.2, 2.8) == [0.5, 1, 1.5, 2, 2.5])
        #expect(LossChart.ticks(3, 3) == [3])
    }

    @Test("write makes the folder and every file atomically, leaving no temporary files, and replaces old reports")
    func atomicWrite() throws {
        let folder = try TemporaryCorpus("report")
        let target = folder.path("runs/a")
        let summary = try Self.smallSummary()
        let written = try Report.write(summary, losses: Self.losses, to: target)
        try Report.write(summary, losses: Self.losses, to: target)
        let names = try FileManager.default.contentsOfDirectory(atPath: target).sorted()
        #expect(names == ["confusion.csv", "confusion_S1.csv", "confusion_S2.csv", "losses.csv", "losses.svg", "metrics.json"])
        #expect(written.count == 6)
        #expect(try String(contentsOfFile: target + "/metrics.json", encoding: .utf8) == Report.metricsJSON(summary))
        #expect(try String(contentsOfFile: target + "/confusion_S2.csv", encoding: .utf8) == "true/predicted,neutral,angry\nneutral,1,1\nangry,0,0\n")
        // A fold name that collides with another file after sanitising is an error, not an overwrite.
        let clash = try FoldSummary(classes: ["a"], folds: [("x y", ConfusionMatrix(classes: ["a"])), ("x_y", ConfusionMatrix(classes: ["a"]))])
        #expect(throws: EvaluationError.self) { try Report.write(clash, losses: [], to: folder.path("clash")) }
        // A folder that cannot be created (a file is in the way) throws.
        try folder.write("file", "x")
        #expect(throws: EvaluationError.self) { try Report.write(summary, losses: [], to: folder.path("file/sub")) }
    }

    @Test("empty input: no folds, empty folds and no losses write no NaN anywhere, and valid JSON")
    func noNaNForEmptyInput() throws {
        let folder = try TemporaryCorpus("report-empty")
        for (index, summary) in [try FoldSummary(classes: ["a", "b"], folds: []),
                                 try FoldSummary(classes: ["a", "b"], folds: [("S1", ConfusionMatrix(classes: ["a", "b"]))])].enumerated() {
            let target = folder.path("r\(index)")
            try Report.write(summary, losses: [], to: target)
            for name in try FileManager.default.contentsOfDirectory(atPath: target) {
                let text = try String(contentsOfFile: target + "/" + name, encoding: .utf8)
                #expect(!text.lowercased().contains("nan"), "\(name)")
                #expect(!text.contains("inf"), "\(name)")
            }
            let json = try String(contentsOfFile: target + "/metrics.json", encoding: .utf8)
            #expect(json.contains("\"war\": null"))
            #expect((try? JSONSerialization.jsonObject(with: Data(json.utf8))) != nil)
            _ = try SVGSummary(try String(contentsOfFile: target + "/losses.svg", encoding: .utf8))
        }
    }
}

/// What the SVG tests look at, read with Foundation's XMLParser (which fails on malformed XML).
struct SVGSummary {
    var root: String?
    /// The `data-name` of each polyline, in document order.
    var polylines: [String] = []
    /// The number of points of each polyline.
    var pointCounts: [Int] = []
    var circles = 0
    /// The text content of each `text` element.
    var texts: [String] = []

    struct Malformed: Error { var description: String }

    init(_ svg: String) throws {
        let parser = XMLParser(data: Data(svg.utf8))
        let delegate = Delegate()
        parser.delegate = delegate
        guard parser.parse() else { throw Malformed(description: parser.parserError.map { "\($0)" } ?? "parse failed") }
        root = delegate.elements.first
        polylines = delegate.polylines.map(\.name)
        pointCounts = delegate.polylines.map(\.points)
        circles = delegate.elements.filter { $0 == "circle" }.count
        texts = delegate.texts
    }

    final class Delegate: NSObject, XMLParserDelegate {
        var elements: [String] = []
        var polylines: [(name: String, points: Int)] = []
        var texts: [String] = []
        var currentText: String?

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            elements.append(elementName)
            if elementName == "polyline" {
                let points = (attributes["points"] ?? "").split(separator: " ").count
                polylines.append((attributes["data-name"] ?? "", points))
            }
            if elementName == "text" { currentText = "" }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            currentText?.append(string)
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
            if elementName == "text", let text = currentText {
                texts.append(text)
                currentText = nil
            }
        }
    }
}

/// Comma- or tab-separated text as RFC 4180 describes it: fields may be quoted with `"`, a quoted field may hold
/// the delimiter, line breaks and doubled quotes (`""` for `"`).
///
/// The same quoting applies to tab-separated files (pandas writes TSV that way). A quote inside an unquoted field
/// is kept as a character; text after a closing quote and a quote left open at the end are errors at file:line.
/// Records remember the line they start on; blank lines are skipped.
struct DelimitedText {
    /// One record: its fields and the 1-based line it starts on.
    struct Record: Hashable, Sendable {
        var line: Int
        var fields: [String]
    }

    /// The delimiter of a file: `,` for `.csv`, a tab for `.tsv` and `.tab`, otherwise a tab if the first line has
    /// one and a comma if not.
    static func delimiter(path: String, text: String) -> Character {
        let lower = path.lowercased()
        if lower.hasSuffix(".csv") { return "," }
        if lower.hasSuffix(".tsv") || lower.hasSuffix(".tab") { return "\t" }
        let firstLine = text.prefix { !$0.isNewline }
        return firstLine.contains("\t") ? "\t" : ","
    }

    /// Splits `text` into records.
    static func parse(_ text: String, delimiter: Character, file: String) throws(DataError) -> [Record] {
        var records = [Record]()
        var fields = [String]()
        var field = ""
        var line = 1, recordLine = 1, quoteLine = 1
        var inQuotes = false, afterQuote = false, wasQuoted = false

        func endRecord() {
            fields.append(field)
            // A line with nothing but spaces is an empty line, not a one-field row.
            let blank = fields.count == 1 && fields[0].allSatisfy { $0 == " " || $0 == "\t" } && !wasQuoted
            if !blank { records.append(Record(line: recordLine, fields: fields)) }
            fields = []
            field = ""
            wasQuoted = false
        }

        for character in text {
            if inQuotes {
                if character == "\"" {
                    inQuotes = false
                    afterQuote = true
                } else {
                    if character.isNewline { line += 1 }
                    field.append(character)
                }
                continue
            }
            if afterQuote {
                if character == "\"" {
                    // A doubled quote inside a quoted field.
                    field.append("\"")
                    inQuotes = true
                    afterQuote = false
                    continue
                }
                afterQuote = false
                guard character == delimiter || character.isNewline else {
                    throw DataError("text after the closing quote of a field", file: file, line: line,
                                    hint: "a quote inside a quoted field is written twice (\"\")")
                }
            }
            if character == delimiter {
                fields.append(field)
                field = ""
            } else if character.isNewline {
                endRecord()
                line += 1
                recordLine = line
            } else if character == "\"" && field.isEmpty {
                inQuotes = true
                wasQuoted = true
                quoteLine = line
            } else {
                field.append(character)
            }
        }
        if inQuotes {
            throw DataError("a quoted field is not closed", file: file, line: quoteLine)
        }
        if !(fields.isEmpty && field.isEmpty && !wasQuoted) { endRecord() }
        return records
    }
}

import CYAML
import FileSystem
import GraphIR

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a YAML spec into a `YAMLNode` tree whose nodes know their file, line and column.
///
/// Built on libyaml's event parser (not its document loader, which keeps no marks on nodes and knows no merge
/// keys). A spec is one document. Every problem is a `SpecError`: libyaml's syntax errors with its own words and
/// place, and the rules added here: keys are scalars and unique (all duplicates are reported together), aliases
/// name earlier anchors, merge keys (`<<: *base`) take mappings, collections nest at most `maximumDepth` deep and
/// aliases produce at most `maximumAliasNodes` nodes in all (a "billion laughs" document stops there).
public enum YAMLReader {
    public static let maximumDepth = 256
    public static let maximumAliasNodes = 1_000_000

    /// The tree of the one document in `text`; `file` names it in source locations.
    public static func parse(_ text: String, file: String) throws(SpecError) -> YAMLNode {
        try parse(text, file: file, maximumDepth: maximumDepth, maximumAliasNodes: maximumAliasNodes)
    }

    /// `parse` with other limits.
    static func parse(
        _ text: String, file: String, maximumDepth: Int, maximumAliasNodes: Int
    ) throws(SpecError) -> YAMLNode {
        // libyaml reads the input in place while parsing, and points into the parser struct from itself, so both
        // live at fixed addresses until the parser is deleted. The input gets a trailing NUL so that its address
        // exists even when the text is empty.
        let utf8 = text.utf8
        let input = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: utf8.count + 1)
        defer { input.deallocate() }
        input.initialize(repeating: 0)
        _ = input.initialize(fromContentsOf: utf8)
        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        defer { parser.deallocate() }
        parser.initialize(to: yaml_parser_t())
        guard let base = input.baseAddress, yaml_parser_initialize(parser) != 0 else {
            throw SpecError("the YAML parser could not start (out of memory)", at: nil)
        }
        defer { yaml_parser_delete(parser) }
        yaml_parser_set_input_string(parser, base, utf8.count)

        var builder = YAMLTreeBuilder(maximumDepth: maximumDepth, maximumAliasNodes: maximumAliasNodes)
        var firstDocument: SourceLocation?
        events: while true {
            var event = yaml_event_t()
            guard yaml_parser_parse(parser, &event) != 0 else {
                // No key path: where libyaml gave up is often not in the node being read (an unclosed bracket
                // is found at the end of the file).
                let input = UnsafeBufferPointer(rebasing: input[..<utf8.count])
                let problem = syntaxError(parser.pointee, input: input, file: file)
                throw builder.failure(problem.message, at: problem.location, notes: problem.notes)
            }
            defer { yaml_event_delete(&event) }
            let location = self.location(event.start_mark, file: file)
            switch event.type {
            case YAML_DOCUMENT_START_EVENT:
                if let firstDocument {
                    throw builder.failure(
                        "expected one YAML document, found a second", at: location,
                        notes: [Diagnostic.Note("the first document starts here", at: firstDocument)])
                }
                firstDocument = location
            case YAML_SCALAR_EVENT:
                let data = event.data.scalar
                let value = UnsafeBufferPointer(start: data.value, count: Int(clamping: data.length))
                builder.scalar(
                    YAMLScalar(String(decoding: value, as: UTF8.self), style: style(data.style)),
                    tag: string(data.tag), anchor: string(data.anchor), at: location)
            case YAML_ALIAS_EVENT:
                try builder.alias(string(event.data.alias.anchor) ?? "", at: location)
            case YAML_SEQUENCE_START_EVENT:
                let data = event.data.sequence_start
                try builder.beginSequence(tag: string(data.tag), anchor: string(data.anchor), at: location)
            case YAML_MAPPING_START_EVENT:
                let data = event.data.mapping_start
                try builder.beginMapping(tag: string(data.tag), anchor: string(data.anchor), at: location)
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                builder.end()
            case YAML_STREAM_END_EVENT:
                break events
            default:
                continue
            }
        }
        guard let root = builder.root else {
            let start = SourceLocation(file: file, line: 1, column: 1)
            throw builder.failure("the input holds no YAML document", at: start)
        }
        guard builder.diagnostics.isEmpty else { throw SpecError(builder.diagnostics) }
        return root
    }

    /// The tree of the YAML file at `path`, which names it in source locations.
    public static func read(contentsOf path: String) throws(SpecError) -> YAMLNode {
        try parse(readText(path), file: path)
    }

    // MARK: - Files

    /// The file's text; an error naming the path if it cannot be opened or read or is not UTF-8.
    /// Only regular files of at most `SpecLimits.fileBytes` are read (`RegularFile`): a device (`/dev/zero`), a
    /// FIFO (which would block) or a directory is refused before it is opened.
    static func readText(_ path: String) throws(SpecError) -> String {
        let bytes: [UInt8]
        do { bytes = try RegularFile.contents(of: path, limit: SpecLimits.fileBytes) } catch {
            throw SpecError("cannot read '\(path)': \(error.message)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            let location = invalidUTF8Location(bytes, file: path)
            throw SpecError("'\(path)' is not UTF-8 text", at: location)
        }
        return text
    }

    /// Where the first byte that is not part of valid UTF-8 is.
    private static func invalidUTF8Location(_ bytes: [UInt8], file: String) -> SourceLocation {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var offset = 0
        loop: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): offset += UTF8.width(scalar)
            case .emptyInput, .error: break loop
            }
        }
        return location(ofByte: offset, in: bytes[...], file: file)
    }

    // MARK: - libyaml

    /// libyaml's problem and its place, with what it was doing (its "context") as a note.
    private static func syntaxError(
        _ parser: yaml_parser_t, input: UnsafeBufferPointer<UInt8>, file: String
    ) -> (message: String, location: SourceLocation, notes: [Diagnostic.Note]) {
        let message = string(parser.problem) ?? "the YAML parser ran out of memory"
        var notes: [Diagnostic.Note] = []
        if let context = string(parser.context) {
            notes.append(Diagnostic.Note(context, at: location(parser.context_mark, file: file)))
        }
        // The reader (encoding, control characters) reports a byte offset, not a mark.
        let place =
            parser.error == YAML_READER_ERROR
            ? location(ofByte: Int(clamping: parser.problem_offset), in: input[...], file: file)
            : location(parser.problem_mark, file: file)
        return (message, place, notes)
    }

    private static func location(_ mark: yaml_mark_t, file: String) -> SourceLocation {
        SourceLocation(file: file, line: oneBased(mark.line), column: oneBased(mark.column))
    }

    private static func oneBased(_ value: Int) -> Int { value < .max ? value + 1 : value }
    private static func oneBased(_ value: UInt) -> Int { oneBased(Int(clamping: value)) }

    /// Line and column (in characters) of a byte offset, lines ending at `\n`, `\r\n` or `\r`.
    private static func location<Bytes: Collection<UInt8>>(
        ofByte offset: Int, in bytes: Bytes, file: String
    ) -> SourceLocation {
        var line = 1
        var column = 1
        var previous: UInt8 = 0
        for byte in bytes.prefix(max(0, offset)) {
            if byte == UInt8(ascii: "\n") {
                if previous != UInt8(ascii: "\r") { line += 1 }
                column = 1
            } else if byte == UInt8(ascii: "\r") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
            previous = byte
        }
        return SourceLocation(file: file, line: line, column: column)
    }

    private static func string(_ pointer: UnsafePointer<CChar>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: UnsafePointer($0)) }
    }

    private static func style(_ style: yaml_scalar_style_t) -> YAMLScalar.Style {
        switch style {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: .literal
        case YAML_FOLDED_SCALAR_STYLE: .folded
        default: .plain
        }
    }
}

import Foundation
import GraphIR
import Testing

@testable import GraphSpec

/// (`SourceLocation` alone is ambiguous here: Swift Testing has one too.)
/// `file:line:column` in the test file `f.yaml`.
private func at(_ line: Int, _ column: Int, file: String = "f.yaml") -> GraphIR.SourceLocation {
    GraphIR.SourceLocation(file: file, line: line, column: column)
}

/// The tree of `text` read as `f.yaml`, or nil (recorded as a failure) if reading fails.
private func tree(_ text: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> YAMLNode? {
    do {
        return try YAMLReader.parse(text, file: "f.yaml")
    } catch {
        Issue.record("unexpected error:\n\(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// The error reading `text` as `f.yaml` throws, or nil (recorded as a failure) if it reads.
private func failure(_ text: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> SpecError? {
    do {
        let node = try YAMLReader.parse(text, file: "f.yaml")
        Issue.record("expected an error, read \(node)", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

@Suite("YAML reader")
struct YAMLReaderTests {
    // MARK: - Trees and marks

    @Test("block mappings and sequences keep their line:column marks")
    func blockMarks() throws {
        let root = try #require(tree("""
            model:
              name: ser
              heads: 8
              layers:
                - conv
                - attn
            """))
        #expect(root.location == at(1, 1))
        #expect(root.keys == ["model"])
        let model = try #require(root.value(forKey: "model"))
        #expect(model.location == at(2, 3))
        #expect(model.keys == ["name", "heads", "layers"])
        #expect(model.value(forKey: "name")?.scalar == "ser")
        #expect(model.value(forKey: "name")?.location == at(2, 9))
        #expect(model.entry(forKey: "heads")?.key.location == at(3, 3))
        #expect(model.value(forKey: "heads")?.location == at(3, 10))
        let layers = try #require(model.value(forKey: "layers"))
        #expect(layers.location == at(5, 5))
        #expect(layers.items?.map(\.scalar) == ["conv", "attn"])
        #expect(layers.items?.map(\.location) == [at(5, 7), at(6, 7)])
        #expect(model.value(forKey: "missing") == nil)
        #expect(layers.value(forKey: "conv") == nil)
        #expect(layers.keys == [])
    }

    @Test("nested flow collections keep their marks")
    func flowMarks() throws {
        let root = try #require(tree("root: {a: 1, b: [x, y]}\nnext: [ {c: d} ]\n"))
        let inner = try #require(root.value(forKey: "root"))
        #expect(inner.location == at(1, 7))
        #expect(inner.entries?.map(\.key.location) == [at(1, 8), at(1, 14)])
        #expect(inner.value(forKey: "a")?.location == at(1, 11))
        #expect(inner.value(forKey: "a")?.int == 1)
        let b = try #require(inner.value(forKey: "b"))
        #expect(b.location == at(1, 17))
        #expect(b.items?.map(\.scalar) == ["x", "y"])
        #expect(b.items?.map(\.location) == [at(1, 18), at(1, 21)])
        let next = try #require(root.value(forKey: "next")?.items?.first)
        #expect(next.location == at(2, 9))
        #expect(next.value(forKey: "c")?.location == at(2, 13))
    }

    @Test("columns count characters, not bytes")
    func unicodeColumns() throws {
        let root = try #require(tree("é: [ü, x]\n"))
        #expect(root.value(forKey: "é")?.items?.map(\.location) == [at(1, 5), at(1, 8)])
    }

    @Test("scalars keep their style: plain, quoted, literal, folded")
    func scalarStyles() throws {
        let root = try #require(tree("""
            a: 123
            b: "123"
            c: '123'
            d: |
              line one
              line two
            e: >
              folded
              text
            f: "tab\\there"
            """))
        let styles = root.entries?.map { $0.value.style }
        #expect(styles == [.plain, .doubleQuoted, .singleQuoted, .literal, .folded, .doubleQuoted])
        let texts = root.entries?.map { $0.value.scalar }
        #expect(texts == ["123", "123", "123", "line one\nline two\n", "folded text\n", "tab\there"])
        #expect(root.value(forKey: "a")?.isPlain == true)
        #expect(root.value(forKey: "b")?.isPlain == false)
        #expect(root.value(forKey: "d")?.location == at(4, 4))
        #expect(root.isPlain == false)
        #expect(root.scalar == nil)
        #expect(root.kindDescription == "a mapping")
    }

    // MARK: - Typed reads

    @Test("integers: plain decimal, signed, hex and octal; quoted and float text are not integers")
    func integers() throws {
        let root = try #require(tree("""
            [1, -3, +7, 0, 010, 0x1F, 0o17, "1", '2', 1.0, 1e4, 1_000, 0x, twelve, 99999999999999999999]
            """))
        let items = try #require(root.items)
        #expect(items.map(\.int) == [1, -3, 7, 0, 10, 31, 15, nil, nil, nil, nil, nil, nil, nil, nil])
    }

    @Test("doubles: YAML 1.2 core floats and integers; quoted numbers are strings")
    func doubles() throws {
        let root = try #require(tree("""
            [1.5e-3, .5, 1e4, -2.25, 1., +.5, 3, 0x10, .inf, -.Inf, "1.5", 1.5.2, e4, .e3, 1e, inf, 1_0.0]
            """))
        let values = try #require(root.items).map(\.double)
        #expect(values.prefix(10) == [0.0015, 0.5, 10000, -2.25, 1, 0.5, 3, 16, .infinity, -.infinity])
        #expect(values.dropFirst(10) == [nil, nil, nil, nil, nil, nil, nil])
        let nan = try #require(tree("x: .nan\n")?.value(forKey: "x")?.double)
        #expect(nan.isNaN)
    }

    @Test("booleans are true and false only: yes, no, on and off are strings")
    func booleans() throws {
        let root = try #require(tree("[true, false, True, FALSE, yes, no, on, off, y, \"true\", 1]"))
        #expect(try #require(root.items).map(\.bool) == [true, false, true, false, nil, nil, nil, nil, nil, nil, nil])
        #expect(root.items?.dropFirst(4).first?.scalar == "yes")
    }

    @Test("null: ~, null and an empty plain value; quoted null and empty strings are strings")
    func nulls() throws {
        let root = try #require(tree("a: ~\nb: null\nc:\nd: NULL\ne: \"null\"\nf: ''\ng: 0\n"))
        #expect(root.entries?.map(\.value.isNull) == [true, true, true, true, false, false, false])
        #expect(root.value(forKey: "c")?.scalar == "")
        #expect(root.value(forKey: "c")?.int == nil)
    }

    @Test("explicit core tags decide the type: !!int \"12\" is 12, !!str 12 is a string")
    func tags() throws {
        let root = try #require(tree("a: !!int \"12\"\nb: !!str 12\nc: !!float 2\nd: !custom 5\n"))
        #expect(root.value(forKey: "a")?.int == 12)
        #expect(root.value(forKey: "a")?.tag == "tag:yaml.org,2002:int")
        #expect(root.value(forKey: "b")?.int == nil)
        #expect(root.value(forKey: "b")?.scalar == "12")
        #expect(root.value(forKey: "c")?.int == nil)
        #expect(root.value(forKey: "c")?.double == 2)
        #expect(root.value(forKey: "d")?.int == nil)
        #expect(root.value(forKey: "d")?.tag == "!custom")
        #expect(root.value(forKey: "a")?.location == at(1, 4))
    }

    // MARK: - Duplicate and complex keys

    @Test("a duplicate key is reported at the second key with a note at the first and its key path")
    func duplicateKey() throws {
        let error = try #require(failure("""
            blocks:
              layer:
                heads: 8
                dim: 256
                heads: 4
            """))
        #expect(error.diagnostics.count == 1)
        let diagnostic = try #require(error.diagnostics.first)
        #expect(diagnostic.message == "duplicate key 'heads'")
        #expect(diagnostic.location == at(5, 5))
        #expect(diagnostic.keyPath == "blocks.layer.heads")
        #expect(diagnostic.notes == [Diagnostic.Note("first defined here", at: at(3, 5))])
        #expect(error.description == """
            f.yaml:5:5: error: duplicate key 'heads' (in blocks.layer.heads)
              f.yaml:3:5: note: first defined here
            """)
        // Keys are compared by their text, whatever their style.
        #expect(failure("1: a\n\"1\": b\n")?.diagnostics.map(\.message) == ["duplicate key '1'"])
    }

    @Test("every duplicate key of a document is reported together, sequence items in the key path")
    func duplicateKeysCollected() throws {
        let error = try #require(failure("""
            nodes:
              - op: linear
                op: gelu
              - {x: 1, y: 2, x: 3}
            name: a
            name: b
            """))
        #expect(error.diagnostics.map(\.message) == ["duplicate key 'op'", "duplicate key 'x'", "duplicate key 'name'"])
        #expect(error.diagnostics.map(\.location) == [at(3, 5), at(4, 18), at(6, 1)])
        #expect(error.diagnostics.map(\.keyPath) == ["nodes[0].op", "nodes[1].x", "name"])
        #expect(error.diagnostics.map(\.notes.first?.location) == [at(2, 5), at(4, 6), at(5, 1)])
    }

    @Test("keys must be scalars")
    func complexKey() throws {
        let error = try #require(failure("ok: 1\n? [a, b]\n: 2\n{c: d}: 3\n"))
        #expect(error.diagnostics.map(\.message) == [
            "mapping keys must be scalars, found a sequence", "mapping keys must be scalars, found a mapping",
        ])
        #expect(error.diagnostics.map(\.location) == [at(2, 3), at(4, 1)])
    }

    // MARK: - Anchors, aliases, merge keys

    @Test("an alias is a copy of the anchored node, placed at the alias")
    func aliases() throws {
        let root = try #require(tree("""
            base: &layer {dim: 256, heads: 4}
            encoder: *layer
            sizes: &s [1, 2]
            both: [*s, *layer]
            """))
        let base = try #require(root.value(forKey: "base"))
        #expect(base.anchor == "layer")
        #expect(base.location == at(1, 7))
        let encoder = try #require(root.value(forKey: "encoder"))
        #expect(encoder.kind == base.kind)
        #expect(encoder.location == at(2, 10))
        #expect(encoder.definition == at(1, 7))
        #expect(encoder.anchor == "layer")
        #expect(encoder.value(forKey: "heads")?.int == 4)
        #expect(encoder.value(forKey: "heads")?.location == at(1, 32))
        let both = try #require(root.value(forKey: "both")?.items)
        #expect(both.map(\.location) == [at(4, 8), at(4, 12)])
        #expect(both.first?.items?.map(\.int) == [1, 2])
        #expect(both.last?.keys == ["dim", "heads"])
    }

    @Test("merge keys bring the anchored mapping's entries; explicit keys override them, not duplicates")
    func mergeKeys() throws {
        let root = try #require(tree("""
            defaults: &defaults
              dim: 256
              heads: 4
              dropout: 0.1
            extra: &extra
              heads: 2
              bias: true
            layer:
              heads: 8
              <<: *defaults
              name: attn
            multi:
              <<: [*extra, *defaults]
              dim: 512
            """))
        let layer = try #require(root.value(forKey: "layer"))
        #expect(layer.keys == ["heads", "dim", "dropout", "name"])
        #expect(layer.value(forKey: "heads")?.int == 8)
        #expect(layer.value(forKey: "dim")?.int == 256)
        #expect(layer.value(forKey: "dim")?.location == at(2, 8))
        let multi = try #require(root.value(forKey: "multi"))
        #expect(multi.keys == ["heads", "bias", "dropout", "dim"])
        #expect(multi.value(forKey: "heads")?.int == 2)
        #expect(multi.value(forKey: "dim")?.int == 512)
        #expect(multi.value(forKey: "bias")?.bool == true)
    }

    @Test("a quoted '<<' is an ordinary key; a merge key needs mappings")
    func mergeKeyErrors() throws {
        let quoted = try #require(tree("\"<<\": 1\n"))
        #expect(quoted.keys == ["<<"])
        let error = try #require(failure("a: &a 1\nb:\n  <<: *a\nc:\n  <<: [{x: 1}, 2]\n"))
        #expect(error.diagnostics.map(\.message) == [
            "the merge key '<<' takes a mapping or a sequence of mappings, found a scalar",
            "the merge key '<<' takes a mapping or a sequence of mappings, found a scalar in the sequence",
        ])
        #expect(error.diagnostics.map(\.location) == [at(3, 7), at(5, 16)])
        #expect(error.diagnostics.map(\.keyPath) == ["b.<<", "c.<<"])
    }

    @Test("an undefined alias is an error at the alias, with a did-you-mean hint")
    func undefinedAlias() throws {
        let error = try #require(failure("base: &layer {dim: 1}\nencoder: *layr\nself: &s [*s]\n"))
        #expect(error.description == """
            f.yaml:2:10: error: undefined alias '*layr' (in encoder)
              hint: did you mean 'layer'?
            f.yaml:3:11: error: alias '*s' refers to a node that contains it (in self[0])
            """)
    }

    // MARK: - Documents

    @Test("a spec is exactly one document")
    func documents() throws {
        let second = try #require(failure("a: 1\n---\nb: 2\n"))
        #expect(second.description == """
            f.yaml:2:1: error: expected one YAML document, found a second
              f.yaml:1:1: note: the first document starts here
            """)
        for empty in ["", "# only a comment\n", "\n\n"] {
            let error = try #require(failure(empty))
            #expect(error.description == "f.yaml:1:1: error: the input holds no YAML document")
        }
        // One explicit document, with or without an end marker, is fine; so is a bare scalar.
        #expect(tree("---\na: 1\n...\n")?.keys == ["a"])
        #expect(tree("just text")?.scalar == "just text")
    }

    // MARK: - Syntax errors (libyaml's words and marks)

    @Test("tabs used for indentation")
    func tabIndentation() throws {
        let error = try #require(failure("model:\n\theads: 4\n"))
        #expect(error.description == """
            f.yaml:2:1: error: found character that cannot start any token
              f.yaml:2:1: note: while scanning for the next token
            """)
        let afterValue = try #require(failure("a: 1\n\tb: 2\n"))
        #expect(afterValue.description.hasPrefix("f.yaml:2:1: error: found a tab character that violates indentation"))
    }

    @Test("an unterminated quoted string")
    func unterminatedQuote() throws {
        let error = try #require(failure("name: \"encoder\nheads: 4\n"))
        #expect(error.description == """
            f.yaml:3:1: error: found unexpected end of stream
              f.yaml:1:7: note: while scanning a quoted scalar
            """)
    }

    @Test("bad indentation")
    func badIndentation() throws {
        let error = try #require(failure("model:\n    dim: 1\n  heads: 4\n"))
        #expect(error.description == """
            f.yaml:3:3: error: did not find expected key
              f.yaml:1:1: note: while parsing a block mapping
            """)
        let continuation = try #require(failure("a: b\n  c: d\n"))
        #expect(continuation.description == "f.yaml:2:4: error: mapping values are not allowed in this context")
    }

    @Test("key: value: other")
    func mappingValueInPlainScalar() throws {
        let error = try #require(failure("model:\n  key: value: other\n"))
        #expect(error.diagnostics.count == 1)
        #expect(error.description == "f.yaml:2:13: error: mapping values are not allowed in this context")
    }

    @Test("unclosed flow collections and control characters")
    func otherSyntaxErrors() throws {
        let bracket = try #require(failure("a: [x, y\nb: 1\n"))
        #expect(bracket.description.hasPrefix("f.yaml:2:2: error: did not find expected ',' or ']'"))
        let control = try #require(failure("a: 1\nb: é\u{01}\n"))
        #expect(control.description == "f.yaml:2:5: error: control characters are not allowed")
    }

    @Test("problems found before a syntax error are reported with it")
    func collectedBeforeSyntaxError() throws {
        let error = try #require(failure("a: 1\na: 2\nb: [\n"))
        #expect(error.description == """
            f.yaml:2:1: error: duplicate key 'a' (in a)
              f.yaml:1:1: note: first defined here
            f.yaml:4:1: error: did not find expected node content
              f.yaml:4:1: note: while parsing a flow node
            """)
    }

    // MARK: - Limits

    @Test("a billion-laughs document is rejected quickly")
    func billionLaughs() throws {
        var text = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
        for (previous, name) in zip(names, names.dropFirst()) {
            let aliases = Array(repeating: "*\(previous)", count: 9).joined(separator: ", ")
            text += "\(name): &\(name) [\(aliases)]\n"
        }
        let start = ContinuousClock.now
        let error = try #require(failure(text))
        #expect(ContinuousClock.now - start < .seconds(5))
        let diagnostic = try #require(error.diagnostics.first)
        #expect(diagnostic.message == "aliases expand to more than 1000000 nodes")
        #expect(diagnostic.location?.line == 7)
        #expect(diagnostic.keyPath?.hasPrefix("g[") == true)
        // A few aliases are fine.
        #expect(tree("a: &a [1, 2]\nb: [*a, *a, *a]\n")?.value(forKey: "b")?.items?.count == 3)
    }

    @Test("nesting deeper than the limit is rejected; the limit itself is fine")
    func deepNesting() throws {
        let depth = YAMLReader.maximumDepth
        let deepest = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect(tree(deepest)?.items?.count == 1)
        let error = try #require(failure(String(repeating: "[", count: 100_000)))
        #expect(error.description == "f.yaml:1:257: error: collections nest deeper than 256 levels")
        let blocks = (0..<300).map { String(repeating: "  ", count: $0) + "k:" }.joined(separator: "\n")
        #expect(failure(blocks)?.diagnostics.first?.location == at(257, 513))
    }

    @Test("an alias may not nest its copy deeper than the limit")
    func deepNestingThroughAliases() throws {
        func read(_ text: String) throws(SpecError) -> YAMLNode {
            try YAMLReader.parse(text, file: "f.yaml", maximumDepth: 4, maximumAliasNodes: 100)
        }
        // Root mapping, b's sequence, then the two levels of a: four.
        let fits = try read("a: &a [[x]]\nb: [*a]\n")
        #expect(fits.value(forKey: "b")?.items?.first?.items?.first?.items?.first?.scalar == "x")
        let tooDeep = #expect(throws: SpecError.self) { try read("a: &a [[x]]\nb: [[*a]]\n") }
        #expect(tooDeep?.description == "f.yaml:2:6: error: collections nest deeper than 4 levels through alias '*a'")
        // a is 10 nodes: the tenth alias makes 100, the eleventh (b[10]) is too many.
        let tooMany = #expect(throws: SpecError.self) {
            try read("a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9]\nb: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n")
        }
        #expect(tooMany?.description == "f.yaml:2:45: error: aliases expand to more than 100 nodes (in b[10])")
    }

    // MARK: - Files

    @Test("read(contentsOf:) names the file in locations and errors")
    func files() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("yaml-reader-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        let good = folder.appendingPathComponent("model.yaml").path
        try Data("model:\n  heads: 4\n".utf8).write(to: URL(fileURLWithPath: good))
        let root = try YAMLReader.read(contentsOf: good)
        #expect(root.value(forKey: "model")?.value(forKey: "heads")?.location == at(2, 10, file: good))

        let missing = folder.appendingPathComponent("missing.yaml").path
        let missingError = #expect(throws: SpecError.self) { try YAMLReader.read(contentsOf: missing) }
        #expect(missingError?.description == "error: cannot read '\(missing)': no such file or directory")

        let binary = folder.appendingPathComponent("binary.yaml").path
        try Data([0x61, 0x3A, 0x0A, 0x20, 0x62, 0xFF, 0x0A]).write(to: URL(fileURLWithPath: binary))
        let binaryError = #expect(throws: SpecError.self) { try YAMLReader.read(contentsOf: binary) }
        #expect(binaryError?.description == "\(binary):2:3: error: '\(binary)' is not UTF-8 text")

        let folderError = #expect(throws: SpecError.self) { try YAMLReader.read(contentsOf: folder.path) }
        #expect(folderError?.description == "error: cannot read '\(folder.path)': a directory, not a regular file")
    }

    @Test("a SpecError renders its diagnostics in source order")
    func specErrorRendering() {
        #expect(SpecError("x").description == "error: x")
        let error = SpecError([
            Diagnostic("second", at: at(3, 1)), Diagnostic("first", at: at(1, 2), keyPath: "a.b"),
        ])
        #expect(error.description == "f.yaml:1:2: error: first (in a.b)\nf.yaml:3:1: error: second")
    }
}

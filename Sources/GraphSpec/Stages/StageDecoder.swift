import GraphIR

/// Reads and checks `stages:` against the compiled graph: names and keys, references to outputs, taps, data
/// labels, parameter scopes and earlier stages, and the ranges of every number.
struct StageDecoder {
    /// Utterance labels the data layer provides.
    static let dataLabels = ["emotion", "gender"]

    let graph: Graph
    var scope: LoweringScope
    let sink: DiagnosticSink
    /// Stages that failed to decode (reported): references to them stay quiet instead of cascading.
    private let failed = FailedStages()

    final class FailedStages {
        var names = Set<String>()
        /// Every stage name in the file, for "that stage comes later".
        var all = [String]()
    }

    func decode(_ items: [YAMLNode]) -> [Stage] {
        var stages = [Stage]()
        var names = [String: YAMLNode]()
        failed.all = items.compactMap { $0.value(forKey: "name")?.scalar }
        for (index, item) in items.enumerated() {
            let keyPath = "stages[\(index)]"
            guard var reader = MappingReader(item, keyPath: keyPath, sink: sink, what: "a stage") else { continue }
            guard let nameNode = reader.required("name", what: "the stage's name") else { reader.finish(context: "stage"); continue }
            guard let name = nameNode.scalar, SpecDecoder.isIdentifier(name) else {
                sink.error("a stage name must be letters, digits and '_', got '\(nameNode.scalar ?? nameNode.kindDescription)'", at: nameNode, keyPath: "\(keyPath).name")
                continue
            }
            if let first = names[name] {
                sink.error("stage '\(name)' is defined twice", at: nameNode, keyPath: "\(keyPath).name", notes: [.init("first defined here", at: first.location)])
                continue
            }
            let path = "stages.\(name)"
            // Key paths name the stage from here on (stages.multitask.epochs, not stages[0].epochs).
            guard var named = MappingReader(item, keyPath: path, sink: sink, what: "a stage") else { continue }
            named.allow(["name"])
            reader = named
            _ = reader.optional("doc")
            // `when`: a boolean (usually a config switch, "${stage1}"); a stage that is off is kept, marked, and skipped.
            var enabled = true
            if let when = reader.optional("when") {
                switch evaluate(when, keyPath: "\(path).when") {
                case let .bool(value)?: enabled = value
                case let other?: sink.error("when must be true or false, got \(other.typeName) \(other)", at: when, keyPath: "\(path).when")
                case nil: break
                }
            }
            let kind: Stage.Kind?
            if let kmeans = reader.optional("kmeans") {
                kind = decodeKMeans(kmeans, keyPath: "\(path).kmeans", earlier: stages).map(Stage.Kind.kmeans)
            } else {
                reader.allow(["init", "losses", "train", "freeze", "optimizer", "epochs", "batch"])
                kind = decodeTrain(item, keyPath: path, earlier: stages).map(Stage.Kind.train)
            }
            reader.finish(context: "stage '\(name)'")
            names[name] = nameNode
            if let kind { stages.append(Stage(name: name, kind: kind, location: item.location, enabled: enabled)) } else { failed.names.insert(name) }
        }
        return stages
    }

    // MARK: - Training stages

    func decodeTrain(_ node: YAMLNode, keyPath: String, earlier: [Stage]) -> TrainStage? {
        let before = sink.diagnostics.count
        var initialization = Initialization.random
        if let value = node.value(forKey: "init") {
            let text = name(value, keyPath: "\(keyPath).init") ?? ""
            switch text {
            case "pretrained": initialization = .pretrained
            case "random": initialization = .random
            case "previous":
                if trainNames(earlier).isEmpty {
                    sink.error("init 'previous' needs an earlier training stage", at: value, keyPath: "\(keyPath).init")
                }
                initialization = .previous
            default:
                if failed.names.contains(text) { break }  // that stage's own errors are reported
                if let found = earlier.first(where: { $0.name == text }) {
                    if case .train = found.kind { initialization = .stage(text) } else {
                        sink.error("init refers to '\(text)', a k-means stage; it needs a training stage", at: value, keyPath: "\(keyPath).init")
                    }
                } else if failed.all.contains(text) {
                    sink.error("init refers to '\(text)', which is not an earlier training stage", at: value, keyPath: "\(keyPath).init",
                               hint: "a stage can start from pretrained weights, random ones, or an earlier training stage")
                } else {
                    sink.error("unknown init '\(text)'", at: value, keyPath: "\(keyPath).init",
                               hint: Suggestion.hint(for: text, in: ["pretrained", "random", "previous"] + trainNames(earlier))
                                   ?? "use pretrained, random, previous or the name of an earlier training stage")
                }
            }
        }
        var losses = [Loss]()
        if let node = node.value(forKey: "losses") {
            if let entries = node.entries, !entries.isEmpty {
                var names = [String: YAMLNode]()
                for entry in entries {
                    // `for:` makes one loss per combination of its variables' values, which the loss's name and
                    // fields read (`gmp_{layer}_{scale}`).
                    for variables in loopValues(entry.value, keyPath: "\(keyPath).losses.\(entry.key.scalar ?? "")") {
                        var decoder = self
                        decoder.scope = scope.adding(variables)
                        guard let name = decoder.name(entry.key, keyPath: "\(keyPath).losses") else { break }
                        if let first = names[name] {
                            sink.error("loss '\(name)' is defined twice", at: entry.key, keyPath: "\(keyPath).losses",
                                       hint: variables.isEmpty ? nil : "name the loss with every for: variable, such as {\(variables.keys.sorted().joined(separator: "}_{"))}",
                                       notes: [.init("first defined here", at: first.location)])
                            break
                        }
                        names[name] = entry.key
                        let reported = sink.diagnostics.count
                        if let loss = decoder.decodeLoss(entry.value, name: name, keyPath: "\(keyPath).losses.\(name)", earlier: earlier) {
                            losses.append(loss)
                        }
                        // A mistake in the entry would repeat for every combination: report the first.
                        if sink.diagnostics.count > reported { break }
                    }
                }
            } else {
                sink.error("losses must map loss names to losses, such as {emotion: {op: cross_entropy, ...}}", at: node, keyPath: "\(keyPath).losses")
            }
        } else {
            sink.error("missing 'losses': a training stage needs at least one loss (or 'kmeans' for a pseudo-label stage)", at: node, keyPath: keyPath)
        }
        let train = scopes(node.value(forKey: "train"), keyPath: "\(keyPath).train", required: true)
        let freeze = scopes(node.value(forKey: "freeze"), keyPath: "\(keyPath).freeze", required: false)
        let optimizer = decodeOptimizer(node.value(forKey: "optimizer"), keyPath: "\(keyPath).optimizer", owner: node)
        let epochs = integer(node.value(forKey: "epochs"), keyPath: "\(keyPath).epochs", default: nil, at: node, minimum: 1) ?? 1
        var batchSize = 8, accumulate = 1
        var maxSeconds: Double? = nil
        if let batch = node.value(forKey: "batch"), var reader = MappingReader(batch, keyPath: "\(keyPath).batch", sink: sink, what: "batch") {
            batchSize = integer(reader.optional("size"), keyPath: "\(keyPath).batch.size", default: 8, at: batch, minimum: 1) ?? 8
            accumulate = integer(reader.optional("accumulate"), keyPath: "\(keyPath).batch.accumulate", default: 1, at: batch, minimum: 1) ?? 1
            if let seconds = reader.optional("max_seconds") {
                maxSeconds = number(seconds, keyPath: "\(keyPath).batch.max_seconds", range: 0.1...3600)
            }
            reader.finish(context: "batch")
        }
        guard sink.diagnostics.count == before, let optimizer else { return nil }
        return TrainStage(initialization: initialization, losses: losses, train: train, freeze: freeze, optimizer: optimizer,
                          epochs: epochs, batchSize: batchSize, accumulate: accumulate, maxSeconds: maxSeconds)
    }

    /// The combinations of a loss's `for:` variables (`for: {layer: "${gmp_layers}", scale: [64, 512]}`: every
    /// layer with every scale, the first variable outermost); one empty combination without `for:`, none when it is
    /// wrong (reported; an empty list is wrong too).
    func loopValues(_ node: YAMLNode, keyPath: String) -> [[String: ConfigValue]] {
        guard let loop = node.value(forKey: "for") else { return [[:]] }
        guard let entries = loop.entries, !entries.isEmpty else {
            sink.error("for must map variable names to lists, such as {scale: \"${k}\"}", at: loop, keyPath: "\(keyPath).for")
            return []
        }
        var combinations: [[String: ConfigValue]] = [[:]]
        for entry in entries {
            guard let variable = entry.key.scalar, SpecDecoder.isIdentifier(variable) else {
                sink.error("a for variable must be letters, digits and '_', got '\(entry.key.scalar ?? entry.key.kindDescription)'", at: entry.key,
                           keyPath: "\(keyPath).for")
                return []
            }
            guard let value = evaluate(entry.value, keyPath: "\(keyPath).for.\(variable)") else { return [] }
            guard case let .list(elements) = value else {
                sink.error("for variable '\(variable)' must be a list, got \(value.typeName) \(value)", at: entry.value, keyPath: "\(keyPath).for.\(variable)")
                return []
            }
            guard !elements.isEmpty else {
                sink.error("for variable '\(variable)' is an empty list, which makes no loss", at: entry.value, keyPath: "\(keyPath).for.\(variable)",
                           hint: "to switch the losses off, use when: on the loss")
                return []
            }
            combinations = combinations.flatMap { earlier in
                elements.map { element in earlier.merging([variable: element]) { _, new in new } }
            }
        }
        return combinations
    }

    func decodeLoss(_ node: YAMLNode, name: String, keyPath: String, earlier: [Stage]) -> Loss? {
        guard var reader = MappingReader(node, keyPath: keyPath, sink: sink, what: "a loss") else { return nil }
        reader.allow(["for"])
        guard let opNode = reader.required("op", what: "cross_entropy or am_softmax") else { reader.finish(context: "loss"); return nil }
        let op = opNode.scalar ?? ""
        let kind: Loss.Kind
        let inputKey: String
        switch op {
        case "cross_entropy":
            kind = .crossEntropy
            inputKey = "logits"
        case "am_softmax":
            let s = reader.optional("s").flatMap { number($0, keyPath: "\(keyPath).s", range: 0.001...1000) } ?? 30
            let m = reader.optional("m").flatMap { number($0, keyPath: "\(keyPath).m", range: 0...1) } ?? 0.35
            kind = .amSoftmax(scale: s, margin: m)
            inputKey = "cosine"
        default:
            sink.error("unknown loss op '\(op)'", at: opNode, keyPath: "\(keyPath).op",
                       hint: Suggestion.hint(for: op, in: ["cross_entropy", "am_softmax"]) ?? "use cross_entropy or am_softmax")
            reader.allow(["logits", "cosine", "target", "weight", "class_weights", "frames", "s", "m", "when"])
            reader.finish(context: "loss '\(name)'")
            return nil
        }
        let input = reader.required(inputKey, what: "the graph output or tap the loss reads").flatMap { valueName($0, keyPath: "\(keyPath).\(inputKey)") }
        let target = reader.required("target", what: "the labels: \(Self.dataLabels.joined(separator: ", ")) or pseudo-labels of a kmeans stage")
            .flatMap { targetName($0, keyPath: "\(keyPath).target", earlier: earlier) }
        let weight = reader.optional("weight").flatMap { number($0, keyPath: "\(keyPath).weight", range: 0...1_000_000) } ?? 1
        var classWeights = Loss.ClassWeights.none
        if let node = reader.optional("class_weights") {
            if node.scalar == "balanced" { classWeights = .balanced } else if node.scalar == "none" { classWeights = .none } else if let items = node.items {
                classWeights = .explicit(items.compactMap { number($0, keyPath: "\(keyPath).class_weights", range: 0...1_000_000) })
            } else {
                sink.error("class_weights must be balanced, none, or a list of numbers", at: node, keyPath: "\(keyPath).class_weights")
            }
        }
        // `when`: a loss switched off (an ablation) is checked but not part of the stage's sum.
        var enabled = true
        if let when = reader.optional("when") {
            switch evaluate(when, keyPath: "\(keyPath).when") {
            case let .bool(value)?: enabled = value
            case let other?: sink.error("when must be true or false, got \(other.typeName) \(other)", at: when, keyPath: "\(keyPath).when")
            case nil: break
            }
        }
        var frames: Loss.Frames? = nil
        if let node = reader.optional("frames") {
            if let text = node.scalar, let value = Loss.Frames(rawValue: text) { frames = value } else {
                sink.error("frames must be masked or valid, got '\(node.scalar ?? node.kindDescription)'", at: node, keyPath: "\(keyPath).frames")
            }
        }
        reader.finish(context: "loss '\(name)'")
        // Shapes: utterance losses read [B, C]; frame losses [B, T, C] with pseudo-label targets.
        if let input, let target, let value = graphValue(input) {
            let type = graph[value].type
            let frameLevel = target.contains(".")
            let expectedRank = frameLevel ? 3 : 2
            if type.rank != expectedRank {
                sink.error("loss '\(name)' reads '\(input)' of type \(type), but \(frameLevel ? "frame-level pseudo-labels need [B, T, C] scores" : "utterance labels need [B, C] scores")",
                           at: node.value(forKey: inputKey), keyPath: "\(keyPath).\(inputKey)")
            }
            if frameLevel && frames == nil { frames = .masked }
            if frameLevel, let k = target.split(separator: ".").last.flatMap({ Int($0.dropFirst()) }),
               let classes = type.shape.last?.constantValue, classes != k {
                sink.error("loss '\(name)' scores \(classes) classes but its targets have K = \(k) clusters", at: node.value(forKey: inputKey),
                           keyPath: "\(keyPath).\(inputKey)")
            }
        }
        guard let input, let target else { return nil }
        return Loss(name: name, kind: kind, input: input, target: target, weight: weight, classWeights: classWeights, frames: frames,
                    enabled: enabled)
    }

    func decodeOptimizer(_ node: YAMLNode?, keyPath: String, owner: YAMLNode) -> OptimizerSettings? {
        guard let node else {
            sink.error("missing 'optimizer', such as {name: adamw, lr: 5.0e-5}", at: owner, keyPath: keyPath.replacingOccurrences(".optimizer"))
            return nil
        }
        guard var reader = MappingReader(node, keyPath: keyPath, sink: sink, what: "optimizer") else { return nil }
        var name = OptimizerSettings.Name.adamw
        if let value = reader.optional("name") {
            if let text = value.scalar, let parsed = OptimizerSettings.Name(rawValue: text) { name = parsed } else {
                sink.error("unknown optimizer '\(value.scalar ?? value.kindDescription)'", at: value, keyPath: "\(keyPath).name",
                           hint: Suggestion.hint(for: value.scalar ?? "", in: OptimizerSettings.Name.allCases.map(\.rawValue))
                               ?? "use \(OptimizerSettings.Name.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }
        let lr = reader.required("lr", what: "the learning rate").flatMap { number($0, keyPath: "\(keyPath).lr", range: 1e-12...10) }
        var scopeRates = [String: Double]()
        if let rates = reader.optional("lr_scopes") {
            for entry in rates.entries ?? [] {
                guard let scope = entry.key.scalar else { continue }
                _ = scopes(entry.key, keyPath: "\(keyPath).lr_scopes", required: true)
                if let rate = number(entry.value, keyPath: "\(keyPath).lr_scopes.\(scope)", range: 1e-12...10) { scopeRates[scope] = rate }
            }
        }
        let weightDecay = reader.optional("weight_decay").flatMap { number($0, keyPath: "\(keyPath).weight_decay", range: 0...10) } ?? 0.01
        var betas = [0.9, 0.999]
        if let node = reader.optional("betas") {
            let values = (node.items ?? []).compactMap { number($0, keyPath: "\(keyPath).betas", range: 0...0.999999) }
            if values.count == 2 { betas = values } else { sink.error("betas must be two numbers in [0, 1), such as [0.9, 0.98]", at: node, keyPath: "\(keyPath).betas") }
        }
        let epsilon = reader.optional("eps").flatMap { number($0, keyPath: "\(keyPath).eps", range: 1e-20...1) } ?? 1e-8
        let warmup = reader.optional("warmup").flatMap { number($0, keyPath: "\(keyPath).warmup", range: 0...0.99) } ?? 0
        var decay = OptimizerSettings.Decay.linear
        if let value = reader.optional("decay") {
            if let text = value.scalar, let parsed = OptimizerSettings.Decay(rawValue: text) { decay = parsed } else {
                sink.error("unknown decay '\(value.scalar ?? value.kindDescription)'", at: value, keyPath: "\(keyPath).decay",
                           hint: "use \(OptimizerSettings.Decay.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }
        let clip = reader.optional("clip_norm").flatMap { number($0, keyPath: "\(keyPath).clip_norm", range: 1e-6...1e6) }
        var momentum = 0.0
        if let node = reader.optional("momentum") {
            if name != .sgd { sink.error("momentum is an SGD setting; \(name.rawValue) has betas", at: node, keyPath: "\(keyPath).momentum") }
            momentum = number(node, keyPath: "\(keyPath).momentum", range: 0...0.999999) ?? 0
        }
        reader.finish(context: "optimizer")
        guard let lr else { return nil }
        return OptimizerSettings(name: name, learningRate: lr, scopeLearningRates: scopeRates, weightDecay: weightDecay, betas: betas,
                                 epsilon: epsilon, warmup: warmup, decay: decay, clipNorm: clip, momentum: momentum)
    }

    // MARK: - k-means stages

    func decodeKMeans(_ node: YAMLNode, keyPath: String, earlier: [Stage]) -> KMeansStage? {
        guard var reader = MappingReader(node, keyPath: keyPath, sink: sink, what: "kmeans") else { return nil }
        let before = sink.diagnostics.count
        var from = ""
        if let value = reader.required("from", what: "the training stage whose model is tapped") {
            from = value.scalar ?? ""
            if !trainNames(earlier).contains(from) && !failed.names.contains(from) {
                sink.error("kmeans reads the model of '\(from)', which is not an earlier training stage", at: value, keyPath: "\(keyPath).from",
                           hint: Suggestion.hint(for: from, in: trainNames(earlier)) ?? "earlier training stages: \(trainNames(earlier).joined(separator: ", "))")
            }
        }
        var taps = [String]()
        if let value = reader.required("taps", what: "the tapped layers, such as [hidden.6, hidden.9]") {
            var names = [(String, YAMLNode)]()
            if let items = value.items {
                for item in items {
                    if let text = name(item, keyPath: "\(keyPath).taps") { names.append((text, item)) } else if item.scalar == nil {
                        sink.error("a tap is a name such as hidden.6, got \(item.kindDescription)", at: item, keyPath: "\(keyPath).taps")
                    }
                }
            } else if let evaluated = evaluate(value, keyPath: "\(keyPath).taps") {
                let list: [ConfigValue]
                if case let .list(items) = evaluated { list = items } else { list = [evaluated] }
                for item in list { names.append((item.description, value)) }
            }
            for (tap, item) in names {
                if graph.taps.contains(where: { $0.name == tap }) { taps.append(tap) } else {
                    sink.error("unknown tap '\(tap)'", at: item, keyPath: "\(keyPath).taps",
                               hint: Suggestion.hint(for: tap, in: graph.taps.map(\.name)) ?? "taps: \(graph.taps.map(\.name).joined(separator: ", "))")
                }
            }
        }
        var ks = [Int]()
        if let value = reader.required("k", what: "cluster counts, such as [64, 512, 4096]"), let evaluated = evaluate(value, keyPath: "\(keyPath).k") {
            let items: [ConfigValue]
            if case let .list(list) = evaluated { items = list } else { items = [evaluated] }
            for item in items {
                if case let .int(k) = item, k >= 2 { ks.append(k) } else {
                    sink.error("cluster counts must be integers of at least 2, got \(item.typeName) \(item)", at: value, keyPath: "\(keyPath).k")
                }
            }
        }
        let iterations = integer(reader.optional("iterations"), keyPath: "\(keyPath).iterations", default: 100, at: node, minimum: 1) ?? 100
        let fraction = reader.optional("sample_fraction").flatMap { number($0, keyPath: "\(keyPath).sample_fraction", range: 1e-6...1) } ?? 1
        let seed = integer(reader.optional("seed"), keyPath: "\(keyPath).seed", default: 0, at: node, minimum: 0) ?? 0
        var fitOn = "train"
        if let value = reader.optional("fit_on") {
            fitOn = value.scalar ?? ""
            if fitOn != "train" {
                sink.error("kmeans can only be fitted on the training split, got '\(fitOn)'", at: value, keyPath: "\(keyPath).fit_on",
                           hint: "fitting pseudo-labels on validation or test utterances leaks them into training")
            }
        }
        reader.finish(context: "kmeans")
        guard sink.diagnostics.count == before else { return nil }
        return KMeansStage(from: from, taps: taps, k: ks, iterations: iterations, sampleFraction: fraction, fitOn: fitOn, seed: seed)
    }

    // MARK: - Pieces

    func trainNames(_ stages: [Stage]) -> [String] {
        stages.compactMap { if case .train = $0.kind { $0.name } else { nil } }
    }

    func graphValue(_ name: String) -> ValueID? {
        graph.outputs.first { $0.name == name }?.value ?? graph.taps.first { $0.name == name }?.value
    }

    /// A graph output or tap.
    func valueName(_ node: YAMLNode, keyPath: String) -> String? {
        guard let name = name(node, keyPath: keyPath), graphValue(name) != nil else {
            let names = graph.outputs.map(\.name) + graph.taps.map(\.name)
            let text = name(node, keyPath: keyPath) ?? node.scalar ?? node.kindDescription
            sink.error("unknown output or tap '\(text)'", at: node, keyPath: keyPath,
                       hint: Suggestion.hint(for: text, in: names) ?? "outputs: \(graph.outputs.map(\.name).joined(separator: ", "))")
            return nil
        }
        return name
    }

    /// A data label, or `stage.tap.kK` pseudo-labels of an earlier kmeans stage.
    func targetName(_ node: YAMLNode, keyPath: String, earlier: [Stage]) -> String? {
        guard let text = name(node, keyPath: keyPath) else { return nil }
        if Self.dataLabels.contains(text) { return text }
        var pseudo = [String]()
        for stage in earlier {
            guard case let .kmeans(kmeans) = stage.kind else { continue }
            for tap in kmeans.taps { for k in kmeans.k { pseudo.append("\(stage.name).\(tap).k\(k)") } }
        }
        if pseudo.contains(text) { return text }
        if let stage = text.split(separator: ".").first.map(String.init), failed.names.contains(stage) { return nil }
        sink.error("unknown target '\(text)'", at: node, keyPath: keyPath,
                   hint: Suggestion.hint(for: text, in: Self.dataLabels + pseudo)
                       ?? "targets: \((Self.dataLabels + pseudo).joined(separator: ", "))")
        return nil
    }

    /// Parameter scopes: each must be a prefix (at a dot) of some parameter's name.
    func scopes(_ node: YAMLNode?, keyPath: String, required: Bool) -> [String] {
        guard let node else {
            if required { sink.error("missing the parameter scopes that train, such as [encoder, heads]", at: nil, keyPath: keyPath) }
            return []
        }
        let parameters = graph.parameterNodes.compactMap { node -> String? in if case let .parameter(name, _) = node.op { name } else { nil } }
        var prefixes = Set<String>()
        for name in parameters {
            var prefix = ""
            for part in name.split(separator: ".") {
                prefix = prefix.isEmpty ? String(part) : "\(prefix).\(part)"
                prefixes.insert(prefix)
            }
        }
        // A list, one scope, or a `${...}` expression giving either (`freeze: "${frozen}"`).
        var named = [(scope: String, node: YAMLNode)]()
        if let text = node.scalar, Interpolation.containsInterpolation(text) {
            guard let value = evaluate(node, keyPath: keyPath) else { return [] }
            let items: [ConfigValue] = if case let .list(items) = value { items } else { [value] }
            for item in items {
                guard let scope = item.stringValue else {
                    sink.error("a parameter scope is a name such as encoder, got \(item.typeName) \(item)", at: node, keyPath: keyPath)
                    continue
                }
                named.append((scope, node))
            }
        } else {
            for item in node.items ?? [node] {
                if let scope = item.scalar { named.append((scope, item)) }
            }
        }
        var result = [String]()
        for (scope, item) in named {
            if prefixes.contains(scope) { result.append(scope) } else {
                let tops = Set(parameters.compactMap { $0.split(separator: ".").first.map(String.init) }).sorted()
                sink.error("no parameter is in scope '\(scope)'", at: item, keyPath: keyPath,
                           hint: Suggestion.hint(for: scope, in: prefixes.sorted()) ?? "top-level scopes: \(tops.joined(separator: ", "))")
            }
        }
        return result
    }

    /// A name scalar with its `{...}` templates expanded from the config (`hidden.{gmp_layers[0]}`).
    func name(_ node: YAMLNode, keyPath: String) -> String? {
        guard let text = node.scalar else { return nil }
        guard Interpolation.containsInterpolation(text) || text.contains("{") else { return text }
        do { return try Interpolation.expandTemplate(text, at: node.location, scope: scope) } catch {
            sink.absorb(error, keyPath: keyPath)
            return nil
        }
    }

    func evaluate(_ node: YAMLNode, keyPath: String) -> ConfigValue? {
        do { return try ConfigTable.literal(node, scope: scope) } catch {
            sink.absorb(error, keyPath: keyPath)
            return nil
        }
    }

    func number(_ node: YAMLNode, keyPath: String, range: ClosedRange<Double>) -> Double? {
        guard let value = evaluate(node, keyPath: keyPath) else { return nil }
        var isBool = false
        if case .bool = value { isBool = true }
        guard let number = value.doubleValue, !isBool else {
            sink.error("expected a number, got \(value.typeName) \(value)", at: node, keyPath: keyPath)
            return nil
        }
        guard range.contains(number) else {
            sink.error("\(keyPath.split(separator: ".").last ?? "") must be in [\(range.lowerBound), \(range.upperBound)], got \(value)", at: node, keyPath: keyPath)
            return nil
        }
        return number
    }

    func integer(_ node: YAMLNode?, keyPath: String, default fallback: Int?, at owner: YAMLNode, minimum: Int) -> Int? {
        guard let node else {
            if fallback == nil { sink.error("missing '\(keyPath.split(separator: ".").last ?? "")'", at: owner, keyPath: keyPath) }
            return fallback
        }
        guard let value = evaluate(node, keyPath: keyPath) else { return nil }
        guard case let .int(number) = value else {
            sink.error("expected an integer, got \(value.typeName) \(value)", at: node, keyPath: keyPath)
            return nil
        }
        guard number >= minimum else {
            sink.error("\(keyPath.split(separator: ".").last ?? "") must be at least \(minimum), got \(number)", at: node, keyPath: keyPath)
            return nil
        }
        return number
    }
}

extension String {
    fileprivate func replacingOccurrences(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}

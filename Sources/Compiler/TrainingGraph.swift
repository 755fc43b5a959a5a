import GraphIR

/// The graph one training stage runs: the model, the stage's losses as nodes, and the backward pass.
///
/// Outputs, besides the model's: `loss` (the weighted sum the optimiser minimises), `loss.<name>` per loss term,
/// and `grad.<parameter>` per trained parameter. Inputs, besides the model's: the targets each loss reads
/// (`targets.<label>`, i32, one per utterance or one per frame) and, for losses with class weights or over the
/// time-masked frames (`frames: masked`, whose mask comes from the time-mask node upstream; weights 1 when none),
/// `class_weights.<loss>` (f32 `[classes]`, supplied by the runner: `balanced` needs the training split's class
/// counts).
public struct TrainingGraph: Sendable {
    /// A targets input: the label it reads from the data and whether there is one per frame.
    public struct Targets: Hashable, Sendable {
        public var input: String
        /// A label of the data (`emotion`, `gender`) or pseudo-labels (`pseudo_labels.hidden.6.k64`).
        public var label: String
        public var perFrame: Bool
        /// The number of classes of the loss reading it.
        public var classes: Int
    }

    /// A class-weights input and how its values are chosen.
    public struct ClassWeights: Hashable, Sendable {
        public var input: String
        public var loss: String
        public var label: String
        public var classes: Int
        public var rule: TrainingObjective.Term.ClassWeights
    }

    /// A loss term as the runner needs to know it: what it reads and what its mean divides by. A data-parallel
    /// runner computes each term's divisor over its shard and over the whole batch, and feeds their ratio as the
    /// term's scale, so that the shards' scaled losses (and gradients) add up to the whole batch's.
    public struct Term: Hashable, Sendable {
        public enum Kind: Hashable, Sendable {
            /// Divides by the sum of the counted rows' class weights (times the frame mask): target not -100 and in
            /// 0 ..< classes.
            case crossEntropy
            /// Divides by the number of rows whose target is in 0 ..< classes.
            case amSoftmax
        }

        public var name: String
        public var kind: Kind
        /// The targets input it reads (`targets.<label>`).
        public var targets: String
        public var perFrame: Bool
        public var classes: Int
        /// Its class-weights input, if any.
        public var classWeights: String?
        /// For a loss over the time-masked frames: the time-mask node whose mask it counts.
        public var timeMask: Node?
        /// Its scale input (`loss_scale.<name>`, f32 scalar), when the graph was built with term scales.
        public var scale: String?
    }

    public var stage: String
    public var graph: Graph
    public var lossNames: [String]
    public var terms: [Term]
    public var targets: [Targets]
    public var classWeights: [ClassWeights]
    /// The trained parameters that get a gradient (`grad.<name>` outputs), in graph order.
    public var trainedParameters: [String]
    /// Parameters the stage lists as trained that the losses do not reach (they get no update).
    public var unreachedParameters: [String]

    /// Builds the training graph of `objective` over `model`. With `termScales`, each loss term is multiplied by a
    /// scalar input `loss_scale.<name>` before it is weighted and summed (its `loss.<name>` output is the scaled
    /// value): data-parallel training feeds each shard's share of the whole batch's divisor there.
    public init(model: Graph, objective: TrainingObjective, termScales: Bool = false) throws(CompileError) {
        let stage = (name: objective.stage, location: objective.location)
        self.stage = stage.name
        var builder = GraphBuilder(extending: model)
        let named = model.outputs + model.taps
        var targetInputs = [String: (value: ValueID, targets: Targets)]()
        var classWeights = [ClassWeights]()
        var terms = [(name: String, value: ValueID, weight: Double)]()
        var described = [Term]()
        var problems = [Diagnostic]()

        for loss in objective.terms {
            guard let source = named.first(where: { $0.name == loss.input }) else {
                problems.append(Diagnostic("loss '\(loss.name)' reads '\(loss.input)', which is not an output or tap of the model",
                                           at: stage.location, hint: Suggestion.hint(for: loss.input, in: named.map(\.name))))
                continue
            }
            let type = model[source.value].type
            guard type.dtype == .f32, type.rank >= 2, let classes = type.shape.last?.constantValue else {
                problems.append(Diagnostic("loss '\(loss.name)' needs scores of shape [B, C] or [B, T, C] with a constant C, got '\(loss.input)': \(type)",
                                           at: stage.location))
                continue
            }
            // One targets input per label, shared by the losses that read it.
            let targetShape = Array(type.shape.dropLast())
            let targets: ValueID
            if let existing = targetInputs[loss.target] {
                guard existing.targets.perFrame == (type.rank == 3) else {
                    problems.append(Diagnostic("label '\(loss.target)' is read per utterance by one loss and per frame by another", at: stage.location))
                    continue
                }
                targets = existing.value
            } else {
                let input = "targets.\(loss.target)"
                targets = builder.input(input, TensorType(.i32, targetShape), at: stage.location)
                targetInputs[loss.target] = (targets, Targets(input: input, label: loss.target, perFrame: type.rank == 3, classes: classes))
            }
            let lossValue: ValueID
            switch loss.kind {
            case .crossEntropy:
                var inputs = [source.value, targets]
                // Over the time-masked frames: the mask of the time-mask node the scores come from.
                var frameMask: ValueID?
                if loss.maskedFramesOnly {
                    guard type.rank == 3, let mask = Self.timeMask(upstreamOf: source.value, in: model) else {
                        problems.append(Diagnostic(
                            "loss '\(loss.name)' counts the time-masked frames (`frames: masked`), but '\(loss.input)' is \(type.rank == 3 ? "not computed from a time_mask node" : "not per frame (\(type))")",
                            at: stage.location, hint: "use `frames: valid` for every valid frame"))
                        continue
                    }
                    frameMask = mask
                }
                if loss.classWeights != .none || frameMask != nil {
                    if case let .explicit(values) = loss.classWeights, values.count != classes {
                        problems.append(Diagnostic("loss '\(loss.name)' gives \(values.count) class weights for \(classes) classes", at: stage.location))
                        continue
                    }
                    let input = "class_weights.\(loss.name)"
                    inputs.append(builder.input(input, .f32([Dim(classes)]), at: stage.location))
                    classWeights.append(ClassWeights(input: input, loss: loss.name, label: loss.target, classes: classes, rule: loss.classWeights))
                }
                if let frameMask { inputs.append(frameMask) }
                lossValue = builder.add(.crossEntropy(ignoreIndex: -100), inputs, name: "loss.\(loss.name)", at: stage.location)[0]
                described.append(Term(name: loss.name, kind: .crossEntropy, targets: "targets.\(loss.target)", perFrame: type.rank == 3,
                                      classes: classes, classWeights: inputs.count > 2 ? "class_weights.\(loss.name)" : nil,
                                      timeMask: frameMask.map { model[model[$0].producer] }))

            case let .amSoftmax(scale, margin):
                let producer = model.producer(of: source.value)
                guard case .cosineSimilarity = producer.op else {
                    problems.append(Diagnostic("am_softmax loss '\(loss.name)' needs the output of a cosine_similarity node, but '\(loss.input)' is made by \(producer.op.name) '\(producer.name)'",
                                               at: stage.location))
                    continue
                }
                lossValue = builder.add(.amSoftmax(scale: Float(scale), margin: Float(margin)),
                                        [producer.inputs[0], producer.inputs[1], targets], name: "loss.\(loss.name)", at: stage.location)[0]
                described.append(Term(name: loss.name, kind: .amSoftmax, targets: "targets.\(loss.target)", perFrame: type.rank == 3,
                                      classes: classes))
            }
            if termScales {
                let input = "loss_scale.\(loss.name)"
                let scale = builder.input(input, .f32([]), at: stage.location)
                described[described.count - 1].scale = input
                terms.append((loss.name, builder.add(.binary(.multiply), [lossValue, scale], name: "loss.\(loss.name).scaled", at: stage.location)[0],
                              loss.weight))
            } else {
                terms.append((loss.name, lossValue, loss.weight))
            }
        }
        guard problems.isEmpty, !terms.isEmpty else {
            throw CompileError(problems.isEmpty ? [Diagnostic("stage '\(stage.name)' has no loss switched on", at: stage.location)] : problems)
        }

        // The weighted sum.
        var total: ValueID?
        for term in terms {
            let weighted = term.weight == 1 ? term.value
                : builder.add(.scale(Float(term.weight)), [term.value], name: "loss.\(term.name).weighted", at: stage.location)[0]
            total = total.map { builder.add(.binary(.add), [$0, weighted], name: "loss.sum", at: stage.location)[0] } ?? weighted
        }
        guard let total, builder.diagnostics.isEmpty else { throw CompileError(builder.diagnostics) }

        let trained = Self.isTrained(train: objective.train, freeze: objective.freeze)
        let gradients = try Autodiff.appendGradients(of: total, to: &builder, isTrainable: trained)
        var outputs = model.outputs
        outputs.append(NamedValue("loss", total, at: stage.location))
        for term in terms { outputs.append(NamedValue("loss.\(term.name)", term.value, at: stage.location)) }
        for (name, gradient) in gradients { outputs.append(NamedValue("grad.\(name)", gradient)) }
        builder.setOutputs(outputs, taps: model.taps)
        do { graph = try builder.finish() } catch { throw CompileError(error.diagnostics) }

        lossNames = terms.map(\.name)
        self.terms = described
        targets = targetInputs.values.map(\.targets).sorted { $0.input < $1.input }
        self.classWeights = classWeights
        trainedParameters = gradients.map(\.name)
        let reached = Set(trainedParameters)
        unreachedParameters = model.parameterNodes.compactMap { node in
            guard case let .parameter(name, _) = node.op, trained(name), !reached.contains(name) else { return nil }
            return name
        }
    }

    /// The mask output of the time-mask node nearest upstream of `value` (breadth first), if any.
    static func timeMask(upstreamOf value: ValueID, in graph: Graph) -> ValueID? {
        var queue = [graph[value].producer], seen = Set<NodeID>(), next = 0
        while next < queue.count {
            let node = graph[queue[next]]
            next += 1
            if case .timeMask = node.op, node.outputs.count > 1 { return node.outputs[1] }
            for input in node.inputs where seen.insert(graph[input].producer).inserted { queue.append(graph[input].producer) }
        }
        return nil
    }

    /// Whether a parameter trains: inside a `train` scope and not inside a `freeze` scope (scopes are name prefixes
    /// at a dot).
    public static func isTrained(train: [String], freeze: [String]) -> (String) -> Bool {
        { name in
            func covers(_ scope: String) -> Bool { name == scope || name.hasPrefix(scope + ".") }
            return train.contains(where: covers) && !freeze.contains(where: covers)
        }
    }
}

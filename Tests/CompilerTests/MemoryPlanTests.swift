@testable import Compiler
import Foundation
import GraphIR
import GraphSpec
import Runtime
import SER
import Testing

/// The memory plan: liveness over the schedule, views and in-place outputs, greedy-by-size best-fit offsets; the
/// checker finds no two values alive at the same time whose bytes overlap.
@Suite("Memory planning")
struct MemoryPlanTests {
    @Test("a chain: in place and views share one buffer, the arena meets the live-set bound")
    func chain() throws {
        var b = GraphBuilder(name: "chain")
        let x = b.input("x", .f32([256]))
        let a = b.add(.unary(.tanh), [x], name: "a")[0]              // own storage A (x is the caller's)
        let scaled = b.add(.scale(2), [a], name: "b")[0]              // in place over A
        let view = b.add(.reshape([16, 16]), [scaled], name: "c")[0]  // a view of A
        let back = b.add(.reshape([256]), [view], name: "c2")[0]      // a view of A
        let sum = b.add(.binary(.add), [back, x], name: "d")[0]       // own storage D (binary ops are not in place)
        let both = b.add(.concat(axis: 0), [sum, sum], name: "e")[0]  // fetched: outside the arena (2 KiB)
        b.setOutputs([NamedValue("e", both)], taps: [])
        let plan = try ExecutionPlan.compile(try b.finish(), fetch: ["e"], mode: .inference, optimize: false)
        let memory = try #require(MemoryPlan.make(plan, symbols: [:]))
        #expect(memory.naiveBytes == 5 * 1024 + 2048)
        #expect(memory.outsideBytes == 2048, "the fetched e gets its own buffer")
        #expect(memory.lowerBound == 2048, "A (read by d) and D alive together at d")
        #expect(memory.arenaBytes == 2048)
        #expect(memory.overlaps().isEmpty)
        let shared = memory.placements.compactMap { $0 }.filter { $0.sharesWith != nil }.count
        #expect(shared == 3, "b, c and c2 reuse a's storage")
    }

    @Test("the checker finds two live values in the same bytes")
    func checkerFindsOverlaps() {
        func placement(_ value: Int, offset: Int, first: Int, last: Int) -> MemoryPlan.Placement {
            MemoryPlan.Placement(value: ValueID(value), offset: offset, bytes: 1024, first: first, last: last, sharesWith: nil, isPersistent: false)
        }
        let workspace = MemoryPlan.AuxiliaryPlacement(node: 4, ordinal: 0, role: .workspace, offset: 512, bytes: 64, first: 4, last: 4)
        let bad = MemoryPlan(placements: [placement(0, offset: 0, first: 0, last: 2), placement(1, offset: 512, first: 2, last: 3),
                                          placement(2, offset: 0, first: 3, last: 4)],
                             auxiliary: [[], [], [], [], [workspace]],
                             arenaBytes: 1536, naiveBytes: 3072, lowerBound: 2048, peakPosition: 2, nodesAtPeak: [], persistentBytes: 0,
                             outsideBytes: 0)
        #expect(bad.overlaps().map { [$0.0, $0.1] } == [[.value(ValueID(0)), .value(ValueID(1))], [.value(ValueID(1)), .value(ValueID(2))],
                                                        [.value(ValueID(2)), .auxiliary(node: 4, ordinal: 0)]])
    }

    @Test("an input read later is not overwritten in place")
    func noUnsafeInPlace() throws {
        var b = GraphBuilder(name: "reads")
        let x = b.input("x", .f32([64]))
        let a = b.add(.unary(.tanh), [x], name: "a")[0]
        let c = b.add(.unary(.gelu), [a], name: "c")[0]          // a is read again by d: c cannot take its place
        let d = b.add(.binary(.add), [a, c], name: "d")[0]        // own storage
        let f = b.add(.unary(.relu), [d], name: "f")[0]           // in place over d (it dies here)
        let e = b.add(.binary(.multiply), [f, f], name: "e")[0]   // own storage
        b.setOutputs([NamedValue("e", e)], taps: [])
        let plan = try ExecutionPlan.compile(try b.finish(), fetch: ["e"], mode: .inference, optimize: false)
        let memory = try #require(MemoryPlan.make(plan, symbols: [:]))
        let byName = Dictionary(uniqueKeysWithValues: plan.program.nodes.map { ($0.name, memory.placements[$0.outputs[0].index]) })
        #expect(byName["c"]??.sharesWith == nil)
        #expect(byName["d"]??.sharesWith == nil)
        #expect(byName["f"]??.sharesWith != nil)
        #expect(byName["e"]??.sharesWith == nil)
        #expect(memory.overlaps().isEmpty)
    }

    @Test("a value read only for its shape by a gradient node dies at its last real read (add_grad reads neither operand)")
    func gradientReads() throws {
        var b = GraphBuilder(name: "reads")
        let x = b.input("x", .f32([4, 8]))
        let w = b.parameter("w", shape: [8, 8])
        let h = b.add(.linear, [x, w], name: "h")[0]
        let g = b.add(.unary(.gelu), [h], name: "g")[0]
        let sum = b.add(.binary(.add), [h, g], name: "s")[0]
        let loss = b.add(.reduce(.sum, axes: [0, 1], keepDims: false), [sum], name: "loss")[0]
        let gradients = try Autodiff.appendGradients(of: loss, to: &b) { _ in true }
        b.setOutputs([NamedValue("loss", loss)] + gradients.map { NamedValue("grad.\($0.name)", $0.gradient) }, taps: [])
        let plan = try ExecutionPlan.compile(try b.finish(), fetch: ["loss", "grad.w"], mode: .training)
        let memory = try #require(MemoryPlan.make(plan, symbols: [:]))
        let index = Dictionary(uniqueKeysWithValues: plan.program.nodes.enumerated().map { ($1.name, $0) })
        let gelu = try #require(plan.program.nodes.first { $0.name == "g" })
        let hNode = try #require(plan.program.nodes.first { $0.name == "h" })
        #expect(memory.placements[gelu.outputs[0].index]?.last == index["s"], "g's last real read is the forward add")
        let hLast = try #require(memory.placements[hNode.outputs[0].index]?.last)
        #expect(hLast == index["grad.g"], "h lives until gelu's gradient reads it")
        #expect(memory.overlaps().isEmpty)
    }

    @Test("a step that drops layers: only the nodes that run are placed, aliases read their source's storage")
    func droppedLayers() throws {
        var b = GraphBuilder(name: "drops")
        var x = b.parameter("x", shape: [3, 5])
        for layer in 0..<6 {
            let w = b.parameter("w\(layer)", shape: [5, 5])
            let y = b.add(.unary(.tanh), [b.add(.linear, [x, w], name: "linear\(layer)")[0]], name: "tanh\(layer)")[0]
            x = b.add(.layerDrop(probability: 0.5), [x, y], name: "drop\(layer)")[0]
        }
        let loss = b.add(.reduce(.sum, axes: [0, 1], keepDims: false), [x], name: "loss")[0]
        let gradients = try Autodiff.appendGradients(of: loss, to: &b) { _ in true }
        b.setOutputs([NamedValue("loss", loss)] + gradients.map { NamedValue("grad.\($0.name)", $0.gradient) }, taps: [])
        let plan = try ExecutionPlan.compile(try b.finish(), fetch: ["loss"] + gradients.map { "grad.\($0.name)" }, mode: .training)
        let layerDrop = LayerDropPlan(program: plan.program, wanted: plan.fetched.map(\.value)) { node, _ in
            ["drop1", "drop2", "drop4"].contains(node.name)
        }
        #expect(layerDrop.dropsLayers)
        let memory = try #require(MemoryPlan.make(plan, symbols: [:], layerDrop: layerDrop))
        #expect(memory.overlaps().isEmpty)
        for (index, node) in plan.program.nodes.enumerated() where !layerDrop.runs[index] {
            #expect(node.outputs.allSatisfy { memory.placements[$0.index] == nil }, "\(node.name) does not run")
        }
        let tanh1 = try #require(plan.program.nodes.first { $0.name == "tanh1" })
        #expect(memory.placements[tanh1.outputs[0].index] == nil, "a dropped layer's nodes are not placed")
        let full = try #require(MemoryPlan.make(plan, symbols: [:]))
        #expect(memory.naiveBytes < full.naiveBytes)
    }

    @Test("graphs/gmp_tl.yaml with a tiny backbone: inference and every training stage plan without overlaps, near the bound")
    func gmpTL() throws {
        let root = WholeModelGradientTests.root
        let tiny = ["backbone.features.channels=8", "backbone.encoder.hidden=16", "backbone.encoder.heads=2",
                    "backbone.encoder.intermediate=32", "backbone.encoder.layers=2", "backbone.encoder.pos_kernel=8",
                    "backbone.encoder.pos_groups=2", "gmp_layers=[1, 2]", "lstm_hidden=8", "projection=8", "frame_head_hidden=8",
                    "k=[4, 8]"]
        let spec = try SpecCompiler.compile(path: root.appendingPathComponent("graphs/gmp_tl.yaml").path, overrides: tiny)
        var plans = [try ExecutionPlan.compile(spec.graph, fetch: spec.graph.outputs.map(\.name).filter { !$0.hasPrefix("frame") },
                                               mode: .inference)]
        for stage in spec.stages {
            guard case .train = stage.kind else { continue }
            let training = try TrainingGraph(model: spec.graph, stage: stage)
            plans.append(try ExecutionPlan.compile(training.graph, fetch: ["loss"] + training.trainedParameters.map { "grad.\($0)" },
                                                   mode: .training))
        }
        #expect(plans.count >= 4)
        for plan in plans {
            for batch in [1, 3] {
                let memory = try #require(MemoryPlan.make(plan, symbols: ["B": batch, "S": 16_000, "T": 49],
                                                          auxiliary: Interpreter.auxiliaryBuffers))
                #expect(memory.auxiliaryBytes(.workspace) > 0)
                if plan.mode == .training { #expect(memory.auxiliaryBytes(.saved) > 0, "layer-norm statistics kept for the backward") }
                #expect(memory.overlaps().isEmpty, "\(plan.program.name) \(plan.mode) B = \(batch)")
                #expect(memory.arenaBytes >= memory.lowerBound)
                #expect(Double(memory.arenaBytes) <= 1.15 * Double(memory.lowerBound), "\(plan.mode) B = \(batch): \(memory.arenaBytes) against \(memory.lowerBound)")
                #expect(memory.naiveBytes > memory.lowerBound)
            }
        }
    }
}

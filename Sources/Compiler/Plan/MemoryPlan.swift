import GraphIR

/// Where the values of a plan live for one set of concrete shapes: offsets in one arena, planned from liveness over
/// the plan's schedule.
///
/// - Inputs and parameters are the caller's (not in the arena); in inference, results of nodes that read parameters
///   only are cached constants (a persistent region of their own). Fetched values get buffers of their own outside
///   the arena (the caller keeps them after the run, when the arena serves the next one), and so do outputs the
///   runtime keeps for a gradient node (`Op.outputsKeptForGradient`).
/// - A value lives from the node that makes it to the last node that reads its elements (`Op.readsElements`: a
///   gradient node receives its forward node's inputs and output, but `add_grad`, say, reads neither). An output may share
///   its input's storage: always for a view (`reshape`), and in place when the op's kernel allows it
///   (`Op.aliasing`) and the input dies at that node and has the output's size.
/// - Storage is placed greedy by size, best fit (TFLite's arena planner): the largest first, each into the smallest
///   gap between storage alive at the same time, else at the end. Offsets are aligned to 64 bytes.
///
/// - What a kernel needs besides its outputs (`AuxiliaryBuffer`: the Runtime says how much for its kernels) is placed
///   the same way: a workspace lives at its node only; what a forward node saves for its gradient node (layer-norm
///   statistics, the LSTM's gates) lives from the forward node to the gradient node that reads it.
public struct MemoryPlan: Sendable {
    /// Storage a node's kernel takes besides its outputs, in the order the kernel asks for it.
    public struct AuxiliaryBuffer: Sendable, Equatable {
        public enum Role: Sendable, Equatable {
            /// Scratch for the node's own call.
            case workspace
            /// Kept for the node's gradient node (a workspace when no gradient node runs).
            case saved
        }

        public var role: Role
        public var bytes: Int

        public init(_ role: Role, bytes: Int) {
            self.role = role
            self.bytes = bytes
        }
    }

    /// The auxiliary buffers of a node, given the concrete shape of each value of the program.
    public typealias AuxiliaryBuffers = (_ node: Node, _ shape: (ValueID) -> [Int]) -> [AuxiliaryBuffer]

    /// Where one auxiliary buffer of a node lives.
    public struct AuxiliaryPlacement: Sendable, Equatable {
        /// The node's index in the program, and which of its buffers (in the order its kernel asks).
        public var node: Int
        public var ordinal: Int
        public var role: AuxiliaryBuffer.Role
        public var offset: Int
        public var bytes: Int
        /// The schedule positions during which the buffer is live, both ends included.
        public var first: Int
        public var last: Int
    }

    /// One value's storage.
    public struct Placement: Sendable, Equatable {
        public var value: ValueID
        /// Byte offset in the arena (or in the persistent region for cached constants).
        public var offset: Int
        public var bytes: Int
        /// The schedule positions (node indices) during which the storage is live, both ends included.
        public var first: Int
        public var last: Int
        /// The value whose storage this one reuses (a view or an in-place output), if any.
        public var sharesWith: ValueID?
        public var isPersistent: Bool
    }

    /// Placements of every value made by a node of the program (not inputs or parameters), by value index.
    public let placements: [Placement?]
    /// The auxiliary buffers of each node (workspaces, saved statistics), by node index.
    public let auxiliary: [[AuxiliaryPlacement]]
    /// The planned arena size.
    public let arenaBytes: Int
    /// Every value in a buffer of its own, none released: what no planning costs.
    public let naiveBytes: Int
    /// The most bytes alive at one time: no placement can do better.
    public let lowerBound: Int
    /// The schedule position where the lower bound is reached, and the nodes whose outputs are alive there.
    public let peakPosition: Int
    public let nodesAtPeak: [String]
    /// Cached constants (weight-normalised weights in inference).
    public let persistentBytes: Int
    /// Fetched values and outputs kept for a gradient node: buffers of their own, outside the arena.
    public let outsideBytes: Int

    /// The share of the arena that is not alive at the peak.
    public var fragmentation: Double { arenaBytes == 0 ? 0 : 1 - Double(lowerBound) / Double(arenaBytes) }

    static let alignment = 64

    /// Plans `plan` for concrete symbol values (`B`, `S`, ...); nil when a shape does not evaluate. For a training
    /// step that drops layers, `layerDrop` says which nodes run and which values are other values (their readers
    /// read the other value's storage) or zeros (made where read, outside the arena).
    ///
    /// `auxiliary` says what each node's kernel needs besides its outputs (nil: nothing is planned for that).
    public static func make(
        _ plan: ExecutionPlan, symbols: [String: Int], layerDrop: LayerDropPlan? = nil, auxiliary: AuxiliaryBuffers? = nil
    ) -> MemoryPlan? {
        let program = plan.program
        var bytes = [Int](repeating: 0, count: program.values.count)
        var shapes = [[Int]](repeating: [], count: program.values.count)
        for value in program.values {
            var shape = [Int]()
            for dim in value.type.shape {
                guard let size = dim.evaluate(symbols), size >= 0 else { return nil }
                shape.append(size)
            }
            shapes[value.id.index] = shape
            bytes[value.id.index] = shape.reduce(1, *) * 4  // f32 and i32
        }
        let end = program.nodes.count
        let runs = layerDrop?.runs
        /// The value whose storage a value is (itself unless layers are dropped), nil for zeros.
        func source(_ value: ValueID) -> ValueID? {
            guard let layerDrop else { return value }
            if case let .value(source) = layerDrop.source(of: value) { return source }
            return nil
        }
        // The last node that reads each value's elements.
        var lastRead = [Int?](repeating: nil, count: program.values.count)
        for (index, node) in program.nodes.enumerated() where runs?[index] ?? true {
            for (input, reads) in zip(node.inputs, node.op.readsElements(inputCount: node.inputs.count)) where reads {
                if let read = source(input) { lastRead[read.index] = index }
            }
        }
        // Storage groups: a value's storage is its own or another value's (views, in-place outputs).
        var storageOf = [Int](repeating: -1, count: program.values.count)
        var first = [Int](repeating: 0, count: program.values.count), last = [Int](repeating: 0, count: program.values.count)
        var members = [Int: [Int]]()
        var persistent = Set<Int>()
        var external = Set<Int>()
        var naive = 0, outside = 0
        let fetched = Set(plan.fetched.compactMap { source($0.value) })
        for (index, node) in program.nodes.enumerated() where runs?[index] ?? true {
            switch node.op {
            case .input, .parameter:
                for output in node.outputs { external.insert(output.index) }
                continue
            default: break
            }
            let cached = plan.mode == .inference && plan.readsParametersOnly[index]
            for (position, output) in node.outputs.enumerated() {
                let v = output.index
                naive += bytes[v]
                if fetched.contains(output) || node.op.outputsKeptForGradient.contains(position) {
                    external.insert(v)
                    outside += bytes[v]
                    continue
                }
                first[v] = index
                last[v] = lastRead[v] ?? index
                storageOf[v] = v
                if cached { persistent.insert(v) }
                guard position == 0, !cached else { continue }
                // Share an input's storage: a view always, in place when that input dies here with the output's size.
                func shareable(_ input: ValueID) -> Bool {
                    let i = input.index
                    return !external.contains(i) && !persistent.contains(storageOf[i]) && storageOf[i] >= 0
                }
                switch node.op.aliasing {
                case let .view(of: k) where k < node.inputs.count:
                    if let input = source(node.inputs[k]), shareable(input) { storageOf[v] = storageOf[input.index] }
                case let .inPlace(candidates):
                    for k in candidates where k < node.inputs.count {
                        guard let input = source(node.inputs[k]) else { continue }
                        let storage = shareable(input) ? storageOf[input.index] : -1
                        // The storage is free after this node: every value in it is read last here or earlier.
                        guard storage >= 0, bytes[input.index] == bytes[v], node.inputs.filter({ source($0) == input }).count == 1,
                              members[storage, default: [storage]].allSatisfy({ last[$0] <= index })
                        else { continue }
                        storageOf[v] = storage
                        break
                    }
                default: break
                }
                if storageOf[v] != v { members[storageOf[v], default: [storageOf[v]]].append(v) }
            }
        }
        // Storage ranges and sizes.
        var range = [Int: (first: Int, last: Int, bytes: Int)]()
        for v in program.values.indices where storageOf[v] >= 0 {
            let s = storageOf[v]
            let current = range[s] ?? (first[v], last[v], 0)
            range[s] = (min(current.first, first[v]), max(current.last, last[v]), max(current.bytes, bytes[v]))
        }
        // Auxiliary buffers: storage of their own, numbered after the values. A saved buffer lives until the
        // gradient node that reads it (to the end when that node does not run in this step).
        var gradientNode = [Int: Int]()
        for (index, forward) in plan.forwardNode.enumerated() where runs?[index] ?? true {
            if let forward { gradientNode[forward.index] = index }
        }
        var auxiliaryStorage = [(node: Int, ordinal: Int, role: AuxiliaryBuffer.Role, storage: Int)]()
        if let auxiliary {
            for (index, node) in program.nodes.enumerated() where runs?[index] ?? true {
                for (ordinal, buffer) in auxiliary(node, { shapes[$0.index] }).enumerated() {
                    let storage = program.values.count + auxiliaryStorage.count
                    let kept = buffer.role == .saved && plan.savesForGradient[index]
                    range[storage] = (index, kept ? (gradientNode[index] ?? end - 1) : index, buffer.bytes)
                    naive += buffer.bytes
                    auxiliaryStorage.append((index, ordinal, kept ? .saved : .workspace, storage))
                }
            }
        }

        // Lower bound and peak over the schedule (arena storage only).
        var live = [Int](repeating: 0, count: end + 1)
        for (s, r) in range where !persistent.contains(s) {
            for position in r.first...min(r.last, end) { live[position] += r.bytes }
        }
        let peak = live.indices.max { live[$0] < live[$1] } ?? 0
        let lowerBound = live.isEmpty ? 0 : live[peak]

        // Greedy by size, best fit.
        func aligned(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }
        var offsets = [Int: Int]()
        var placed = [(storage: Int, offset: Int, bytes: Int, first: Int, last: Int)]()
        var arena = 0
        for (s, r) in range.filter({ !persistent.contains($0.key) }).sorted(by: { ($0.value.bytes, -$0.key) > ($1.value.bytes, -$1.key) }) {
            let size = aligned(r.bytes)
            let busy = placed.filter { $0.first <= r.last && r.first <= $0.last }.sorted { $0.offset < $1.offset }
            var best: (offset: Int, gap: Int)?
            var cursor = 0
            for other in busy {
                let gap = other.offset - cursor
                if gap >= size, gap < (best?.gap ?? Int.max) { best = (cursor, gap) }
                cursor = max(cursor, other.offset + aligned(other.bytes))
            }
            let offset = best?.offset ?? cursor
            offsets[s] = offset
            placed.append((s, offset, r.bytes, r.first, r.last))
            arena = max(arena, offset + size)
        }
        var persistentBytes = 0
        for s in persistent.sorted() {
            offsets[s] = persistentBytes
            persistentBytes += aligned(range[s]?.bytes ?? 0)
        }

        var placements = [Placement?](repeating: nil, count: program.values.count)
        for v in program.values.indices where storageOf[v] >= 0 {
            let s = storageOf[v]
            guard let r = range[s], let offset = offsets[s] else { continue }
            placements[v] = Placement(value: ValueID(v), offset: offset, bytes: bytes[v], first: r.first, last: r.last,
                                      sharesWith: s == v ? nil : ValueID(s), isPersistent: persistent.contains(s))
        }
        var auxiliaryPlacements = [[AuxiliaryPlacement]](repeating: [], count: end)
        for buffer in auxiliaryStorage {
            guard let r = range[buffer.storage], let offset = offsets[buffer.storage] else { continue }
            auxiliaryPlacements[buffer.node].append(AuxiliaryPlacement(node: buffer.node, ordinal: buffer.ordinal, role: buffer.role,
                                                                       offset: offset, bytes: r.bytes, first: r.first, last: r.last))
        }
        let atPeak = program.nodes.filter { node in
            node.outputs.contains { output in
                let s = storageOf[output.index]
                guard s >= 0, !persistent.contains(s), let r = range[s] else { return false }
                return r.first <= peak && peak <= r.last
            }
        }.map(\.name)
        return MemoryPlan(placements: placements, auxiliary: auxiliaryPlacements, arenaBytes: arena, naiveBytes: naive, lowerBound: lowerBound, peakPosition: peak,
                          nodesAtPeak: atPeak, persistentBytes: persistentBytes, outsideBytes: outside)
    }

    /// Pairs of arena values alive at the same time whose bytes overlap without sharing storage: empty for a correct
    /// plan (the tests run it).
    public func overlaps() -> [(Storage, Storage)] {
        struct Extent {
            var storage: Storage
            var root: Storage
            var offset, bytes, first, last: Int
        }
        var arena = placements.compactMap { $0 }.filter { !$0.isPersistent }.map {
            Extent(storage: .value($0.value), root: .value($0.sharesWith ?? $0.value), offset: $0.offset, bytes: $0.bytes,
                   first: $0.first, last: $0.last)
        }
        for buffer in auxiliary.joined() {
            let storage = Storage.auxiliary(node: buffer.node, ordinal: buffer.ordinal)
            arena.append(Extent(storage: storage, root: storage, offset: buffer.offset, bytes: buffer.bytes, first: buffer.first,
                                last: buffer.last))
        }
        var problems = [(Storage, Storage)]()
        for (i, a) in arena.enumerated() {
            for b in arena[(i + 1)...] where a.root != b.root {
                let together = a.first <= b.last && b.first <= a.last
                let intersect = a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes
                if together && intersect && a.bytes > 0 && b.bytes > 0 { problems.append((a.storage, b.storage)) }
            }
        }
        return problems
    }

    /// A value's storage or a node's auxiliary buffer, as `overlaps()` names them.
    public enum Storage: Hashable, Sendable {
        case value(ValueID)
        case auxiliary(node: Int, ordinal: Int)
    }

    /// Bytes of the auxiliary buffers by role, summed over the nodes.
    public func auxiliaryBytes(_ role: AuxiliaryBuffer.Role) -> Int {
        auxiliary.joined().filter { $0.role == role }.reduce(0) { $0 + $1.bytes }
    }
}

import GraphIR

/// A spec file as read: its sections, checked for structure (keys, kinds, names) but not yet evaluated.
/// Values that may hold expressions stay YAML nodes until lowering evaluates them with the config.
struct Spec {
    var file: String
    var version: Int
    var name: String
    var root: YAMLNode
    var config: YAMLNode?
    var inputs: [InputSpec]
    /// Whether every input was read; lowering without them would only report their absence again and again.
    var inputsComplete: Bool
    var blocks: [String: BlockSpec]
    var blockOrder: [String]
    var model: BlockSpec
    var stages: [YAMLNode]
    /// `imports: {backbone: hubert_base.yaml}`: alias, path as written, and the YAML of the path.
    var imports: [(alias: String, path: String, node: YAMLNode)]
}

/// A spec and the specs it imports, each with the prefix its config keys have in the shared config table
/// (`backbone.` for an imported backbone: `--set backbone.encoder.layers=2`).
struct Module {
    var spec: Spec
    var configPrefix: String
    /// Imported modules by alias (indices into the lowering's module list).
    var imports: [String: Int]
}

/// `wave: {dtype: f32, shape: [B, S]}`.
struct InputSpec {
    var name: String
    var dtype: DType
    var shape: [YAMLNode]
    var node: YAMLNode
    var keyPath: String
}

/// A reusable subgraph (`blocks:` entries) or the model body (`model:`).
struct BlockSpec {
    var name: String
    var inputs: [String]
    var nodes: [NodeSpec]
    /// Output names and the values they refer to (a block's `outputs: [act, frames]` lists node names, which are
    /// also the output names; the model's `outputs: {name: ref}` names them).
    var outputs: [(name: String, reference: Reference)]
    var taps: [(name: String, reference: Reference, node: YAMLNode)]
    var node: YAMLNode
    var keyPath: String
}

/// One entry of `nodes:`.
struct NodeSpec {
    enum Kind {
        case op(String, YAMLNode)
        case block(String, YAMLNode)
        /// A node whose kind could not be read (reported); it makes no values and references to it stay quiet.
        case invalid
    }

    var name: String
    var kind: Kind
    var inputs: [Reference]
    /// The `params:` scope template (`encoder.layers.{i}`).
    var params: YAMLNode?
    /// `repeat: 12`, `repeat: "${encoder.layers}"` or `repeat: {count: 6, from: 1}`.
    var repeatCount: YAMLNode?
    var repeatFrom: YAMLNode?
    /// `repeat: {count: 3, chain: false}`: every repetition reads the node's inputs (parallel heads) instead of
    /// the previous repetition's outputs.
    var repeatChains = true
    /// Tap templates over the block's values: `taps: {"hidden.{i + 1}": out}`.
    var taps: [(template: YAMLNode, reference: Reference)]
    /// The whole mapping (attributes are read from it during lowering).
    var node: YAMLNode
    var keyPath: String
}

/// A name that refers to a value: a graph or block input, a node (`norm1`), or one output of a node with
/// several (`conv_layers.frames`).
struct Reference {
    var node: String
    var output: String?
    var yaml: YAMLNode

    var text: String { output.map { "\(node).\($0)" } ?? node }
}

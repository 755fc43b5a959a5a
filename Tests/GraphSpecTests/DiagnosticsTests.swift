import GraphIR
import Testing
@testable import GraphSpec

/// Bad specs: each must fail with the exact first message at the exact file:line:column, and nothing traps.
/// Every case edits `DiagnosticsTests.valid`, which compiles, to break one thing.
@Suite("Spec diagnostics")
struct DiagnosticsTests {
    static let valid = #"""
version: 1
name: small
config:
  hidden: 8
  heads: 2
  kernels: [3, 2]
inputs:
  x: {dtype: f32, shape: [B, T, 8]}
  lengths: {dtype: i32, shape: [B]}
blocks:
  layer:
    inputs: [x, lengths]
    nodes:
      q: {op: linear, in: x, out: "${hidden}", params: q}
      attn: {op: attention, in: [q, q, q, lengths], heads: "${heads}"}
      out: {op: add, in: [x, attn]}
    outputs: [out]
model:
  nodes:
    proj: {op: linear, in: x, out: "${hidden}", params: proj}
    norm: {op: layer_norm, in: proj, eps: 1.0e-5, params: norm}
    layers: {block: layer, repeat: 2, in: [norm, lengths], params: "layers.{i}", taps: {"hidden.{i + 1}": out}}
    pooled: {op: masked_mean_pool, in: [layers, lengths]}
  taps:
    hidden.0: norm
  outputs:
    y: pooled
"""#

    @Test("the base spec compiles")
    func baseCompiles() throws {
        let graph = try SpecCompiler.compile(text: Self.valid, file: "spec.yaml").graph
        #expect(graph.taps.map(\.name) == ["hidden.0", "hidden.1", "hidden.2"])
    }

    @Test("a bad spec fails with its message at its file:line:column", arguments: cases)
    func badSpec(_ testCase: SpecCase) {
        testCase.check(base: Self.valid)
    }

    static let cases: [SpecCase] = [
        SpecCase("unknown op", edits: [(#"op: layer_norm"#, #"op: layernorm"#)],
                 expected: #"spec.yaml:21:16: error: unknown op 'layernorm' (in model.nodes.norm.op)"#, count: 1),
        SpecCase("unknown op that is a block", edits: [(#"{op: layer_norm, in: proj, eps: 1.0e-5, params: norm}"#, #"{op: layer, in: proj}"#)],
                 expected: #"spec.yaml:21:16: error: unknown op 'layer' (in model.nodes.norm.op)"#, count: 1),
        SpecCase("unknown block", edits: [(#"block: layer,"#, #"block: layr,"#)],
                 expected: #"spec.yaml:22:21: error: unknown block 'layr' (in model.nodes.layers.block)"#, count: 1),
        SpecCase("unknown value", edits: [(#"in: proj, eps"#, #"in: prj, eps"#)],
                 expected: #"spec.yaml:21:32: error: unknown value 'prj' (in model.nodes.norm.in)"#, count: 1),
        SpecCase("unknown output of a node", edits: [(#"in: [layers, lengths]}"#, #"in: [layers.output, lengths]}"#)],
                 expected: #"spec.yaml:23:41: error: 'layers' has no output 'output' (in model.nodes.pooled.in)"#, count: 1),
        SpecCase("input of wrong dtype", edits: [(#"{op: linear, in: x, out: "${hidden}", params: proj}"#, #"{op: linear, in: lengths, out: "${hidden}", params: proj}"#)],
                 expected: #"spec.yaml:20:11: error: linear needs x of rank 1 or more (f32), got i32[B] in 'proj' (in model.nodes.proj)"#, count: 1),
        SpecCase("shape mismatch in add", edits: [(#"out: {op: add, in: [x, attn]}"#, #"out: {op: add, in: [x, q]}"#), (#"q: {op: linear, in: x, out: "${hidden}", params: q}"#, #"q: {op: linear, in: x, out: 4, params: q}"#)],
                 expected: #"spec.yaml:16:12: error: shapes [B, T, 8] and [B, T, 4] do not broadcast (8 against 4) in 'layers.0.out' (in blocks.layer.nodes.out)"#, count: 1),
        SpecCase("heads do not divide width", edits: [(#"heads: "${heads}""#, #"heads: 3"#)],
                 expected: #"spec.yaml:15:13: error: attention needs a constant width divisible by heads (3), got f32[B, T, 8] in 'layers.0.attn' (in blocks.layer.nodes.attn)"#, count: 1),
        SpecCase("unknown config name", edits: [(#"out: "${hidden}", params: proj"#, #"out: "${hiden}", params: proj"#)],
                 expected: #"spec.yaml:20:39: error: unknown name 'hiden' (in model.nodes.proj.out)"#, count: 1),
        SpecCase("cycle", edits: [(#"in: proj, eps"#, #"in: layers, eps"#)],
                 expected: #"spec.yaml:21:11: error: cycle: norm -> layers -> norm (in model.nodes.norm)"#, count: 1),
        SpecCase("missing version", edits: [(#"version: 1\#n"#, #""#)],
                 expected: #"spec.yaml:1:1: error: missing 'version': the language version, 1"#, count: 1),
        SpecCase("unsupported version", edits: [(#"version: 1"#, #"version: 7"#)],
                 expected: #"spec.yaml:1:10: error: unsupported version '7' (in version)"#, count: 1),
        SpecCase("unknown top-level key", edits: [(#"name: small"#, #"name: small\#nmodels: {}"#)],
                 expected: #"spec.yaml:3:1: error: unknown key 'models' in the spec (in models)"#, count: 1),
        SpecCase("unknown dtype", edits: [(#"dtype: f32, shape: [B, T, 8]"#, #"dtype: float32, shape: [B, T, 8]"#)],
                 expected: #"spec.yaml:8:14: error: unknown dtype 'float32' (in inputs.x.dtype)"#, count: 1),
        SpecCase("unknown key in an input", edits: [(#"{dtype: i32, shape: [B]}"#, #"{dtype: i32, shape: [B], shap: [B]}"#)],
                 expected: #"spec.yaml:9:37: error: unknown key 'shap' in input 'lengths' (in inputs.lengths.shap)"#, count: 1),
        SpecCase("unknown attribute of an op", edits: [(#"eps: 1.0e-5, params: norm"#, #"epsilon: 1.0e-5, params: norm"#)],
                 expected: #"spec.yaml:21:38: error: unknown key 'epsilon' in op 'layer_norm' (in model.nodes.norm.epsilon)"#, count: 1),
        SpecCase("missing attribute", edits: [(#"{op: linear, in: x, out: "${hidden}", params: proj}"#, #"{op: linear, in: x, params: proj}"#)],
                 expected: #"spec.yaml:20:11: error: missing 'out' (in model.nodes.proj)"#, count: 1),
        SpecCase("attribute of the wrong type", edits: [(#"out: "${hidden}", params: proj"#, #"out: 2.5, params: proj"#)],
                 expected: #"spec.yaml:20:36: error: 'out' must be an integer, got number 2.5 (in model.nodes.proj.out)"#, count: 1),
        SpecCase("missing params", edits: [(#"eps: 1.0e-5, params: norm}"#, #"eps: 1.0e-5}"#)],
                 expected: #"spec.yaml:21:11: error: op 'layer_norm' needs 'params': the scope of its parameters, such as 'encoder.layers.{i}.attention.q_proj' (in model.nodes.norm)"#, count: 1),
        SpecCase("params on an op without parameters", edits: [(#"{op: masked_mean_pool, in: [layers, lengths]}"#, #"{op: masked_mean_pool, in: [layers, lengths], params: pool}"#)],
                 expected: #"spec.yaml:23:67: error: op 'masked_mean_pool' has no parameters; remove 'params' (in model.nodes.pooled.params)"#, count: 1),
        SpecCase("too many inputs", edits: [(#"{op: masked_mean_pool, in: [layers, lengths]}"#, #"{op: masked_mean_pool, in: [layers, lengths, x]}"#)],
                 expected: #"spec.yaml:23:40: error: op 'masked_mean_pool' takes in: [x, lengths], got 3 (in model.nodes.pooled.in)"#, count: 1),
        SpecCase("wrong input count for a block", edits: [(#"in: [norm, lengths], params"#, #"in: [norm], params"#)],
                 expected: #"spec.yaml:22:43: error: block 'layer' takes in: [x, lengths], got 1 (in model.nodes.layers.in)"#, count: 1),
        SpecCase("repeat on an op", edits: [(#"eps: 1.0e-5, params: norm}"#, #"eps: 1.0e-5, params: norm, repeat: 2}"#)],
                 expected: #"spec.yaml:21:73: error: only block nodes can repeat (in model.nodes.norm.repeat)"#, count: 1),
        SpecCase("negative repeat", edits: [(#"repeat: 2,"#, #"repeat: -1,"#)],
                 expected: #"spec.yaml:22:36: error: repeat count must be at least 0, got -1 (in model.nodes.layers.repeat)"#, count: 1),
        SpecCase("node with op and block", edits: [(#"{op: masked_mean_pool, in: [layers, lengths]}"#, #"{op: masked_mean_pool, block: layer, in: [layers, lengths]}"#)],
                 expected: #"spec.yaml:23:13: error: node 'pooled' has both 'op' and 'block'; give one (in model.nodes.pooled)"#, count: 1),
        SpecCase("node without op or block", edits: [(#"{op: masked_mean_pool, in: [layers, lengths]}"#, #"{in: [layers, lengths]}"#)],
                 expected: #"spec.yaml:23:13: error: node 'pooled' needs 'op' (a built-in op) or 'block' (a block of this spec) (in model.nodes.pooled)"#, count: 1),
        SpecCase("duplicate key", edits: [(#"      q: {op: linear"#, #"      attn: {op: gelu, in: x}\#n      q: {op: linear"#)],
                 expected: #"spec.yaml:16:7: error: duplicate key 'attn' (in blocks.layer.nodes.attn)"#, count: 1),
        SpecCase("unknown dimension symbol", edits: [(#"    proj: {op: linear"#, #"    flat: {op: reshape, in: x, shape: [B, Q]}\#n    proj: {op: linear"#)],
                 expected: #"spec.yaml:20:43: error: unknown dimension 'Q' (in model.nodes.flat.shape[1])"#, count: 1),
        SpecCase("reshape changing the element count", edits: [(#"    proj: {op: linear"#, #"    flat: {op: reshape, in: x, shape: [B, T, 4]}\#n    proj: {op: linear"#)],
                 expected: #"spec.yaml:20:11: error: reshape to [B, T, 4] changes the element count of f32[B, T, 8] in 'flat' (in model.nodes.flat)"#, count: 1),
        SpecCase("config cycle", edits: [(#"  hidden: 8"#, #"  hidden: "${width}"\#n  width: "${hidden}""#)],
                 expected: #"spec.yaml:4:11: error: config values refer to each other in a cycle: hidden -> width -> hidden (in config.hidden)"#, count: 1),
        SpecCase("index out of range", edits: [(#"heads: "${heads}""#, #"heads: "${kernels[2]}""#)],
                 expected: #"spec.yaml:15:71: error: index 2 is out of range for a list of 2 elements (in blocks.layer.nodes.attn.heads)"#, count: 1),
        SpecCase("division by zero", edits: [(#"out: "${hidden}", params: proj"#, #"out: "${hidden // 0}", params: proj"#)],
                 expected: #"spec.yaml:20:46: error: division by zero (in model.nodes.proj.out)"#, count: 1),
        SpecCase("unknown tap reference", edits: [(#"hidden.0: norm"#, #"hidden.0: nrm"#)],
                 expected: #"spec.yaml:25:15: error: unknown value 'nrm' (in model.taps.hidden.0)"#, count: 1),
        SpecCase("unknown output reference", edits: [(#"y: pooled"#, #"y: pooledd"#)],
                 expected: #"spec.yaml:27:8: error: unknown value 'pooledd' (in model.outputs)"#, count: 1),
        SpecCase("reference to a node with several outputs", edits: [(#"    outputs: [out]"#, #"    outputs: [out, q]"#), (#"repeat: 2, "#, #"repeat: 1, "#)],
                 expected: #"spec.yaml:23:41: error: 'layers' has several outputs; name one (in model.nodes.pooled.in)"#, count: 1),
        SpecCase("tab indentation", edits: [(#"  hidden: 8"#, #"\#thidden: 8"#)],
                 expected: #"spec.yaml:4:1: error: found character that cannot start any token"#, count: 1),
        SpecCase("node named like an input", edits: [(#"    proj: {op: linear, in: x,"#, #"    x: {op: gelu, in: lengths}\#n    proj: {op: linear, in: x,"#)],
                 expected: #"spec.yaml:20:8: error: node 'x' has the name of an input of the model (in model.nodes.x)"#, count: 1),
        SpecCase("block that contains itself", edits: [(#"      out: {op: add, in: [x, attn]}"#, #"      out: {op: add, in: [x, attn]}\#n      inner: {block: layer, in: [x, lengths]}"#)],
                 expected: #"spec.yaml:17:14: error: block 'layer' contains itself (layer -> layer) (in blocks.layer.nodes.inner)"#, count: 1),
        SpecCase("inputs not a mapping", edits: [(#"inputs:\#n  x: {dtype: f32, shape: [B, T, 8]}\#n  lengths: {dtype: i32, shape: [B]}"#, #"inputs: [x, lengths]"#)],
                 expected: #"spec.yaml:7:9: error: inputs must be a mapping (key: value), got a sequence (in inputs)"#, count: 1),
        SpecCase("dropout probability out of range", edits: [(#"    pooled:"#, #"    dropped: {op: dropout, in: norm, p: 1.5}\#n    pooled:"#)],
                 expected: #"spec.yaml:23:41: error: dropout p must be in [0, 1), got 1.5 (in model.nodes.dropped.p)"#, count: 1),
        SpecCase("dollar in a name template", edits: [(#"params: "layers.{i}""#, #"params: "layers.${i}""#)],
                 expected: #"spec.yaml:22:68: error: 'layers.$0' is not a name: use letters, digits and '_' between dots (in model.nodes.layers.params)"#, count: 1),
        SpecCase("repeat 0 of a block with more outputs than inputs", edits: [(#"    outputs: [out]"#, #"    outputs: [out, q, attn]"#), (#"repeat: 2,"#, #"repeat: 0,"#), (#"in: [layers, lengths]}"#, #"in: [layers.out, lengths]}"#)],
                 expected: #"spec.yaml:22:36: error: repeat count 0 leaves 'layers' without values: a block repeated 0 times passes its inputs through, and block 'layer' has more outputs than inputs (in model.nodes.layers.repeat)"#, count: 1),
        SpecCase("window lengths with stride 0", edits: [(#"    pooled:"#, #"    frames: {op: window_lengths, in: lengths, kernel: 3, stride: 0}\#n    pooled:"#)],
                 expected: #"spec.yaml:23:55: error: window_lengths needs kernel and stride of at least 1 and padding of at least 0 (in model.nodes.frames.kernel)"#, count: 1),
        SpecCase("cosine similarity with no classes", edits: [(#"    pooled:"#, #"    cos: {op: cosine_similarity, in: norm, classes: 0, params: cos}\#n    pooled:"#)],
                 expected: #"spec.yaml:23:53: error: classes must be at least 1, got 0 (in model.nodes.cos.classes)"#, count: 1),
    ]
}

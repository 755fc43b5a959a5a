import GraphIR
import Testing
@testable import GraphSpec

/// Bad specs: each must fail with the exact first message at the exact file:line:column, and nothing traps.
/// Every case breaks one thing in `DiagnosticsTests.valid`, which compiles.
@Suite("Spec diagnostics")
struct DiagnosticsTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var yaml: String
        /// The first diagnostic (in source order) as rendered, first line only.
        var expected: String
        var count: Int
        var testDescription: String { name }
    }

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
    func badSpec(_ testCase: Case) {
        do {
            _ = try SpecCompiler.compile(text: testCase.yaml, file: "spec.yaml").graph
            Issue.record("\(testCase.name): compiled, expected \(testCase.expected)")
        } catch {
            let sorted = Diagnostic.sorted(error.diagnostics)
            let first = sorted.first.map { String($0.rendered.split(separator: "\n")[0]) } ?? ""
            #expect(first == testCase.expected)
            #expect(sorted.count == testCase.count, "\(Diagnostic.render(error))")
        }
    }

    static let cases: [Case] = [
        Case(name: "unknown op", yaml: #"""
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
    norm: {op: layernorm, in: proj, eps: 1.0e-5, params: norm}
    layers: {block: layer, repeat: 2, in: [norm, lengths], params: "layers.{i}", taps: {"hidden.{i + 1}": out}}
    pooled: {op: masked_mean_pool, in: [layers, lengths]}
  taps:
    hidden.0: norm
  outputs:
    y: pooled
"""#,
             expected: #"spec.yaml:21:16: error: unknown op 'layernorm' (in model.nodes.norm.op)"#, count: 1),
        Case(name: "unknown op that is a block", yaml: #"""
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
    norm: {op: layer, in: proj}
    layers: {block: layer, repeat: 2, in: [norm, lengths], params: "layers.{i}", taps: {"hidden.{i + 1}": out}}
    pooled: {op: masked_mean_pool, in: [layers, lengths]}
  taps:
    hidden.0: norm
  outputs:
    y: pooled
"""#,
             expected: #"spec.yaml:21:16: error: unknown op 'layer' (in model.nodes.norm.op)"#, count: 1),
        Case(name: "unknown block", yaml: #"""
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
    layers: {block: layr, repeat: 2, in: [norm, lengths], params: "layers.{i}", taps: {"hidden.{i + 1}": out}}
    pooled: {op: masked_mean_pool, in: [layers, lengths]}
  taps:
    hidden.0: norm
  outputs:
    y: pooled
"""#,
             expected: #"spec.yaml:22:21: error: unknown block 'layr' (in model.nodes.layers.block)"#, count: 1),
        Case(name: "unknown value", yaml: #"""
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
    norm: {op: layer_norm, in: prj, eps: 1.0e-5, params: norm}
    layers: {block: layer, repeat: 2, in: [norm, lengths], params: "layers.{i}", taps: {"hidden.{i + 1}": out}}
    pooled: {op: masked_mean_pool, in: [layers, lengths]}
  taps:
    hidden.0: norm
  outputs:
    y: pooled
"""#,
             expected: #"spec.yaml:21:32: error: unknown value 'prj' (in model.nodes.norm.in)"#, count: 1),
        Case(name: "unknown output of a node", yaml: #"""
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
    pooled: {op: masked_mean_pool, in: [layers.output, lengths]}
  taps:
    hidden.0: norm
  outputs:
    y: pooled
"""#,
             expected: #"spec.yaml:23:41: error: 'layers' has no output 'output' (in model.nodes.pooled.in)"#, count: 1),
        Case(name: "input of wrong dtype", yaml: #"""
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
    proj: {op: linear, in: lengths, out: "${hidden}", params: proj}
    norm: {op: layer_norm, in: proj, eps: 1.0e-5, params: norm}
    layers: {block: layer, repeat: 2, in: [norm, lengths], params: "layers.{i}", taps: {"hidden.{i + 1}": out}}
    pooled: {op: masked_mean_pool, in: [layers, lengths]}
  taps:
    hidden.0: norm
  outputs:
    y: pooled
"""#,
             expected: #"spec.yaml:20:11: error: linear needs x of rank 1 or more (f32), got i32[B] in 'proj' (in model.nodes.proj)"#, count: 1),
        Case(name: "shape mismatch in add", yaml: #"""
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
      q: {op: linear, in: x, out: 4, params: q}
      attn: {op: attention, in: [q, q, q, lengths], heads: "${heads}"}
      out: {op: add, in: [x, q]}
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
"""#,
             expected: #"spec.yaml:16:12: error: shapes [B, T, 8] and [B, T, 4] do not broadcast (8 against 4) in 'layers.0.out' (in blocks.layer.nodes.out)"#, count: 1),
        Case(name: "heads do not divide width", yaml: #"""
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
      attn: {op: attention, in: [q, q, q, lengths], heads: 3}
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
"""#,
             expected: #"spec.yaml:15:13: error: attention needs a constant width divisible by heads (3), got f32[B, T, 8] in 'layers.0.attn' (in blocks.layer.nodes.attn)"#, count: 1),
        Case(name: "unknown config name", yaml: #"""
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
    proj: {op: linear, in: x, out: "${hiden}", params: proj}
    norm: {op: layer_norm, in: proj, eps: 1.0e-5, params: norm}
    layers: {block: layer, repeat: 2, in: [norm, lengths], params: "layers.{i}", taps: {"hidden.{i + 1}": out}}
    pooled: {op: masked_mean_pool, in: [layers, lengths]}
  taps:
    hidden.0: norm
  outputs:
    y: pooled
"""#,
             expected: #"spec.yaml:20:38: error: unknown name 'hiden' (in model.nodes.proj.out)"#, count: 1),
        Case(name: "cycle", yaml: #"""
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
    norm: {op: layer_norm, in: layers, eps: 1.0e-5, params: norm}
    layers: {block: layer, repeat: 2, in: [norm, lengths], params: "layers.{i}", taps: {"hidden.{i + 1}": out}}
    pooled: {op: masked_mean_pool, in: [layers, lengths]}
  taps:
    hidden.0: norm
  outputs:
    y: pooled
"""#,
             expected: #"spec.yaml:21:11: error: cycle: norm -> layers -> norm (in model.nodes.norm)"#, count: 1),
        Case(name: "missing version", yaml: #"""
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
"""#,
             expected: #"spec.yaml:1:1: error: missing 'version': the language version, 1"#, count: 1),
        Case(name: "unsupported version", yaml: #"""
version: 7
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
"""#,
             expected: #"spec.yaml:1:10: error: unsupported version '7' (in version)"#, count: 1),
        Case(name: "unknown top-level key", yaml: #"""
version: 1
name: small
models: {}
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
"""#,
             expected: #"spec.yaml:3:1: error: unknown key 'models' in the spec (in models)"#, count: 1),
        Case(name: "unknown dtype", yaml: #"""
version: 1
name: small
config:
  hidden: 8
  heads: 2
  kernels: [3, 2]
inputs:
  x: {dtype: float32, shape: [B, T, 8]}
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
"""#,
             expected: #"spec.yaml:8:14: error: unknown dtype 'float32' (in inputs.x.dtype)"#, count: 1),
        Case(name: "unknown key in an input", yaml: #"""
version: 1
name: small
config:
  hidden: 8
  heads: 2
  kernels: [3, 2]
inputs:
  x: {dtype: f32, shape: [B, T, 8]}
  lengths: {dtype: i32, shape: [B], shap: [B]}
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
"""#,
             expected: #"spec.yaml:9:37: error: unknown key 'shap' in input 'lengths' (in inputs.lengths.shap)"#, count: 1),
        Case(name: "unknown attribute of an op", yaml: #"""
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
    norm: {op: layer_norm, in: proj, epsilon: 1.0e-5, params: norm}
    layers: {block: layer, repeat: 2, in: [norm, lengths], params: "layers.{i}", taps: {"hidden.{i + 1}": out}}
    pooled: {op: masked_mean_pool, in: [layers, lengths]}
  taps:
    hidden.0: norm
  outputs:
    y: pooled
"""#,
             expected: #"spec.yaml:21:38: error: unknown key 'epsilon' in op 'layer_norm' (in model.nodes.norm.epsilon)"#, count: 1),
        Case(name: "missing attribute", yaml: #"""
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
    proj: {op: linear, in: x, params: proj}
    norm: {op: layer_norm, in: proj, eps: 1.0e-5, params: norm}
    layers: {block: layer, repeat: 2, in: [norm, lengths], params: "layers.{i}", taps: {"hidden.{i + 1}": out}}
    pooled: {op: masked_mean_pool, in: [layers, lengths]}
  taps:
    hidden.0: norm
  outputs:
    y: pooled
"""#,
             expected: #"spec.yaml:20:11: error: missing 'out' (in model.nodes.proj)"#, count: 1),
        Case(name: "attribute of the wrong type", yaml: #"""
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
    proj: {op: linear, in: x, out: 2.5, params: proj}
    norm: {op: layer_norm, in: proj, eps: 1.0e-5, params: norm}
    layers: {block: layer, repeat: 2, in: [norm, lengths], params: "layers.{i}", taps: {"hidden.{i + 1}": out}}
    pooled: {op: masked_mean_pool, in: [layers, lengths]}
  taps:
    hidden.0: norm
  outputs:
    y: pooled
"""#,
             expected: #"spec.yaml:20:36: error: 'out' must be an integer, got number 2.5 (in model.nodes.proj.out)"#, count: 1),
        Case(name: "missing params", yaml: #"""
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
    norm: {op: layer_norm, in: proj, eps: 1.0e-5}
    layers: {block: layer, repeat: 2, in: [norm, lengths], params: "layers.{i}", taps: {"hidden.{i + 1}": out}}
    pooled: {op: masked_mean_pool, in: [layers, lengths]}
  taps:
    hidden.0: norm
  outputs:
    y: pooled
"""#,
             expected: #"spec.yaml:21:11: error: op 'layer_norm' needs 'params': the scope of its parameters, such as 'encoder.layers.{i}.attention.q_proj' (in model.nodes.norm)"#, count: 1),
        Case(name: "params on an op without parameters", yaml: #"""
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
    pooled: {op: masked_mean_pool, in: [layers, lengths], params: pool}
  taps:
    hidden.0: norm
  outputs:
    y: pooled
"""#,
             expected: #"spec.yaml:23:67: error: op 'masked_mean_pool' has no parameters; remove 'params' (in model.nodes.pooled.params)"#, count: 1),
        Case(name: "too many inputs", yaml: #"""
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
    pooled: {op: masked_mean_pool, in: [layers, lengths, x]}
  taps:
    hidden.0: norm
  outputs:
    y: pooled
"""#,
             expected: #"spec.yaml:23:40: error: op 'masked_mean_pool' takes in: [x, lengths], got 3 (in model.nodes.pooled.in)"#, count: 1),
        Case(name: "wrong input count for a block", yaml: #"""
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
    layers: {block: layer, repeat: 2, in: [norm], params: "layers.{i}", taps: {"hidden.{i + 1}": out}}
    pooled: {op: masked_mean_pool, in: [layers, lengths]}
  taps:
    hidden.0: norm
  outputs:
    y: pooled
"""#,
             expected: #"spec.yaml:22:43: error: block 'layer' takes in: [x, lengths], got 1 (in model.nodes.layers.in)"#, count: 1),
        Case(name: "repeat on an op", yaml: #"""
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
    norm: {op: layer_norm, in: proj, eps: 1.0e-5, params: norm, repeat: 2}
    layers: {block: layer, repeat: 2, in: [norm, lengths], params: "layers.{i}", taps: {"hidden.{i + 1}": out}}
    pooled: {op: masked_mean_pool, in: [layers, lengths]}
  taps:
    hidden.0: norm
  outputs:
    y: pooled
"""#,
             expected: #"spec.yaml:21:73: error: only block nodes can repeat (in model.nodes.norm.repeat)"#, count: 1),
        Case(name: "negative repeat", yaml: #"""
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
    layers: {block: layer, repeat: -1, in: [norm, lengths], params: "layers.{i}", taps: {"hidden.{i + 1}": out}}
    pooled: {op: masked_mean_pool, in: [layers, lengths]}
  taps:
    hidden.0: norm
  outputs:
    y: pooled
"""#,
             expected: #"spec.yaml:22:36: error: repeat count must be at least 0, got -1 (in model.nodes.layers.repeat)"#, count: 1),
        Case(name: "node with op and block", yaml: #"""
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
    pooled: {op: masked_mean_pool, block: layer, in: [layers, lengths]}
  taps:
    hidden.0: norm
  outputs:
    y: pooled
"""#,
             expected: #"spec.yaml:23:13: error: node 'pooled' has both 'op' and 'block'; give one (in model.nodes.pooled)"#, count: 1),
        Case(name: "node without op or block", yaml: #"""
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
    pooled: {in: [layers, lengths]}
  taps:
    hidden.0: norm
  outputs:
    y: pooled
"""#,
             expected: #"spec.yaml:23:13: error: node 'pooled' needs 'op' (a built-in op) or 'block' (a block of this spec) (in model.nodes.pooled)"#, count: 1),
        Case(name: "duplicate key", yaml: #"""
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
      attn: {op: gelu, in: x}
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
"""#,
             expected: #"spec.yaml:16:7: error: duplicate key 'attn' (in blocks.layer.nodes.attn)"#, count: 1),
        Case(name: "unknown dimension symbol", yaml: #"""
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
    flat: {op: reshape, in: x, shape: [B, Q]}
    proj: {op: linear, in: x, out: "${hidden}", params: proj}
    norm: {op: layer_norm, in: proj, eps: 1.0e-5, params: norm}
    layers: {block: layer, repeat: 2, in: [norm, lengths], params: "layers.{i}", taps: {"hidden.{i + 1}": out}}
    pooled: {op: masked_mean_pool, in: [layers, lengths]}
  taps:
    hidden.0: norm
  outputs:
    y: pooled
"""#,
             expected: #"spec.yaml:20:43: error: unknown dimension 'Q' (in model.nodes.flat.shape[1])"#, count: 1),
        Case(name: "reshape changing the element count", yaml: #"""
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
    flat: {op: reshape, in: x, shape: [B, T, 4]}
    proj: {op: linear, in: x, out: "${hidden}", params: proj}
    norm: {op: layer_norm, in: proj, eps: 1.0e-5, params: norm}
    layers: {block: layer, repeat: 2, in: [norm, lengths], params: "layers.{i}", taps: {"hidden.{i + 1}": out}}
    pooled: {op: masked_mean_pool, in: [layers, lengths]}
  taps:
    hidden.0: norm
  outputs:
    y: pooled
"""#,
             expected: #"spec.yaml:20:11: error: reshape to [B, T, 4] changes the element count of f32[B, T, 8] in 'flat' (in model.nodes.flat)"#, count: 1),
        Case(name: "config cycle", yaml: #"""
version: 1
name: small
config:
  hidden: "${width}"
  width: "${hidden}"
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
"""#,
             expected: #"spec.yaml:4:11: error: config values refer to each other in a cycle: hidden -> width -> hidden (in config.hidden)"#, count: 1),
        Case(name: "index out of range", yaml: #"""
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
      attn: {op: attention, in: [q, q, q, lengths], heads: "${kernels[2]}"}
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
"""#,
             expected: #"spec.yaml:15:70: error: index 2 is out of range for a list of 2 elements (in blocks.layer.nodes.attn.heads)"#, count: 1),
        Case(name: "division by zero", yaml: #"""
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
    proj: {op: linear, in: x, out: "${hidden // 0}", params: proj}
    norm: {op: layer_norm, in: proj, eps: 1.0e-5, params: norm}
    layers: {block: layer, repeat: 2, in: [norm, lengths], params: "layers.{i}", taps: {"hidden.{i + 1}": out}}
    pooled: {op: masked_mean_pool, in: [layers, lengths]}
  taps:
    hidden.0: norm
  outputs:
    y: pooled
"""#,
             expected: #"spec.yaml:20:45: error: division by zero (in model.nodes.proj.out)"#, count: 1),
        Case(name: "unknown tap reference", yaml: #"""
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
    hidden.0: nrm
  outputs:
    y: pooled
"""#,
             expected: #"spec.yaml:25:15: error: unknown value 'nrm' (in model.taps.hidden.0)"#, count: 1),
        Case(name: "unknown output reference", yaml: #"""
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
    y: pooledd
"""#,
             expected: #"spec.yaml:27:8: error: unknown value 'pooledd' (in model.outputs)"#, count: 1),
        Case(name: "reference to a node with several outputs", yaml: #"""
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
    outputs: [out, q]
model:
  nodes:
    proj: {op: linear, in: x, out: "${hidden}", params: proj}
    norm: {op: layer_norm, in: proj, eps: 1.0e-5, params: norm}
    layers: {block: layer, repeat: 1, in: [norm, lengths], params: "layers.{i}", taps: {"hidden.{i + 1}": out}}
    pooled: {op: masked_mean_pool, in: [layers, lengths]}
  taps:
    hidden.0: norm
  outputs:
    y: pooled
"""#,
             expected: #"spec.yaml:23:41: error: 'layers' has several outputs; name one (in model.nodes.pooled.in)"#, count: 1),
        Case(name: "tab indentation", yaml: #"""
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
"""#,
             expected: #"spec.yaml:4:1: error: found character that cannot start any token"#, count: 1),
        Case(name: "node named like an input", yaml: #"""
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
    x: {op: gelu, in: lengths}
    proj: {op: linear, in: x, out: "${hidden}", params: proj}
    norm: {op: layer_norm, in: proj, eps: 1.0e-5, params: norm}
    layers: {block: layer, repeat: 2, in: [norm, lengths], params: "layers.{i}", taps: {"hidden.{i + 1}": out}}
    pooled: {op: masked_mean_pool, in: [layers, lengths]}
  taps:
    hidden.0: norm
  outputs:
    y: pooled
"""#,
             expected: #"spec.yaml:20:8: error: node 'x' has the name of an input of the model (in model.nodes.x)"#, count: 1),
        Case(name: "block that contains itself", yaml: #"""
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
      inner: {block: layer, in: [x, lengths]}
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
"""#,
             expected: #"spec.yaml:17:14: error: block 'layer' contains itself (layer -> layer) (in blocks.layer.nodes.inner)"#, count: 1),
        Case(name: "inputs not a mapping", yaml: #"""
version: 1
name: small
config:
  hidden: 8
  heads: 2
  kernels: [3, 2]
inputs: [x, lengths]
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
"""#,
             expected: #"spec.yaml:7:9: error: inputs must be a mapping (key: value), got a sequence (in inputs)"#, count: 1),
        Case(name: "dropout probability out of range", yaml: #"""
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
    dropped: {op: dropout, in: norm, p: 1.5}
    pooled: {op: masked_mean_pool, in: [layers, lengths]}
  taps:
    hidden.0: norm
  outputs:
    y: pooled
"""#,
             expected: #"spec.yaml:23:41: error: dropout p must be in [0, 1), got 1.5 (in model.nodes.dropped.p)"#, count: 1),
    ]
}

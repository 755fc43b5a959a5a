import GraphIR
import Runtime
import Testing

@Suite("Parameter stores")
struct ParameterStoreTests {
    static func graph() throws -> Graph {
        var builder = GraphBuilder(name: "t")
        _ = builder.parameter("encoder.layers.0.attention.q_proj.weight", shape: [2, 3])
        _ = builder.parameter("encoder.layers.0.attention.q_proj.bias", shape: [2])
        _ = builder.parameter("encoder.layer_norm.weight", shape: [3])
        _ = builder.parameter("masked_spec_embed", shape: [3])
        return try builder.finish()
    }

    @Test("a store that fits binds its tensors in the graph's parameter order")
    func binds() throws {
        let store = ParameterStore()
        let bias = HostTensor(floats: [1, 2], shape: [2])
        store.set("masked_spec_embed", HostTensor(.f32, shape: [3]))
        store.set("encoder.layers.0.attention.q_proj.bias", bias)
        store.set("encoder.layers.0.attention.q_proj.weight", HostTensor(.f32, shape: [2, 3]))
        store.set("encoder.layer_norm.weight", HostTensor(.f32, shape: [3]))
        #expect(store.names == [
            "encoder.layer_norm.weight", "encoder.layers.0.attention.q_proj.bias", "encoder.layers.0.attention.q_proj.weight",
            "masked_spec_embed",
        ])
        #expect(store["encoder.layers.0.attention.q_proj.bias"] === bias)
        #expect(store["absent"] == nil)
        let bound = try store.bind(to: try Self.graph())
        #expect(bound.map(\.shape) == [[2, 3], [2], [3], [3]])
        #expect(bound[1] === bias)
    }

    @Test("missing, unexpected and wrongly shaped tensors are listed together, with did-you-mean")
    func mismatches() throws {
        let store = ParameterStore([
            "encoder.layers.0.attention.q_proj.weight": HostTensor(.f32, shape: [3, 2]),
            "encoder.layers.0.attention.q_proj.bias": HostTensor(.i32, shape: [2]),
            "encoder.layernorm.weight": HostTensor(.f32, shape: [3]),
            "classifier.bias": HostTensor(.f32, shape: [4]),
        ])
        let graph = try Self.graph()
        let error = checkpointMessage { () throws(CheckpointError) in _ = try store.bind(to: graph, source: "ckpt") }
        #expect(error == """
            error: ckpt: the tensors do not match graph 't's parameters: 2 missing, 2 unexpected, 2 of the wrong type or shape
            error: ckpt: missing tensor 'encoder.layer_norm.weight' (f32[3])
              hint: did you mean 'encoder.layernorm.weight'?
            error: ckpt: missing tensor 'masked_spec_embed' (f32[3])
            error: ckpt: unexpected tensor 'classifier.bias' (f32[4]): the graph has no such parameter
            error: ckpt: unexpected tensor 'encoder.layernorm.weight' (f32[3]): the graph has no such parameter
            error: ckpt: tensor 'encoder.layers.0.attention.q_proj.weight' is f32[3, 2], but the graph's parameter is f32[2, 3]
            error: ckpt: tensor 'encoder.layers.0.attention.q_proj.bias' is i32[2], but the graph's parameter is f32[2]
            """)
    }

    @Test("a NaN or infinite weight is refused by name before anything runs")
    func nonFinite() throws {
        let store = ParameterStore([
            "encoder.layers.0.attention.q_proj.weight": HostTensor(floats: [0, 1, 2, 3, .nan, 5], shape: [2, 3]),
            "encoder.layers.0.attention.q_proj.bias": HostTensor(.f32, shape: [2]),
            "encoder.layer_norm.weight": HostTensor(floats: [1, -.infinity, 1], shape: [3]),
            "masked_spec_embed": HostTensor(.f32, shape: [3]),
        ])
        let graph = try Self.graph()
        let error = checkpointMessage { () throws(CheckpointError) in _ = try store.bind(to: graph, source: "ckpt") }
        #expect(error == """
            error: ckpt: the tensors do not match graph 't's parameters: 2 not finite
            error: ckpt: tensor 'encoder.layers.0.attention.q_proj.weight' holds a value that is not finite (nan at flat index 4): the checkpoint is damaged or its training diverged
            error: ckpt: tensor 'encoder.layer_norm.weight' holds a value that is not finite (-inf at flat index 1): the checkpoint is damaged or its training diverged
            """)
    }
}

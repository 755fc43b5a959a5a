import Foundation
import GraphIR
import GraphSpec
import Runtime
import Testing

@Suite("HuggingFace checkpoints")
struct HFCheckpointTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let hubertBase = root + "/graphs/hubert_base.yaml"

    static let tinyConfig = """
        {"model_type": "hubert", "architectures": ["HubertForSequenceClassification"], "hidden_size": 32,
         "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64, "conv_dim": [16, 16, 16],
         "conv_kernel": [10, 3, 2], "conv_stride": [5, 2, 2], "conv_bias": true, "num_conv_pos_embeddings": 8,
         "num_conv_pos_embedding_groups": 4, "layer_norm_eps": 1e-12, "feat_extract_norm": "group",
         "do_stable_layer_norm": false, "feat_proj_layer_norm": true, "hidden_act": "gelu", "num_labels": 4}
        """

    @Test("an empty config gives HubertConfig's defaults, which are graphs/hubert_base.yaml's")
    func defaults() throws {
        let overrides = try HFCheckpoint.configOverrides(json: "{}")
        #expect(overrides == [
            "features.channels=512", "features.kernels=[10, 3, 3, 3, 3, 2, 2]", "features.strides=[5, 2, 2, 2, 2, 2, 2]",
            "features.bias=false", "encoder.hidden=768", "encoder.layers=12", "encoder.heads=12", "encoder.intermediate=3072",
            "encoder.pos_kernel=128", "encoder.pos_groups=16", "eps=1e-05",
        ])
        let plain = try SpecCompiler.compile(path: Self.hubertBase).graph
        let overridden = try SpecCompiler.compile(path: Self.hubertBase, overrides: overrides).graph
        #expect(overridden == plain)
        #expect(overridden.parameterCount == 94_371_712)
    }

    @Test("a tiny config maps onto the spec's keys and compiles")
    func tinyConfig() throws {
        let overrides = try HFCheckpoint.configOverrides(json: Self.tinyConfig)
        #expect(overrides == [
            "features.channels=16", "features.kernels=[10, 3, 2]", "features.strides=[5, 2, 2]", "features.bias=true",
            "encoder.hidden=32", "encoder.layers=2", "encoder.heads=4", "encoder.intermediate=64", "encoder.pos_kernel=8",
            "encoder.pos_groups=4", "eps=1e-12",
        ])
        let graph = try SpecCompiler.compile(path: Self.hubertBase, overrides: overrides).graph
        let names = Set(graph.parameterNodes.map(\.name))
        #expect(names.contains("feature_extractor.conv_layers.2.conv.bias"))
        #expect(!names.contains("feature_extractor.conv_layers.3.conv.weight"))
        #expect(names.contains("encoder.layers.1.final_layer_norm.weight"))
        #expect(!names.contains("encoder.layers.2.final_layer_norm.weight"))
    }

    @Test("variants the graph does not compute are refused by name", arguments: [
        (#"{"feat_extract_norm": "layer"}"#, "feat_extract_norm 'layer' (layer norm in every conv layer, as in hubert-large) is not supported"),
        (#"{"do_stable_layer_norm": true}"#, "do_stable_layer_norm true (pre-LN transformer layers, as in hubert-large) is not supported"),
        (#"{"feat_proj_layer_norm": false}"#, "feat_proj_layer_norm false (no layer norm before the feature projection) is not supported"),
        (#"{"hidden_act": "relu"}"#, "hidden_act 'relu' is not supported"),
        (#"{"feat_extract_activation": "gelu_new"}"#, "feat_extract_activation 'gelu_new' is not supported"),
        (#"{"conv_pos_batch_norm": true}"#, "conv_pos_batch_norm true (batch norm instead of weight norm in the positional convolution) is not supported"),
        (#"{"model_type": "wav2vec2"}"#, "model_type 'wav2vec2' is not supported: only HuBERT checkpoints (model_type 'hubert') are read"),
        (#"{"conv_dim": [512, 256]}"#, "conv_dim with different sizes per layer is not supported (got [512, 256])"),
        (#"{"conv_kernel": [10, 3]}"#, "conv_dim, conv_kernel and conv_stride must have one entry per conv layer, but have 7, 2 and 7"),
        (#"{"hidden_size": "768"}"#, "'hidden_size' must be a positive integer of at most 65536, got \"768\""),
        (#"{"num_hidden_layers": 2.0}"#, "'num_hidden_layers' must be a positive integer of at most 1024, got 2.0"),
        (#"{"conv_bias": 1}"#, "'conv_bias' must be true or false, got 1"),
        (#"{"conv_stride": [5, 0]}"#, "'conv_stride' must be a non-empty list of positive integers of at most 65536, got [5, 0]"),
        (#"{"layer_norm_eps": -1}"#, "'layer_norm_eps' must be a positive number, got -1"),
        // Sizes are bounded before anything is built: 16 million layers would grow without end.
        (#"{"num_hidden_layers": 16777217}"#, "'num_hidden_layers' must be a positive integer of at most 1024, got 16777217"),
        (#"{"hidden_size": 770}"#, "hidden_size 770 is not divisible by num_attention_heads 12"),
        (#"{"hidden_size": 65536, "num_attention_heads": 16, "intermediate_size": 65536, "num_hidden_layers": 1024}"#,
         "num_hidden_layers 1024, hidden_size 65536 and intermediate_size 65536 make about 26388279066624 parameters, past the limit of 17179869184"),
    ])
    func refused(config: String, message: String) {
        let error = checkpointMessage { () throws(CheckpointError) in _ = try HFCheckpoint.configOverrides(json: config) }
        #expect(error?.hasPrefix("error: config.json: \(message)") == true, "\(error ?? "no error")")
    }

    @Test("several refusals are reported together; a missing model_type is accepted")
    func refusedTogether() throws {
        let error = checkpointMessage { () throws(CheckpointError) in
            _ = try HFCheckpoint.configOverrides(json: #"{"do_stable_layer_norm": true, "feat_extract_norm": "layer"}"#, file: "large/config.json")
        }
        #expect(error?.components(separatedBy: "\n").filter { $0.hasPrefix("error: large/config.json: ") }.count == 2)
        #expect(try HFCheckpoint.configOverrides(json: #"{"hidden_size": 96}"#).contains("encoder.hidden=96"))
    }

    @Test("checkpoint names become the graph's: hubert. stripped, weight-norm parametrizations renamed, heads dropped")
    func tensorNames() {
        #expect(HFCheckpoint.backboneName("hubert.encoder.layers.0.attention.q_proj.weight") == "encoder.layers.0.attention.q_proj.weight")
        #expect(HFCheckpoint.backboneName("encoder.layers.0.attention.q_proj.weight") == "encoder.layers.0.attention.q_proj.weight")
        #expect(HFCheckpoint.backboneName("hubert.masked_spec_embed") == "masked_spec_embed")
        #expect(HFCheckpoint.backboneName("masked_spec_embed") == "masked_spec_embed")
        #expect(HFCheckpoint.backboneName("hubert.encoder.pos_conv_embed.conv.parametrizations.weight.original0") == "encoder.pos_conv_embed.conv.weight_g")
        #expect(HFCheckpoint.backboneName("encoder.pos_conv_embed.conv.parametrizations.weight.original1") == "encoder.pos_conv_embed.conv.weight_v")
        #expect(HFCheckpoint.backboneName("encoder.pos_conv_embed.conv.weight_g") == "encoder.pos_conv_embed.conv.weight_g")
        #expect(HFCheckpoint.backboneName("projector.weight") == nil)
        #expect(HFCheckpoint.backboneName("classifier.bias") == nil)
        #expect(HFCheckpoint.backboneName("lm_head.weight") == nil)
        #expect(HFCheckpoint.backboneName("layer_weights") == nil)
    }

    @Test("a tiny HubertForSequenceClassification directory loads and binds to the compiled graph")
    func loadDirectory() throws {
        let overrides = try HFCheckpoint.configOverrides(json: Self.tinyConfig)
        let graph = try SpecCompiler.compile(path: Self.hubertBase, overrides: overrides).graph
        var tensors: [(String, HostTensor)] = []
        for (index, node) in graph.parameterNodes.enumerated() {
            guard case let .parameter(name, shape) = node.op else { continue }
            let dims = shape.compactMap(\.constantValue)
            let tensor = HostTensor(floats: Array(repeating: Float(index), count: dims.reduce(1, *)), shape: dims)
            let fileName = "hubert." + name
                .replacingOccurrences(of: "conv.weight_g", with: "conv.parametrizations.weight.original0")
                .replacingOccurrences(of: "conv.weight_v", with: "conv.parametrizations.weight.original1")
            tensors.append((fileName, tensor))
        }
        tensors.append(("projector.weight", HostTensor(.f32, shape: [256, 32])))
        tensors.append(("classifier.weight", HostTensor(.f32, shape: [4, 256])))
        tensors.append(("classifier.bias", HostTensor(.f32, shape: [4])))
        let folder = TemporaryDirectory()
        folder.write(Self.tinyConfig, to: "config.json")
        try Safetensors.write(tensors, metadata: ["format": "pt"], to: folder.file("model.safetensors"))

        let checkpoint = try HFCheckpoint.load(directory: folder.path)
        #expect(checkpoint.configOverrides == overrides)
        #expect(checkpoint.droppedTensors == ["classifier.bias", "classifier.weight", "projector.weight"])
        #expect(checkpoint.tensors["encoder.pos_conv_embed.conv.weight_g"]?.shape == [1, 1, 8])
        #expect(checkpoint.tensors["encoder.pos_conv_embed.conv.weight_v"]?.shape == [32, 8, 8])
        let bound = try ParameterStore(checkpoint.tensors).bind(to: graph, source: folder.path)
        #expect(bound.count == graph.parameterNodes.count)
        #expect(bound.enumerated().allSatisfy { index, tensor in tensor.floatArray.allSatisfy { $0 == Float(index) } })
    }

    @Test("a directory with only pytorch_model.bin gets the conversion command")
    func pytorchOnly() {
        let folder = TemporaryDirectory()
        folder.write("{}", to: "config.json")
        folder.write([0x80, 0x02], to: "pytorch_model.bin")
        let error = checkpointMessage { () throws(CheckpointError) in _ = try HFCheckpoint.load(directory: folder.path) }
        #expect(error == """
            error: \(folder.path)/model.safetensors: missing; the weights are in pytorch_model.bin, a PyTorch pickle, and PyTorch pickles are not read
              hint: convert it to safetensors with
                python -c "from transformers import HubertModel; HubertModel.from_pretrained('\(folder.path)').save_pretrained('\(folder.path)-safetensors', safe_serialization=True)"
              and load '\(folder.path)-safetensors'
            """)
    }

    @Test("a missing directory, config.json or weights, and a bad config.json, are errors naming the file")
    func missingFiles() {
        let folder = TemporaryDirectory()
        func load(_ directory: String) -> String? {
            checkpointMessage { () throws(CheckpointError) in _ = try HFCheckpoint.load(directory: directory) }
        }
        #expect(load(folder.file("absent")) == "error: \(folder.file("absent")): no such directory")
        #expect(load(folder.path) == "error: \(folder.path)/config.json: missing (a HuggingFace checkpoint directory has config.json and model.safetensors)")
        folder.write(#"{"hidden_size": 768,"#, to: "config.json")
        #expect(load(folder.path)?.hasPrefix("error: \(folder.path)/config.json: not valid JSON") == true)
        folder.write("[768]", to: "config.json")
        #expect(load(folder.path) == "error: \(folder.path)/config.json: not a JSON object")
        folder.write("{}", to: "config.json")
        #expect(load(folder.path) == "error: \(folder.path)/model.safetensors: missing (a HuggingFace checkpoint directory has config.json and model.safetensors)")
        folder.write([1, 2, 3], to: "model.safetensors")
        #expect(load(folder.path)?.hasPrefix("error: \(folder.path)/model.safetensors: truncated") == true)
        #expect(load(folder.file("config.json"))?.hasSuffix("config.json: not a directory (a HuggingFace checkpoint is a directory with config.json and model.safetensors)") == true)
    }
}

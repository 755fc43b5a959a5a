import Audio
import Foundation
import GraphIR
import GraphSpec
import Runtime
import SER

/// A reader of user input that the fuzzing harness feeds: one file in, accepted (exit 0) or refused with a located
/// message (exit 1), never a trap, a hang or unbounded memory.
enum FuzzTarget: String, CaseIterable, Sendable {
    case spec
    case safetensors
    case hfConfig = "hf-config"
    case manifest
    case emoEvaluation = "emoevaluation"
    case audio

    /// The extension of its inputs (a file's extension selects the manifest delimiter and the audio container).
    var fileExtension: String {
        switch self {
        case .spec: "yaml"
        case .safetensors: "safetensors"
        case .hfConfig: "json"
        case .manifest: "csv"
        case .emoEvaluation: "txt"
        case .audio: "wav"
        }
    }

    /// Reads one input the way the commands do; throws the error they would print.
    func run(_ path: String) throws {
        switch self {
        case .spec:
            _ = try SpecCompiler.compile(path: path)
        case .safetensors:
            _ = try Safetensors.read(path)
        case .hfConfig:
            _ = try HFCheckpoint.configOverrides(contentsOf: path)
        case .manifest:
            _ = try Manifest.read(path)
        case .emoEvaluation:
            // An IEMOCAP session whose one label file is the input (a link to it, so messages name its path).
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("gmptl-fuzz-\(getpid())").path
            defer { try? FileManager.default.removeItem(atPath: root) }
            let labels = root + "/Session1/dialog/EmoEvaluation", wavs = root + "/Session1/sentences/wav/Ses01F_impro01"
            try FileManager.default.createDirectory(atPath: labels, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: wavs, withIntermediateDirectories: true)
            let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
            try FileManager.default.createSymbolicLink(atPath: labels + "/Ses01F_impro01.txt", withDestinationPath: absolute)
            _ = try IEMOCAP.read(root: root)
        case .audio:
            _ = try AudioFile.load16k(path)
        }
    }

    /// Text a refusal must contain to be located: the file's name as the message gives it.
    func locationMarker(_ path: String) -> String {
        self == .emoEvaluation ? "Ses01F_impro01.txt" : path
    }

    /// Tokens the mutator inserts: the syntax and the numbers that break readers of this kind.
    var tokens: [String] {
        let numbers = ["0", "-1", "1", "2147483648", "4294967296", "9223372036854775807", "-9223372036854775808",
                       "99999999999999999999", "1e308", "-1e308", "nan", ".inf", "0.0", "1e-45"]
        switch self {
        case .spec:
            return numbers + ["${", "}", "[", "]", "{", "}", ": ", "\n", "\n  ", "- ", "&a ", "*a", "<<: ", "'", "\"",
                              "repeat: ", "count: ", "from: ", "${a + a}", "${[a, a]}", "${len(", "//", " * ", "imports:\n  z: ",
                              "/dev/zero", "op: ", "block: ", "in: ", "out: ", "shape: [", "B", "T", "params: ", "\t", "#"]
        case .hfConfig, .safetensors:
            return numbers + ["{", "}", "[", "]", "\"", ":", ",", "null", "true", "false", "\"dtype\":\"F32\"",
                              "\"shape\":[", "\"data_offsets\":[", "\"F64\"", "\"BF16\"", "\"num_hidden_layers\":", "\"hidden_size\":",
                              "\"conv_dim\":[", "\\u0000", "\\ud800"]
        case .manifest:
            return numbers + [",", "\t", "\n", "\r\n", "\"", "\"\"", "../", "/dev/zero", "/", ".wav", "path", "emotion",
                              "session", "speaker", "gender", "Session1", "neutral", "happy", "F", "M", "\u{FEFF}"]
        case .emoEvaluation:
            return numbers + ["[", "]", " - ", "\t", "\n", "Ses01F_impro01_F000", "neu", "hap", "ang", "sad", "exc",
                              "xxx", "%", ";", "\r\n", "\u{0}", "C-E1:", "A-E1:"]
        case .audio:
            return ["RIFF", "WAVE", "fmt ", "data", "LIST", "\u{0}\u{0}\u{0}\u{0}", "\u{FF}\u{FF}\u{FF}\u{7F}",
                    "\u{0}\u{0}\u{0}\u{80}", "\u{1}\u{0}", "\u{3}\u{0}", "\u{FE}\u{FF}", "\u{80}\u{3E}\u{0}\u{0}"]
        }
    }

    /// Valid inputs to start from, written into `folder`: a small instance of the format (specs: the checkout's
    /// graphs too).
    func writeSeeds(into folder: String) throws -> [String] {
        var paths = [String]()
        func write(_ name: String, _ text: String) throws {
            let path = folder + "/" + name
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            paths.append(path)
        }
        switch self {
        case .spec:
            try write("tiny.yaml", """
                version: 1
                name: tiny
                config:
                  hidden: 8
                  kernels: [3, 2]
                inputs:
                  x: {dtype: f32, shape: [B, T, 4]}
                  lengths: {dtype: i32, shape: [B]}
                blocks:
                  layer:
                    inputs: [x, lengths]
                    nodes:
                      q: {op: linear, in: x, out: "${hidden}", params: q}
                      a: {op: attention, in: [q, q, q, lengths], heads: 2}
                      n: {op: layer_norm, in: a, eps: 1.0e-5, params: n}
                    outputs: [n]
                model:
                  nodes:
                    c: {op: conv1d, in: x, out: "${hidden}", kernel: "${kernels[0]}", stride: 2, params: c}
                    f: {op: window_lengths, in: lengths, kernel: "${kernels[0]}", stride: 2}
                    g: {op: gelu, in: c}
                    layers: {block: layer, repeat: {count: 2, from: 1}, in: [g, f], params: "layers.{i}"}
                  outputs:
                    y: layers

                """)
            for name in ["hubert_base.yaml", "gmp_tl.yaml"] where FileManager.default.fileExists(atPath: "graphs/" + name) {
                let path = folder + "/" + name
                try? FileManager.default.removeItem(atPath: path)
                try FileManager.default.copyItem(atPath: "graphs/" + name, toPath: path)
                paths.append(path)
            }
        case .safetensors:
            let path = folder + "/small.safetensors"
            try Safetensors.write([("a.weight", HostTensor(floats: [1, 2, 3, 4, 5, 6], shape: [2, 3])),
                                   ("b", HostTensor(floats: [0.5], shape: [1]))], metadata: ["key": "value"], to: path)
            paths.append(path)
        case .hfConfig:
            try write("config.json", """
                {"model_type": "hubert", "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
                 "intermediate_size": 3072, "conv_dim": [512, 512, 512, 512, 512, 512, 512],
                 "conv_kernel": [10, 3, 3, 3, 3, 2, 2], "conv_stride": [5, 2, 2, 2, 2, 2, 2], "conv_bias": false,
                 "num_conv_pos_embeddings": 128, "num_conv_pos_embedding_groups": 16, "layer_norm_eps": 1e-05,
                 "feat_extract_norm": "group", "do_stable_layer_norm": false, "hidden_act": "gelu"}
                """)
        case .manifest:
            try write("manifest.csv", "path,emotion,session,speaker,gender\na.wav,neutral,s1,spk1,F\nb.wav,happy,s2,spk2,M\n")
        case .emoEvaluation:
            try write("labels.txt", """
                % [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]

                [6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]
                C-E2:\tNeutral;\t()
                A-E1:\tval 3; act 2; dom  2;\t()

                [10.0100 - 11.3925]\tSes01F_impro01_F001\tang\t[2.5000, 2.5000, 2.5000]

                """)
        case .audio:
            let path = folder + "/tone.wav"
            let samples = (0..<800).map { Float(sin(Double($0) * 0.1)) * 0.5 }
            try AudioFile.writeWAV(samples, sampleRate: 16_000, to: path)
            paths.append(path)
        }
        return paths
    }
}

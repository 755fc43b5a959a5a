import Kernels

/// Buffers for benchmarks, filled with uniform noise; freed with the object.
final class BenchBuffer {
    let pointer: UnsafeMutablePointer<Float>

    init(_ count: Int, seed: UInt64 = 1) {
        pointer = .allocate(capacity: max(1, count))
        Philox(seed: seed).fillUniform(pointer, count: max(1, count), low: -1, high: 1)
    }

    deinit { pointer.deallocate() }
}

/// One row of `gmptl bench kernels`: a kernel call on prepared buffers and its floating-point operations.
struct KernelBenchmark {
    var name: String
    var shape: String
    var flops: Double
    /// Runs the kernel once; the buffers it uses are captured, allocated before timing.
    var run: () -> Void
}

enum KernelBenchmarks {
    static func all(quick: Bool) -> [KernelBenchmark] {
        var list = [gemm(1024)]
        if !quick { list.append(gemm(4096)) }
        list += transformerProducts(quick: quick)
        list += hubertConvolutions()
        list += attention(batch: 1)
        list += lstm(batch: 8)
        return list
    }

    static func gemm(_ size: Int) -> KernelBenchmark {
        let a = BenchBuffer(size * size, seed: 1), b = BenchBuffer(size * size, seed: 2), c = BenchBuffer(size * size, seed: 3)
        return KernelBenchmark(name: "sgemm", shape: "\(size)^3", flops: Gemm.flops(m: size, n: size, k: size)) {
            Gemm.multiply(m: size, n: size, k: size, a: a.pointer, lda: size, b: b.pointer, ldb: size, c: c.pointer, ldc: size)
        }
    }

    /// The linear layers of one HuBERT base layer on 4 s (199 frames a sequence) at batch 1 and 8, `x W^T` as the
    /// interpreter runs them, through each engine this CPU runs.
    static func transformerProducts(quick: Bool) -> [KernelBenchmark] {
        let engines = Gemm.Engine.allCases.filter { $0 == .openBLAS || Gemm.packedSupported }
        var list = [KernelBenchmark]()
        for batch in quick ? [1] : [1, 8] {
            let rows = 199 * batch
            // q, k, v and the output projection are 768 -> 768 each; "q/k/v" is the three as one product.
            for (label, outFeatures, inFeatures) in [("768", 768, 768), ("q/k/v", 2_304, 768), ("ffn in", 3_072, 768), ("ffn out", 768, 3_072)] {
                let x = BenchBuffer(rows * inFeatures), w = BenchBuffer(outFeatures * inFeatures, seed: 2)
                let y = BenchBuffer(rows * outFeatures, seed: 3)
                let dw = BenchBuffer(outFeatures * inFeatures, seed: 4)
                for engine in engines {
                    list.append(KernelBenchmark(
                        name: "linear \(label) (\(engine.rawValue))", shape: "\(rows)x\(inFeatures) -> \(outFeatures)",
                        flops: Gemm.flops(m: rows, n: outFeatures, k: inFeatures)
                    ) {
                        Gemm.multiply(
                            transB: true, m: rows, n: outFeatures, k: inFeatures, a: x.pointer, lda: inFeatures,
                            b: w.pointer, ldb: inFeatures, c: y.pointer, ldc: outFeatures, engine: engine)
                    })
                }
                // q, k and v as the fusion pass runs them in inference: three 768-column members of one
                // `linear_group` (separate weights and outputs), against the one product above.
                if label == "q/k/v" {
                    for engine in engines {
                        let members = (0..<3).map { part in
                            Gemm.GroupMember(b: w.pointer + part * 768 * inFeatures, ldb: inFeatures, n: 768,
                                             c: y.pointer + part * rows * 768, ldc: 768)
                        }
                        list.append(KernelBenchmark(
                            name: "linear q/k/v group (\(engine.rawValue))", shape: "\(rows)x\(inFeatures) -> 3 x 768",
                            flops: Gemm.flops(m: rows, n: outFeatures, k: inFeatures)
                        ) {
                            Gemm.multiplyGroup(transB: true, m: rows, k: inFeatures, a: x.pointer, lda: inFeatures, members: members,
                                               engine: engine)
                        })
                    }
                }
                // The input gradient dy W and the weight gradient dy^T x (the training step's other products per
                // layer), per engine.
                let dx = BenchBuffer(rows * inFeatures, seed: 5)
                for engine in engines where !quick {
                    list.append(KernelBenchmark(
                        name: "  dx \(label) (\(engine.rawValue))", shape: "\(rows) rows",
                        flops: Gemm.flops(m: rows, n: inFeatures, k: outFeatures)
                    ) {
                        Gemm.multiply(
                            m: rows, n: inFeatures, k: outFeatures, a: y.pointer, lda: outFeatures,
                            b: w.pointer, ldb: inFeatures, c: dx.pointer, ldc: inFeatures, engine: engine)
                    })
                }
                for engine in engines where !quick {
                    list.append(KernelBenchmark(
                        name: "  dW \(label) (\(engine.rawValue))", shape: "\(rows) rows",
                        flops: Gemm.flops(m: outFeatures, n: inFeatures, k: rows)
                    ) {
                        Gemm.multiply(
                            transA: true, m: outFeatures, n: inFeatures, k: rows, a: y.pointer, lda: outFeatures,
                            b: x.pointer, ldb: inFeatures, c: dw.pointer, ldc: inFeatures, engine: engine)
                    })
                }
            }
        }
        return list
    }

    /// HuBERT base's feature encoder and positional conv on 4 s of 16 kHz audio, batch 1.
    static func hubertConvolutions() -> [KernelBenchmark] {
        var list = [KernelBenchmark]()
        var length = 64_000
        var channels = 1
        for (layer, (kernel, stride)) in zip([10, 3, 3, 3, 3, 2, 2], [5, 2, 2, 2, 2, 2, 2]).enumerated() {
            let geometry = Conv1d.Geometry(batch: 1, inChannels: channels, outChannels: 512, inLength: length, kernel: kernel, stride: stride)
            list.append(convolution("conv1d L\(layer)", geometry))
            if layer == 1 { list.append(convolutionBackward("conv1d L1 backward", geometry)) }
            length = geometry.outLength
            channels = 512
        }
        let positional = Conv1d.Geometry(batch: 1, inChannels: 768, outChannels: 768, inLength: length, kernel: 128, stride: 1, padding: 64, groups: 16)
        list.append(convolution("pos conv", positional))
        list.append(convolution("pos conv (FFT)", positional, spectral: true))
        list.append(convolutionBackward("pos conv backward", positional))
        return list
    }

    static func describe(_ g: Conv1d.Geometry) -> String {
        "\(g.inChannels)->\(g.outChannels) k\(g.kernel) s\(g.stride)\(g.padding > 0 ? " p\(g.padding)" : "")\(g.groups > 1 ? " g\(g.groups)" : "") T=\(g.outLength)"
    }

    /// The forward pass; `spectral`: through FFTs from the weight's spectrum, made once as inference keeps it (the
    /// FLOPs counted are still the direct product's, so GFLOP/s compare times).
    static func convolution(_ name: String, _ g: Conv1d.Geometry, spectral: Bool = false) -> KernelBenchmark {
        let x = BenchBuffer(g.batch * g.inLength * g.inChannels), w = BenchBuffer(g.outChannels * g.patchSize, seed: 2)
        let y = BenchBuffer(g.batch * g.outLength * g.outChannels), workspace = BenchBuffer(g.workspaceCount)
        let spectrum = spectral ? BenchBuffer(Conv1d.spectralWeightCount(g)) : nil
        if let spectrum { Conv1d.spectralWeight(g, weight: w.pointer, into: spectrum.pointer) }
        return KernelBenchmark(name: name, shape: describe(g), flops: g.flops) {
            Conv1d.forward(g, x: x.pointer, weight: w.pointer, bias: nil, y: y.pointer, workspace: workspace.pointer,
                           spectralWeight: spectrum.map { UnsafePointer($0.pointer) })
        }
    }

    /// Input and weight gradients: two GEMMs of the forward's size.
    static func convolutionBackward(_ name: String, _ g: Conv1d.Geometry) -> KernelBenchmark {
        let x = BenchBuffer(g.batch * g.inLength * g.inChannels), w = BenchBuffer(g.outChannels * g.patchSize, seed: 2)
        let dy = BenchBuffer(g.batch * g.outLength * g.outChannels, seed: 3), workspace = BenchBuffer(g.workspaceCount)
        let dx = BenchBuffer(g.batch * g.inLength * g.inChannels), dw = BenchBuffer(g.outChannels * g.patchSize)
        return KernelBenchmark(name: name, shape: describe(g), flops: 2 * g.flops) {
            Conv1d.backward(g, x: x.pointer, weight: w.pointer, dy: dy.pointer, dx: dx.pointer, dWeight: dw.pointer, dBias: nil,
                            workspace: workspace.pointer)
        }
    }

    /// One HuBERT base attention: 12 heads of 64 over 199 frames (4 s), forward and backward.
    static func attention(batch: Int) -> [KernelBenchmark] {
        let (frames, heads, headDim) = (199, 12, 64)
        let width = heads * headDim, count = batch * frames * width
        let q = BenchBuffer(count, seed: 1), k = BenchBuffer(count, seed: 2), v = BenchBuffer(count, seed: 3)
        let out = BenchBuffer(count), dq = BenchBuffer(count), dk = BenchBuffer(count), dv = BenchBuffer(count)
        // The forms the interpreter runs: the forward keeps no probabilities, the backward recomputes them.
        let forwardWorkspace = BenchBuffer(Attention.forwardWorkspaceCount(sequenceLength: frames))
        let workspace = BenchBuffer(Attention.backwardWorkspaceCount(sequenceLength: frames, recomputing: true))
        let lengths = UnsafeMutablePointer<Int32>.allocate(capacity: batch)
        lengths.initialize(repeating: Int32(frames), count: batch)
        let scale = 1 / Float(headDim).squareRoot()
        // Q K^T and P V: two products of T x T x d per head.
        let flops = 2 * Double(batch * heads) * Gemm.flops(m: frames, n: frames, k: headDim)
        let shape = "B=\(batch) T=\(frames) \(heads)x\(headDim)"
        let forward = KernelBenchmark(name: "attention", shape: shape, flops: flops) {
            Attention.forward(q: q.pointer, k: k.pointer, v: v.pointer, lengths: lengths, workspace: forwardWorkspace.pointer,
                              out: out.pointer, batch: batch, sequenceLength: frames, heads: heads, headDim: headDim, scale: scale)
        }
        // FLOPs of the gradient's four products (the recomputed scores come on top, not counted).
        let backward = KernelBenchmark(name: "attention backward", shape: shape, flops: 2 * flops) {
            Attention.backward(dOut: out.pointer, q: q.pointer, k: k.pointer, v: v.pointer, probabilities: nil,
                               lengths: lengths, dQ: dq.pointer, dK: dk.pointer, dV: dv.pointer, workspace: workspace.pointer,
                               batch: batch, sequenceLength: frames, heads: heads, headDim: headDim, scale: scale)
            _ = lengths  // kept alive with the closures; freed with the process
        }
        return [forward, backward]
    }

    /// The GMP-TL BiLSTM: 768 -> 2 x 256 over a batch of 4 s utterances (199 frames).
    static func lstm(batch: Int) -> [KernelBenchmark] {
        let shape = LSTM.Shape(batch: batch, steps: 199, inputSize: 768, hiddenSize: 256)
        let (gates, hidden, input) = (4 * shape.hiddenSize, shape.hiddenSize, shape.inputSize)
        let x = BenchBuffer(batch * shape.steps * input, seed: 1), y = BenchBuffer(batch * shape.steps * 2 * hidden)
        let dx = BenchBuffer(batch * shape.steps * input), saved = BenchBuffer(LSTM.savedCount(shape))
        let workspace = BenchBuffer(LSTM.backwardWorkspaceCount(shape))
        let sizes: [Int] = [gates * input, gates * hidden, gates, gates]
        let parameters: [[BenchBuffer]] = [0, 1].map { direction in
            sizes.indices.map { index in BenchBuffer(sizes[index], seed: UInt64(10 + 4 * direction + index)) }
        }
        let gradients: [[BenchBuffer]] = [0, 1].map { _ in sizes.map { BenchBuffer($0) } }
        func weights(_ d: Int) -> LSTM.Weights {
            LSTM.Weights(weightIH: parameters[d][0].pointer, weightHH: parameters[d][1].pointer,
                         biasIH: parameters[d][2].pointer, biasHH: parameters[d][3].pointer)
        }
        func gradient(_ d: Int) -> LSTM.Gradients {
            LSTM.Gradients(weightIH: gradients[d][0].pointer, weightHH: gradients[d][1].pointer,
                           biasIH: gradients[d][2].pointer, biasHH: gradients[d][3].pointer)
        }
        let lengths = UnsafeMutablePointer<Int32>.allocate(capacity: batch)
        lengths.initialize(repeating: Int32(shape.steps), count: batch)
        // Input projections and recurrent products of both directions.
        let rows = batch * shape.steps
        let flops = 2 * (Gemm.flops(m: rows, n: gates, k: input) + Gemm.flops(m: rows, n: gates, k: hidden))
        let description = "B=\(batch) T=\(shape.steps) \(input)->2x\(hidden)"
        let forward = KernelBenchmark(name: "BiLSTM", shape: description, flops: flops) {
            LSTM.forward(x: x.pointer, lengths: lengths, weights: weights(0), reverseWeights: weights(1), y: y.pointer,
                         saved: saved.pointer, shape: shape)
        }
        let backward = KernelBenchmark(name: "BiLSTM backward", shape: description, flops: 2 * flops) {
            LSTM.backward(x: x.pointer, lengths: lengths, weights: weights(0), reverseWeights: weights(1), y: y.pointer,
                          saved: saved.pointer, dy: y.pointer, dx: dx.pointer, gradients: gradient(0), reverseGradients: gradient(1),
                          workspace: workspace.pointer, shape: shape)
        }
        return [forward, backward]
    }
}

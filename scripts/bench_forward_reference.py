#!/usr/bin/env python3
"""HuBERT base forward in PyTorch and ONNX Runtime, for docs/performance.md next to `gmptl bench forward`.

Run by hand in the reference environment (not part of the build or the tests), in the same sitting as
`gmptl bench forward`, so that the ratio is honest:

    /work/refenv/bin/python scripts/bench_forward_reference.py [--seconds 4] [--batch 1,8] [--threads 2] [--time 3]

Random weights (transformers' HubertConfig defaults = hubert-base-ls960's geometry), float32, eval mode, no
attention mask; the median of repeated runs after a warm-up; FLOPs as in gmptl (products only, 56.9 GFLOP for 4 s).
"""
import argparse
import os
import tempfile
import time

import numpy as np
import torch
import onnxruntime
from transformers import HubertConfig, HubertModel

from reference_timing import median_seconds


def flops(samples, batch, config):
    length, total, channels = samples, 0.0, 1
    for kernel, stride, width in zip(config.conv_kernel, config.conv_stride, config.conv_dim):
        length = (length - kernel) // stride + 1
        total += 2 * length * width * channels * kernel
        channels = width
    hidden, frames = config.hidden_size, length
    total += 2 * frames * channels * hidden  # feature projection
    total += 2 * (frames + 1) * hidden * (hidden // config.num_conv_pos_embedding_groups) * config.num_conv_pos_embeddings
    per_layer = 2 * frames * hidden * hidden * 4 + 2 * frames * hidden * config.intermediate_size * 2 + 4 * frames * frames * hidden
    return batch * (total + config.num_hidden_layers * per_layer)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--batch", default="1,8")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--time", type=float, default=3)
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    config = HubertConfig()
    model = HubertModel(config).eval()
    samples = int(args.seconds * 16000)
    work = tempfile.mkdtemp(prefix="hubert-onnx-")
    path = os.path.join(work, "hubert.onnx")
    example = torch.zeros(1, samples)
    torch.onnx.export(model, (example,), path, input_names=["input_values"], output_names=["last_hidden_state"],
                      dynamic_axes={"input_values": {0: "batch", 1: "samples"}}, opset_version=17, dynamo=False)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    print(f"PyTorch {torch.__version__}, ONNX Runtime {onnxruntime.__version__}, {args.threads} threads")
    print(f"{'runtime':<14}{'audio':>8}{'batch':>7}{'GFLOP':>8}{'median ms':>11}{'GFLOP/s':>9}")
    for batch in [int(b) for b in args.batch.split(",")]:
        wave = torch.rand(batch, samples) - 0.5
        total = flops(samples, batch, config)
        with torch.inference_mode():
            seconds = median_seconds(lambda: model(wave), args.time)
        print(f"{'PyTorch':<14}{args.seconds:>7.1f}s{batch:>7}{total / 1e9:>8.2f}{seconds * 1e3:>11.1f}{total / seconds / 1e9:>9.1f}")
        feed = {"input_values": wave.numpy().astype(np.float32)}
        seconds = median_seconds(lambda: session.run(None, feed), args.time)
        print(f"{'ONNX Runtime':<14}{args.seconds:>7.1f}s{batch:>7}{total / 1e9:>8.2f}{seconds * 1e3:>11.1f}{total / seconds / 1e9:>9.1f}")


if __name__ == "__main__":
    main()

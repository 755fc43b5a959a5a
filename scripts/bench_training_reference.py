#!/usr/bin/env python3
"""HuBERT base forward + backward in PyTorch with the CNN feature extractor frozen, next to `gmptl bench train`.

Run by hand in the reference environment (not part of the build or the tests), in the same sitting as
`gmptl bench train`, so that the ratio is honest:

    /work/refenv/bin/python scripts/bench_training_reference.py [--seconds 4] [--batch 1] [--threads 2] \
        [--warmup 2] [--iterations 5]

Random weights (transformers' HubertConfig defaults = hubert-base-ls960's geometry), float32, no attention mask.
Training mode with every dropout, layerdrop and time masking at 0, so the work is deterministic and the same as
gmptl's; the feature extractor is frozen as by freeze_feature_encoder() (no graph is recorded through it). One
iteration: forward, loss = last_hidden_state.sum(), backward into the parameter gradients, zero_grad(set_to_none).
Reports the median and min over the timed iterations, the process's peak resident memory (getrusage maxrss, which
includes the model and the interpreter) and, for context, the eval-mode forward under no_grad in the same sitting.
"""
import argparse
import resource
import statistics

import torch
from transformers import HubertConfig, HubertModel

from reference_timing import cpu_model, timed_runs


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--iterations", type=int, default=5)
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    config = HubertConfig(hidden_dropout=0.0, activation_dropout=0.0, attention_dropout=0.0, feat_proj_dropout=0.0,
                          final_dropout=0.0, layerdrop=0.0, mask_time_prob=0.0, mask_feature_prob=0.0)
    model = HubertModel(config)
    model.feature_extractor._freeze_parameters()  # what HubertFor*.freeze_feature_encoder() calls
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    wave = torch.rand(args.batch, int(args.seconds * 16000)) - 0.5

    def step():
        model(wave).last_hidden_state.sum().backward()
        model.zero_grad(set_to_none=True)

    def forward():
        with torch.no_grad():
            model(wave)

    print(f"{cpu_model()}, PyTorch {torch.__version__}, {args.threads} threads")
    print(f"{trainable / 1e6:.1f}M trainable parameters; {args.warmup} warm-up + {args.iterations} timed iterations")
    rss_before = peak_rss_mib()
    train = timed_runs(step, args.warmup, args.iterations)
    rss_train = peak_rss_mib()
    model.eval()
    infer = timed_runs(forward, args.warmup, args.iterations)
    print(f"{'pass':<18}{'audio':>8}{'batch':>7}{'median ms':>11}{'min ms':>9}")
    for name, samples in [("forward+backward", train), ("forward (eval)", infer)]:
        print(f"{name:<18}{args.seconds:>7.1f}s{args.batch:>7}{statistics.median(samples) * 1e3:>11.1f}"
              f"{min(samples) * 1e3:>9.1f}")
    print(f"peak RSS: {rss_train:.0f} MiB after training ({rss_before:.0f} MiB with the model built, before it)")


if __name__ == "__main__":
    main()

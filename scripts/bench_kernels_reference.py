#!/usr/bin/env python3
"""PyTorch at the shapes of `gmptl bench kernels`, for docs/performance.md.

Run by hand in a reference environment (not part of the build or the tests):

    python3 -m venv /tmp/ref && /tmp/ref/bin/pip install 'torch==2.13.0+cpu'
    /tmp/ref/bin/python scripts/bench_kernels_reference.py [--threads 1,2] [--seconds 0.5]

Same rows, same FLOP counts and the same method (median of repeated runs after a warm-up) as the Swift command,
so the two tables compare row by row when they are measured in one sitting. PyTorch runs its own layouts:
convolutions channels-first [B, C, T], attention through scaled_dot_product_attention on [B, heads, T, d].
"""
import argparse

import torch
import torch.nn.functional as F

from reference_timing import median_seconds


def forward_only(fn):
    """Runs fn without recording a graph, as an inference forward pass."""
    def run():
        with torch.no_grad():
            fn()
    return run


def backward_only(output, inputs, grad):
    return lambda: torch.autograd.grad(output, inputs, grad, retain_graph=True)


def rows(quick):
    torch.manual_seed(0)
    out = []
    for n in [1024] + ([] if quick else [4096]):
        a, b = torch.rand(n, n), torch.rand(n, n)
        out.append(("sgemm", f"{n}^3", 2 * n**3, lambda a=a, b=b: torch.mm(a, b)))
    length, channels = 64000, 1
    for layer, (k, s) in enumerate(zip([10, 3, 3, 3, 3, 2, 2], [5, 2, 2, 2, 2, 2, 2])):
        x = torch.rand(1, channels, length, requires_grad=(layer == 1))
        w = torch.rand(512, channels, k, requires_grad=(layer == 1))
        out_len = (length - k) // s + 1
        flops = 2 * out_len * 512 * channels * k
        shape = f"{channels}->512 k{k} s{s} T={out_len}"
        out.append((f"conv1d L{layer}", shape, flops, lambda x=x, w=w, s=s: F.conv1d(x, w, stride=s)))
        if layer == 1:
            y = F.conv1d(x, w, stride=s)
            out.append(("conv1d L1 backward", shape, 2 * flops, backward_only(y, [x, w], torch.rand_like(y))))
        length, channels = out_len, 512
    x = torch.rand(1, 768, length, requires_grad=True)
    w = torch.rand(768, 48, 128, requires_grad=True)
    flops = 2 * (length + 1) * 768 * 48 * 128
    shape = f"768->768 k128 s1 p64 g16 T={length + 1}"
    out.append(("pos conv", shape, flops, lambda x=x, w=w: F.conv1d(x, w, padding=64, groups=16)))
    y = F.conv1d(x, w, padding=64, groups=16)
    out.append(("pos conv backward", shape, 2 * flops, backward_only(y, [x, w], torch.rand_like(y))))
    q, k_, v = (torch.rand(1, 12, 199, 64, requires_grad=True) for _ in range(3))
    flops = 2 * 12 * 2 * 199 * 199 * 64
    out.append(("attention", "B=1 T=199 12x64", flops, lambda: F.scaled_dot_product_attention(q, k_, v)))
    o = F.scaled_dot_product_attention(q, k_, v)
    out.append(("attention backward", "B=1 T=199 12x64", 2 * flops, backward_only(o, [q, k_, v], torch.rand_like(o))))
    lstm = torch.nn.LSTM(768, 256, batch_first=True, bidirectional=True)
    x = torch.rand(8, 199, 768, requires_grad=True)
    rows_ = 8 * 199
    flops = 2 * (2 * rows_ * 1024 * 768 + 2 * rows_ * 1024 * 256)
    out.append(("BiLSTM", "B=8 T=199 768->2x256", flops, lambda x=x: lstm(x)))
    y, _ = lstm(x)
    params = [x] + list(lstm.parameters())
    out.append(("BiLSTM backward", "B=8 T=199 768->2x256", 2 * flops, backward_only(y, params, torch.rand_like(y))))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--seconds", type=float, default=0.5)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    table = []
    for name, shape, flops, fn in rows(args.quick):
        if "backward" not in name:
            fn = forward_only(fn)
        line = [name, shape, f"{flops / 1e9:.3f}"]
        for t in threads:
            torch.set_num_threads(t)
            s = median_seconds(fn, args.seconds)
            line += [f"{s * 1e3:.1f}", f"{flops / s / 1e9:.1f}"]
        table.append(line)
    header = ["kernel", "shape", "GFLOP"] + [c for t in threads for c in (f"ms ({t}t)", f"GFLOP/s ({t}t)")]
    widths = [max(len(r[i]) for r in [header] + table) for i in range(len(header))]
    fmt = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
    print(f"PyTorch {torch.__version__}")
    print(fmt(header))
    print("  ".join("-" * w for w in widths))
    for r in table:
        print(fmt(r))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""End-to-end parity of `gmptl embed` with transformers' HubertModel on a fresh random checkpoint.

Run by hand (not in CI), after `swift build` (or with --gmptl pointing at a release build):

    /work/refenv/bin/python scripts/check_embed_parity.py [--hidden 48 --layers 3 --heads 6 ...]
        [--weight-norm legacy|parametrizations] [--batch 4] [--gmptl .build/debug/gmptl]

It makes a random HubertModel with scripts/make_hubert_fixture.py (sizes from the options, so it is not the
committed fixture), writes its utterances as float WAV files, runs `gmptl embed` on them with --batch 1 and with
--batch N, and compares every hidden state with transformers' (run one utterance at a time):
max |ours - theirs| <= 1e-4 * max |theirs| per tensor, and batch N against batch 1 to 1e-5 relative.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import soundfile
from safetensors.numpy import load_file

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gmptl", default=os.path.join(ROOT, ".build/debug/gmptl"))
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--weight-norm", default="legacy", choices=["legacy", "parametrizations"])
    args, fixture_args = parser.parse_known_args()
    if not fixture_args:
        fixture_args = ["--hidden", "48", "--layers", "3", "--heads", "6", "--intermediate", "96",
                        "--conv-dim", "24,24,24,24", "--conv-kernels", "10,3,3,2", "--conv-strides", "5,2,2,2",
                        "--pos-kernel", "12", "--pos-groups", "6", "--seed", "11", "--mask-time-prob", "0.05"]
    work = tempfile.mkdtemp(prefix="gmptl-parity-")
    model = os.path.join(work, "model")
    subprocess.run([sys.executable, os.path.join(HERE, "make_hubert_fixture.py"), "--out", model,
                    "--weight-norm", args.weight_norm] + fixture_args, check=True)
    reference = load_file(os.path.join(model, "reference.safetensors"))
    waves = sorted(k for k in reference if k.startswith("wave."))
    files = []
    for name in waves:
        path = os.path.join(work, f"utt{name.split('.')[1]}.wav")
        soundfile.write(path, reference[name], 16000, subtype="FLOAT")
        files.append(path)
    results = {}
    for batch in sorted({1, args.batch}):
        out = os.path.join(work, f"embed{batch}.safetensors")
        subprocess.run([args.gmptl, "embed", "--checkpoint", model, "--out", out, "--batch", str(batch),
                        "--spec", os.path.join(ROOT, "graphs/hubert_base.yaml")] + files, check=True)
        results[batch] = load_file(out)
    worst = 0.0
    for key, theirs in reference.items():
        if not key.startswith("hidden."):
            continue
        _, layer, utterance = key.split(".")
        ours = results[1][f"utt{utterance}/hidden.{layer}"]
        assert ours.shape == theirs.shape, (key, ours.shape, theirs.shape)
        error = np.abs(ours - theirs).max() / np.abs(theirs).max()
        worst = max(worst, error)
        batched = results[args.batch][f"utt{utterance}/hidden.{layer}"]
        agreement = np.abs(batched - ours).max() / np.abs(ours).max()
        print(f"{key}: {ours.shape} relative error {error:.2e}, batch {args.batch} vs 1 {agreement:.2e}")
        assert error <= 1e-4, f"{key}: {error}"
        assert agreement <= 1e-5, f"{key} batched: {agreement}"
    print(f"OK: {len(reference) - len(waves)} hidden states, worst relative error {worst:.2e} ({args.weight_norm} weight norm)")


if __name__ == "__main__":
    main()

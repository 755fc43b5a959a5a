#!/usr/bin/env python3
"""Checks a model exported by `gmptl export` against `gmptl predict --json`: the ONNX file runs in ONNX Runtime on
one zero-padded batch of the given recordings (16 kHz mono 16-bit WAV, of different lengths), and each file's
emotion and gender probabilities are compared with what gmptl predicts for the file alone.

Run by hand in the reference environment (onnx, onnxruntime, numpy), never by the build or the tests:

    gmptl export runs/demo --onnx demo.onnx
    python3 scripts/check_onnx_export.py --gmptl .build/release/gmptl runs/demo demo.onnx a.wav b.wav c.wav

Exits with status 1 when a probability differs by more than --tolerance (1e-4).
"""
import argparse
import json
import subprocess
import sys
import wave

import numpy as np
import onnx
import onnxruntime


def read_wav(path):
    with wave.open(path) as f:
        if f.getnchannels() != 1 or f.getsampwidth() != 2 or f.getframerate() != 16000:
            sys.exit(f"{path}: this check reads 16 kHz mono 16-bit WAV files only")
        return np.frombuffer(f.readframes(f.getnframes()), dtype="<i2").astype(np.float32) / 32768.0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run")
    parser.add_argument("model")
    parser.add_argument("wavs", nargs="+")
    parser.add_argument("--gmptl", default=".build/release/gmptl")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    args = parser.parse_args()

    model = onnx.load(args.model)
    onnx.checker.check_model(model, full_check=True)
    metadata = {entry.key: entry.value for entry in model.metadata_props}
    classes = json.loads(metadata["classes"])
    genders = json.loads(metadata.get("genders", "[]"))

    waves = [read_wav(path) for path in args.wavs]
    longest = max(len(w) for w in waves)
    batch = np.zeros((len(waves), longest), dtype=np.float32)
    for row, w in enumerate(waves):
        batch[row, : len(w)] = w
    lengths = np.array([len(w) for w in waves], dtype=np.int32)
    session = onnxruntime.InferenceSession(args.model, providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    results = dict(zip(names, session.run(None, {"wave": batch, "lengths": lengths})))

    predicted = subprocess.run([args.gmptl, "predict", args.run, *args.wavs, "--json"], check=True, capture_output=True, text=True)
    rows = [json.loads(line) for line in predicted.stdout.splitlines() if line.strip()]

    worst = 0.0
    worst_log = 0.0
    print(f"{'file':40} {'samples':>8} {'emotion (gmptl / onnx)':>24} {'max |diff|':>11}")
    for row, (path, reference) in enumerate(zip(args.wavs, rows)):
        ours = np.array([reference["probabilities"][name] for name in classes])
        theirs = results["emotion_probabilities"][row]
        difference = float(np.abs(ours - theirs).max())
        # Saturated probabilities hide differences: the log-probabilities of the classes above 1e-6 too (gmptl writes
        # 7 significant digits).
        kept = (ours > 1e-6) & (theirs > 1e-6)
        log_difference = float(np.abs(np.log(ours[kept]) - np.log(theirs[kept])).max()) if kept.any() else 0.0
        worst_log = max(worst_log, log_difference)
        if "gender_probabilities" in results and "gender" in reference:
            gender = genders[int(np.argmax(results["gender_probabilities"][row]))]
            if gender != reference["gender"]:
                print(f"{path}: gender {reference['gender']} by gmptl, {gender} by ONNX Runtime")
                difference = max(difference, 1.0)
        worst = max(worst, difference)
        print(f"{path[-40:]:40} {len(waves[row]):>8} {reference['emotion'] + ' / ' + classes[int(np.argmax(theirs))]:>24} {difference:>11.2e}")
    print(f"largest difference {worst:.2e} (tolerance {args.tolerance:g}), of log-probabilities above 1e-6 {worst_log:.2e}; "
          f"onnx {onnx.__version__}, onnxruntime {onnxruntime.__version__}")
    sys.exit(0 if worst <= args.tolerance else 1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Reference loss and gradients of the `multitask` stage of graphs/gmp_tl.yaml on a tiny random HuBERT, as a fixture.

Run by hand in a reference environment (not part of the build or the tests):

    python3 -m venv /tmp/ref && /tmp/ref/bin/pip install 'torch==2.13.0+cpu' transformers safetensors
    /tmp/ref/bin/python scripts/make_gradient_fixture.py --out Tests/CompilerTests/Fixtures/gmptl_gradients

Options (defaults make the committed fixture):

    --out DIR                 where to write (created if missing)
    --seed N                  seeds the backbone and its noise (N), the heads (N + 1) and the utterances (N) (0)
    --noise S                 standard deviation of the Gaussian noise added to every backbone parameter after HF's
                              init (0.1), so that norm weights are not 1 and biases are not 0
    --mask-time-prob P        mask_time_prob (0.05): > 0 so that HF creates `masked_spec_embed`, which evaluation
                              never uses, so it gets no gradient
    --lstm-hidden N           lstm_hidden, per direction (8)
    --projection N            projection, the width of LinearP (8)
    --class-weights A,B,...   the emotion loss's class weights, one per emotion class (0.5,1.0,2.0,1.5)
    --gender-weight W         gender_weight, the gender loss's factor (0.3)
    --emotion A,B,...         emotion targets, one per utterance (2,0,3)
    --gender A,B,...          gender targets, one per utterance (1,0,1)

The backbone is the tiny HubertModel of scripts/make_hubert_fixture.py (hidden 32, 2 layers, 4 heads, intermediate 64,
conv_dim 32,32,32, kernels 10,3,3, strides 5,2,2, positional conv kernel 16 in 4 groups, no conv bias, group norm,
post-LN), built by that script's functions (its tensors differ from Tests/RuntimeTests/Fixtures/tiny_hubert's:
HF's init of `masked_spec_embed` draws random numbers too), and the utterances are that script's (4000, 3200 and 2001
samples). The model is graphs/gmp_tl.yaml's, in evaluation (no dropout, no time masking):

    h_i      = HubertModel(wave_i).last_hidden_state        each utterance alone: batch 1, no attention mask
    x        = the h_i zero-padded to the longest, frame lengths from HF's _get_feat_extract_output_lengths
    y        = heads.bilstm(x)                               torch.nn.LSTM(bidirectional, batch_first) on the
                                                             packed sequence (pack_padded_sequence), 0 at padding
    pooled   = mean of y over each utterance's valid frames
    p        = relu(heads.projection(pooled))
    loss     = CE(heads.emotion(p), emotion, weight=class_weights) + gender_weight * CE(heads.gender(p), gender)

with PyTorch's weighted-mean cross-entropy (sum_i w[t_i] nll_i / sum_i w[t_i]). Running each utterance alone is the
reference for a padded batch: HF's batched forward lets the first conv layer's group norm see the padded samples,
while graphs/hubert_base.yaml masks padding everywhere. Autograd runs through all three backbone passes.

The CNN feature extractor is frozen (`feature_extractor.*`, as in the stage); every other backbone parameter and
every head parameter gets a gradient, except `masked_spec_embed`, which evaluation does not use. Everything is
computed in float64 from the float32 parameters that are written, and stored as float32.

It writes, in DIR:

    config.json, model.safetensors    model.save_pretrained(DIR) of the random HubertModel (float32)
    heads.safetensors                 heads.bilstm.{weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0}[_reverse],
                                      heads.{projection,emotion,gender}.{weight,bias}   (float32)
    reference.safetensors             wave.<i>           f32 [samples]      utterance i, 16 kHz
                                      frame_lengths      i32 [3]            valid frames of each utterance
                                      emotion, gender    i32 [3]            targets
                                      class_weights      f32 [emotions]
                                      emotion_logits     f32 [3, emotions]
                                      gender_logits      f32 [3, genders]
                                      loss, emotion_loss, gender_loss   f32 []   (loss = emotion_loss
                                                                                 + gender_weight * gender_loss)
                                      grad.<name>        f32                d loss / d <name>, <name> as in
                                                                            model.safetensors or heads.safetensors
                                      metadata: transformers and torch versions, config (JSON), sizes, lengths, ...

Before writing, the script checks that the packed LSTM over the padded batch gives each utterance's unpadded run,
and checks autograd against central finite differences (float64) on the largest gradient entry of a few tensors.

Some gradients are exactly 0 in exact arithmetic and are stored as what float64 autograd leaves (about 1e-19):
`encoder.layers.*.attention.k_proj.bias` (a key bias adds the same score to every key of a query, which the softmax
cancels). Rows of `heads.projection.*` whose ReLU unit is off for every utterance are exactly 0.
"""
import argparse
import importlib.util
import json
import os

import torch
import torch.nn.functional as F
import transformers
from safetensors.torch import load_file
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

spec = importlib.util.spec_from_file_location(
    "make_hubert_fixture", os.path.join(os.path.dirname(os.path.abspath(__file__)), "make_hubert_fixture.py"))
tiny = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tiny)

BACKBONE = dict(hidden=32, layers=2, heads=4, intermediate=64, conv_dim=(32, 32, 32), conv_kernels=(10, 3, 3),
                conv_strides=(5, 2, 2), pos_kernel=16, pos_groups=4)
EMOTIONS, GENDERS = 4, 2
FINITE_DIFFERENCE_STEP = 1e-6
FINITE_DIFFERENCE_CHECKS = (  # the largest gradient entry of each of these is checked
    "feature_projection.layer_norm.weight",
    tiny.SPELLINGS["parametrizations"][0],
    tiny.SPELLINGS["parametrizations"][1],
    "encoder.layers.0.attention.q_proj.weight",
    "encoder.layers.1.feed_forward.output_dense.bias",
    "heads.bilstm.weight_hh_l0_reverse",
    "heads.projection.weight",
    "heads.emotion.bias",
)


def float_list(text):
    return tuple(float(x) for x in text.split(","))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--noise", type=float, default=0.1)
    parser.add_argument("--mask-time-prob", type=float, default=0.05)
    parser.add_argument("--lstm-hidden", type=int, default=8)
    parser.add_argument("--projection", type=int, default=8)
    parser.add_argument("--class-weights", type=float_list, default=(0.5, 1.0, 2.0, 1.5))
    parser.add_argument("--gender-weight", type=float, default=0.3)
    parser.add_argument("--emotion", type=tiny.int_list, default=(2, 0, 3))
    parser.add_argument("--gender", type=tiny.int_list, default=(1, 0, 1))
    args = parser.parse_args()
    if len(args.class_weights) != EMOTIONS:
        parser.error(f"--class-weights needs {EMOTIONS} entries")
    for name, targets, classes in (("--emotion", args.emotion, EMOTIONS), ("--gender", args.gender, GENDERS)):
        if len(targets) != len(tiny.LENGTHS) or not all(0 <= t < classes for t in targets):
            parser.error(f"{name} needs {len(tiny.LENGTHS)} targets in 0..<{classes}")
    return args


class Heads(nn.Module):
    """graphs/gmp_tl.yaml's heads: BiLSTM -> masked mean -> LinearP -> ReLU -> emotion and gender logits."""

    def __init__(self, hidden, lstm_hidden, projection):
        super().__init__()
        self.bilstm = nn.LSTM(hidden, lstm_hidden, batch_first=True, bidirectional=True)
        self.projection = nn.Linear(2 * lstm_hidden, projection)
        self.emotion = nn.Linear(projection, EMOTIONS)
        self.gender = nn.Linear(projection, GENDERS)

    def pooled(self, x, lengths):
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        y, _ = pad_packed_sequence(self.bilstm(packed)[0], batch_first=True, total_length=x.shape[1])
        return y.sum(1) / lengths[:, None].to(y.dtype)  # y is 0 at padded frames

    def forward(self, x, lengths):
        projected = F.relu(self.projection(self.pooled(x, lengths)))
        return self.emotion(projected), self.gender(projected)


def forward(model, heads, waves, lengths, targets, args):
    """The losses and logits of the batch; each utterance's backbone pass runs alone."""
    states = [model(wave[None]).last_hidden_state[0] for wave in waves]
    assert [s.shape[0] for s in states] == lengths.tolist(), "frames differ from _get_feat_extract_output_lengths"
    emotion_logits, gender_logits = heads(pad_sequence(states, batch_first=True), lengths)
    emotion, gender, class_weights = targets
    emotion_loss = F.cross_entropy(emotion_logits, emotion, weight=class_weights)
    gender_loss = F.cross_entropy(gender_logits, gender)
    return emotion_loss + args.gender_weight * gender_loss, emotion_loss, gender_loss, emotion_logits, gender_logits


def check_packing(heads, model, waves, lengths):
    """The packed LSTM over the padded batch pools each utterance as its unpadded run does."""
    with torch.no_grad():
        states = [model(wave[None]).last_hidden_state for wave in waves]
        batched = heads.pooled(pad_sequence([s[0] for s in states], batch_first=True), lengths)
        alone = torch.cat([heads.bilstm(s)[0].mean(1) for s in states])
    difference = float((batched - alone).abs().max())
    print(f"max |packed padded batch - each utterance alone| after the LSTM and the mean: {difference:.2e}")
    assert difference < 1e-12, "the packed LSTM does not match the per-utterance runs"


def check_finite_differences(parameters, gradients, loss_of):
    """Central differences in float64 on the largest gradient entry of each tensor of FINITE_DIFFERENCE_CHECKS."""
    for name in FINITE_DIFFERENCE_CHECKS:
        parameter, gradient = parameters[name], gradients[name]
        index = int(gradient.abs().argmax())
        flat = parameter.data.view(-1)
        original = float(flat[index])
        with torch.no_grad():
            flat[index] = original + FINITE_DIFFERENCE_STEP
            plus = float(loss_of())
            flat[index] = original - FINITE_DIFFERENCE_STEP
            minus = float(loss_of())
            flat[index] = original
        numeric = (plus - minus) / (2 * FINITE_DIFFERENCE_STEP)
        analytic = float(gradient.view(-1)[index])
        relative = abs(numeric - analytic) / abs(analytic)
        print(f"  {name}[{index}]: autograd {analytic:+.10e}, finite difference {numeric:+.10e}, rel err {relative:.1e}")
        assert relative < 1e-6, f"autograd and finite differences disagree on {name}"


def main():
    args = parse_args()
    config = tiny.make_config(argparse.Namespace(**BACKBONE, mask_time_prob=args.mask_time_prob))
    model = tiny.make_model(config, args)
    torch.manual_seed(args.seed + 1)
    heads = Heads(config.hidden_size, args.lstm_hidden, args.projection).eval()
    os.makedirs(args.out, exist_ok=True)

    model.save_pretrained(args.out)
    saved = load_file(os.path.join(args.out, "model.safetensors"))
    head_tensors = {f"heads.{name}": t.detach().clone() for name, t in heads.state_dict().items()}
    tiny.save_sorted(head_tensors, os.path.join(args.out, "heads.safetensors"), metadata={"format": "pt"})
    print(f"transformers {transformers.__version__}, torch {torch.__version__}")
    for name in sorted(head_tensors):
        print(f"  {name:40s} {list(head_tensors[name].shape)}")

    model.double().feature_extractor._freeze_parameters()
    heads.double()
    parameters = dict(model.named_parameters())
    assert parameters.keys() == saved.keys(), "named_parameters and model.safetensors name different tensors"
    assert all(torch.equal(p.detach().float(), saved[n]) for n, p in parameters.items()), "float64 copy changed"
    parameters.update({f"heads.{name}": p for name, p in heads.named_parameters()})

    waves32 = tiny.make_waves(args.seed)
    waves = [torch.from_numpy(w).double() for w in waves32]
    lengths = model._get_feat_extract_output_lengths(torch.tensor([len(w) for w in waves32]))
    targets = (torch.tensor(args.emotion), torch.tensor(args.gender), torch.tensor(args.class_weights, dtype=torch.float64))
    check_packing(heads, model, waves, lengths)

    loss, emotion_loss, gender_loss, emotion_logits, gender_logits = forward(model, heads, waves, lengths, targets, args)
    loss.backward()
    assert parameters["masked_spec_embed"].grad is None, "masked_spec_embed was used in evaluation"
    assert all(p.grad is None for n, p in parameters.items() if n.startswith("feature_extractor.")), "CNN not frozen"
    gradients = {n: p.grad for n, p in parameters.items() if p.grad is not None}
    expected = {n for n in parameters if n != "masked_spec_embed" and not n.startswith("feature_extractor.")}
    assert gradients.keys() == expected, f"gradients missing for {sorted(expected - gradients.keys())}"
    assert all(torch.isfinite(g).all() and g.abs().max() > 0 for g in gradients.values()), "a zero or bad gradient"
    print(f"lengths {[len(w) for w in waves32]} -> frames {lengths.tolist()}; loss {loss.item():.10f} = emotion "
          f"{emotion_loss.item():.10f} + {args.gender_weight} * gender {gender_loss.item():.10f}")
    print("finite differences (float64):")
    check_finite_differences(parameters, gradients, lambda: forward(model, heads, waves, lengths, targets, args)[0])

    tensors = {f"wave.{i}": torch.from_numpy(w) for i, w in enumerate(waves32)}
    tensors.update({
        "frame_lengths": lengths.int(),
        "emotion": targets[0].int(),
        "gender": targets[1].int(),
        "class_weights": targets[2].float(),
        "emotion_logits": emotion_logits.detach().float(),
        "gender_logits": gender_logits.detach().float(),
        "loss": loss.detach().float(),
        "emotion_loss": emotion_loss.detach().float(),
        "gender_loss": gender_loss.detach().float(),
    })
    tensors.update({f"grad.{name}": g.float() for name, g in gradients.items()})
    tiny.save_sorted(tensors, os.path.join(args.out, "reference.safetensors"), metadata={
        "format": "pt",
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "config": json.dumps(config.to_diff_dict(), sort_keys=True),
        "lstm_hidden": str(args.lstm_hidden),
        "projection": str(args.projection),
        "emotions": str(EMOTIONS),
        "genders": str(GENDERS),
        "gender_weight": repr(args.gender_weight),
        "lengths": json.dumps([len(w) for w in waves32]),
        "frames": json.dumps(lengths.tolist()),
        "utterances": str(len(waves32)),
        "sample_rate": str(tiny.SAMPLE_RATE),
        "seed": str(args.seed),
        "noise": repr(args.noise),
        "frozen": "feature_extractor",
        "note": "multitask stage of graphs/gmp_tl.yaml in eval mode; each utterance's backbone run alone (batch 1, "
                "no attention mask), last_hidden_states zero-padded, packed BiLSTM, masked mean; computed in float64",
    })

    files = sorted(os.path.join(args.out, name) for name in os.listdir(args.out))
    for path in files:
        os.chmod(path, 0o644)  # safetensors creates its files 0600
    print("\n".join(tiny.size_line(path) for path in files))
    print(f"{sum(os.path.getsize(path) for path in files):>10,d}  total")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A tiny random HuggingFace HubertModel and its hidden states, as a test fixture for graphs/hubert_base.yaml.

Run by hand in a reference environment (not part of the build or the tests):

    python3 -m venv /tmp/ref && /tmp/ref/bin/pip install 'torch==2.13.0+cpu' transformers safetensors
    /tmp/ref/bin/python scripts/make_hubert_fixture.py --out Tests/RuntimeTests/Fixtures/tiny_hubert

Options (defaults make the committed fixture):

    --out DIR                 where to write (created if missing)
    --seed N                  seeds the parameters, the noise added to them and the utterances (0)
    --hidden N                hidden_size (32)
    --layers N                num_hidden_layers (2)
    --heads N                 num_attention_heads (4)
    --intermediate N          intermediate_size (64)
    --conv-dim A,B,...        conv_dim, one entry per conv layer (32,32,32)
    --conv-kernels A,B,...    conv_kernel (10,3,3)
    --conv-strides A,B,...    conv_stride (5,2,2)
    --pos-kernel N            num_conv_pos_embeddings (16; even, so HF drops the last frame of the positional conv)
    --pos-groups N            num_conv_pos_embedding_groups (4)
    --mask-time-prob P        mask_time_prob (0.0). HF creates `masked_spec_embed` only when this (or
                              mask_feature_prob) is > 0; it is unused in evaluation, so the hidden states do not change.
    --noise S                 standard deviation of the Gaussian noise added to every parameter after HF's init (0.1),
                              so that norm weights are not 1 and biases are not 0
    --weight-norm {parametrizations,legacy}
                              spelling of the weight-normed positional conv in model.safetensors:
                              `encoder.pos_conv_embed.conv.parametrizations.weight.original0/1` (what current
                              torch + transformers save) or the older `encoder.pos_conv_embed.conv.weight_g/weight_v`
                              (what torch.nn.utils.weight_norm saved, as in facebook/hubert-base-ls960)

It writes, in DIR:

    config.json, model.safetensors    model.save_pretrained(DIR) of the random HubertModel (float32)
    reference.safetensors             wave.<i>            f32 [samples]          utterance i, 16 kHz
                                      hidden.<l>.<i>      f32 [frames, hidden]   HF hidden_states[l] of utterance i,
                                                                                 l = 0 ... num_hidden_layers
                                      metadata: transformers and torch versions, config (JSON), lengths, frames, ...

Each utterance runs alone (batch 1, no attention mask, eval mode): HF's batched output depends on the padding (the
group norm of the first conv layer sees the padded samples), while graphs/hubert_base.yaml masks padding, so the
per-utterance runs are the reference for any batch of these utterances.

Before writing, the script checks HF against an independent plain-torch forward pass that follows
graphs/hubert_base.yaml node by node from the saved tensors, and that HF reloads the written model.safetensors
(either spelling) to the same hidden states.
"""
import argparse
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
import transformers
from safetensors import safe_open
from safetensors.torch import load_file
from transformers import HubertConfig, HubertModel

SAMPLE_RATE = 16000
LENGTHS = (4000, 3200, 2001)
POS = "encoder.pos_conv_embed.conv."
SPELLINGS = {
    "parametrizations": (POS + "parametrizations.weight.original0", POS + "parametrizations.weight.original1"),
    "legacy": (POS + "weight_g", POS + "weight_v"),
}


def int_list(text):
    return tuple(int(x) for x in text.split(","))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--intermediate", type=int, default=64)
    parser.add_argument("--conv-dim", type=int_list, default=(32, 32, 32))
    parser.add_argument("--conv-kernels", type=int_list, default=(10, 3, 3))
    parser.add_argument("--conv-strides", type=int_list, default=(5, 2, 2))
    parser.add_argument("--pos-kernel", type=int, default=16)
    parser.add_argument("--pos-groups", type=int, default=4)
    parser.add_argument("--mask-time-prob", type=float, default=0.0)
    parser.add_argument("--noise", type=float, default=0.1)
    parser.add_argument("--weight-norm", choices=sorted(SPELLINGS), default="parametrizations")
    args = parser.parse_args()
    if not len(args.conv_dim) == len(args.conv_kernels) == len(args.conv_strides):
        parser.error("--conv-dim, --conv-kernels and --conv-strides need the same number of entries")
    return args


def make_config(args):
    return HubertConfig(
        hidden_size=args.hidden,
        num_hidden_layers=args.layers,
        num_attention_heads=args.heads,
        intermediate_size=args.intermediate,
        hidden_act="gelu",
        feat_extract_activation="gelu",
        conv_dim=list(args.conv_dim),
        conv_kernel=list(args.conv_kernels),
        conv_stride=list(args.conv_strides),
        conv_bias=False,
        feat_extract_norm="group",
        feat_proj_layer_norm=True,
        num_conv_pos_embeddings=args.pos_kernel,
        num_conv_pos_embedding_groups=args.pos_groups,
        conv_pos_batch_norm=False,
        layer_norm_eps=1e-5,
        do_stable_layer_norm=False,
        hidden_dropout=0.0,
        activation_dropout=0.0,
        attention_dropout=0.0,
        feat_proj_dropout=0.0,
        final_dropout=0.0,
        layerdrop=0.0,
        mask_time_prob=args.mask_time_prob,
        mask_feature_prob=0.0,
    )


def make_model(config, args):
    torch.manual_seed(args.seed)
    model = HubertModel(config)
    with torch.no_grad():
        for _, parameter in sorted(model.named_parameters()):
            parameter.add_(args.noise * torch.randn_like(parameter))
    return model.eval()


def make_waves(seed):
    """Noise plus two sines of random frequency, amplitude and phase per utterance, float32 in [-1, 1]."""
    rng = np.random.default_rng(seed)
    waves = []
    for samples in LENGTHS:
        t = np.arange(samples) / SAMPLE_RATE
        wave = 0.05 * rng.standard_normal(samples)
        for low, high in ((80.0, 400.0), (1000.0, 4000.0)):
            wave += rng.uniform(0.1, 0.4) * np.sin(2 * np.pi * rng.uniform(low, high) * t + rng.uniform(0, 2 * np.pi))
        waves.append(np.clip(wave, -1.0, 1.0).astype(np.float32))
    return waves


def frame_count(samples, kernels, strides):
    for kernel, stride in zip(kernels, strides):
        samples = (samples - kernel) // stride + 1
    return samples


def hf_hidden_states(model, wave):
    with torch.no_grad():
        out = model(torch.from_numpy(wave)[None], output_hidden_states=True)
    states = [h[0].float().contiguous() for h in out.hidden_states]
    assert torch.equal(states[-1], out.last_hidden_state[0]), "hidden_states[-1] is not last_hidden_state"
    return states


def yaml_forward(params, config, wave):
    """graphs/hubert_base.yaml in plain torch (batch 1, so no padding), from the tensors of model.safetensors."""
    p = lambda name: params[name]  # noqa: E731
    eps = config.layer_norm_eps
    x = torch.from_numpy(wave)[None, None]  # [1, 1, S] channels first for conv1d
    for i, (kernel, stride) in enumerate(zip(config.conv_kernel, config.conv_stride)):
        x = F.conv1d(x, p(f"feature_extractor.conv_layers.{i}.conv.weight"), stride=stride)
        if i == 0:  # group norm, one group per channel, over time
            x = F.group_norm(x, x.shape[1], p("feature_extractor.conv_layers.0.layer_norm.weight"),
                             p("feature_extractor.conv_layers.0.layer_norm.bias"), eps)
        x = F.gelu(x)
    x = x.transpose(1, 2)  # [1, T, C]
    x = F.layer_norm(x, x.shape[-1:], p("feature_projection.layer_norm.weight"),
                     p("feature_projection.layer_norm.bias"), eps)
    x = F.linear(x, p("feature_projection.projection.weight"), p("feature_projection.projection.bias"))
    if POS + "weight_g" in params:
        g, v = p(POS + "weight_g"), p(POS + "weight_v")
    else:
        g, v = p(SPELLINGS["parametrizations"][0]), p(SPELLINGS["parametrizations"][1])
    weight = g * v / v.norm(dim=(0, 1), keepdim=True)  # weight norm with dim=2: one norm per kernel tap
    k = config.num_conv_pos_embeddings
    pos = F.conv1d(x.transpose(1, 2), weight, p(POS + "bias"), padding=k // 2, groups=config.num_conv_pos_embedding_groups)
    if k % 2 == 0:
        pos = pos[:, :, :-1]
    x = x + F.gelu(pos).transpose(1, 2)
    x = F.layer_norm(x, x.shape[-1:], p("encoder.layer_norm.weight"), p("encoder.layer_norm.bias"), eps)
    states = [x[0]]
    heads = config.num_attention_heads
    for i in range(config.num_hidden_layers):
        lp = lambda name: (p(f"encoder.layers.{i}.{name}.weight"), p(f"encoder.layers.{i}.{name}.bias"))  # noqa: E731
        split = lambda t: t.view(1, t.shape[1], heads, -1).transpose(1, 2)  # noqa: E731
        q, k_, v_ = (split(F.linear(x, *lp(f"attention.{n}_proj"))) for n in "qkv")
        scores = q @ k_.transpose(-1, -2) / math.sqrt(q.shape[-1])
        attn = (scores.softmax(-1) @ v_).transpose(1, 2).reshape(x.shape)
        x = F.layer_norm(x + F.linear(attn, *lp("attention.out_proj")), x.shape[-1:], *lp("layer_norm"), eps)
        ff = F.linear(F.gelu(F.linear(x, *lp("feed_forward.intermediate_dense"))), *lp("feed_forward.output_dense"))
        x = F.layer_norm(x + ff, x.shape[-1:], *lp("final_layer_norm"), eps)
        states.append(x[0])
    return states


def max_diff(a_states, b_states):
    return max(float((a - b).abs().max()) for a, b in zip(a_states, b_states, strict=True))


def save_sorted(tensors, path, metadata):
    """safetensors.torch.save_file with a reproducible header: save_file writes the metadata in hash order, so the
    bytes change from run to run. Same format (little-endian data, header padded to 8 bytes), keys in sorted order."""
    dtypes = {torch.float32: "F32", torch.int32: "I32", torch.int64: "I64"}
    header = {"__metadata__": dict(sorted(metadata.items()))}
    blobs, offset = [], 0
    for name in sorted(tensors):
        data = tensors[name].detach().contiguous().cpu().numpy()
        data = data.astype(data.dtype.newbyteorder("<"), copy=False)
        blob = data.tobytes()
        header[name] = {"dtype": dtypes[tensors[name].dtype], "shape": list(data.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    written = load_file(path)
    assert written.keys() == tensors.keys(), f"{path}: tensor names changed on writing"
    assert all(torch.equal(written[k], tensors[k]) for k in tensors), f"{path}: tensors changed on writing"


def size_line(path):
    return f"{os.path.getsize(path):>10,d}  {path}"


def main():
    args = parse_args()
    config = make_config(args)
    model = make_model(config, args)
    os.makedirs(args.out, exist_ok=True)

    model.save_pretrained(args.out)
    model_path = os.path.join(args.out, "model.safetensors")
    params = load_file(model_path)
    g_name, v_name = SPELLINGS[args.weight_norm]
    saved_spelling = next((s for s, (g, _) in SPELLINGS.items() if g in params), None)
    if saved_spelling is None:
        raise SystemExit(f"no weight-normed positional conv among {sorted(params)}")
    if saved_spelling != args.weight_norm:
        src_g, src_v = SPELLINGS[saved_spelling]
        params = {name: tensor.clone() for name, tensor in params.items()}  # load_file may map the file we rewrite
        params[g_name], params[v_name] = params.pop(src_g), params.pop(src_v)
        with safe_open(model_path, "pt") as f:
            metadata = f.metadata() or {"format": "pt"}
        save_sorted(params, model_path, metadata)
    params = load_file(model_path)
    print(f"transformers {transformers.__version__}, torch {torch.__version__}; "
          f"save_pretrained spelled the positional conv '{saved_spelling}', the file has '{args.weight_norm}'")
    print(f"masked_spec_embed in model.safetensors: {'masked_spec_embed' in params}")
    print(f"{len(params)} tensors, {sum(t.numel() for t in params.values()):,d} parameters:")
    for name in sorted(params):
        print(f"  {name:70s} {str(list(params[name].shape)):16s} {params[name].dtype}")

    reloaded = HubertModel.from_pretrained(args.out).eval()
    waves = make_waves(args.seed)
    tensors = {}
    frames = []
    for i, wave in enumerate(waves):
        states = hf_hidden_states(model, wave)
        frames.append(states[0].shape[0])
        assert frames[-1] == frame_count(len(wave), config.conv_kernel, config.conv_stride)
        assert len(states) == config.num_hidden_layers + 1
        reload_diff = max_diff(states, hf_hidden_states(reloaded, wave))
        yaml_diff = max_diff(states, yaml_forward(params, config, wave))
        print(f"utterance {i}: {len(wave)} samples -> {frames[-1]} frames; max |HF - HF reloaded| {reload_diff:.2e}, "
              f"max |HF - plain torch after the YAML| {yaml_diff:.2e}, max |hidden| "
              f"{max(float(s.abs().max()) for s in states):.2f}")
        assert reload_diff == 0.0, "HF did not reload model.safetensors to the same model"
        assert yaml_diff < 1e-4, "HF and the plain-torch forward pass disagree"
        tensors[f"wave.{i}"] = torch.from_numpy(wave)
        for layer, state in enumerate(states):
            tensors[f"hidden.{layer}.{i}"] = state

    reference_path = os.path.join(args.out, "reference.safetensors")
    save_sorted(tensors, reference_path, metadata={
        "format": "pt",
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "config": json.dumps(config.to_diff_dict(), sort_keys=True),
        "lengths": json.dumps([len(w) for w in waves]),
        "frames": json.dumps(frames),
        "hidden_states": str(config.num_hidden_layers + 1),
        "utterances": str(len(waves)),
        "sample_rate": str(SAMPLE_RATE),
        "seed": str(args.seed),
        "weight_norm": args.weight_norm,
        "note": "each utterance run alone: batch 1, no attention mask, eval mode; hidden.<l>.<i> = hidden_states[l]",
    })

    files = sorted(os.path.join(args.out, name) for name in os.listdir(args.out))
    for path in files:
        os.chmod(path, 0o644)  # safetensors creates its files 0600
    print("\n".join(size_line(path) for path in files))
    total = sum(os.path.getsize(path) for path in files)
    print(f"{total:>10,d}  total")


if __name__ == "__main__":
    main()

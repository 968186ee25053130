#!/usr/bin/python3
"""Writes tests/fixtures/io/: one small file per import format QK Scope reads, plus expected.json.

PyTorch (Debian's python3-torch, run with /usr/bin/python3) is the independent reference: RoPE
(half-split, base 10000) and attention are written out here from their definitions in float64.
Torch 1.13 has no scaled_dot_product_attention, so attention is softmax(scale * q @ k^T + mask)
with query head h reading KV head h // (H / Hkv) and the causal rule "key j > query i is masked".
The files themselves are written with scripts/qkscope_export.py, the exporter users run.

The model: 2 layers, H=4 query heads, Hkv=2 KV heads, d=dv=8, N=7 tokens (some hostile to HTML),
causal, scale 1/sqrt(d). Stored tensors are float32 (float16 in qkv_f16.safetensors); every
expected value is computed in float64 from exactly the stored values, then rounded to float32,
and written to expected.json at full float32 precision.

Run: /usr/bin/python3 scripts/make_io_fixtures.py
"""
import json
import math
import os
import sys
import zipfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import qkscope_export as qe  # noqa: E402

torch.manual_seed(0)
OUT = os.path.normpath(os.path.join(HERE, "..", "tests", "fixtures", "io"))
L, H, HKV, D, DV, N = 2, 4, 2, 8, 8, 7
SCALE = 1.0 / math.sqrt(D)
TOKENS = ["<script>alert(1)</script>", " The", "<svg onload=alert(1)>", " café", "a&b",
          "\"quoted\"", " end"]
MODEL = "qkscope io fixture (2 layers, H=4, Hkv=2, d=8, RoPE base 10000)"


def rope(x, base=10000.0):
    """Half-split RoPE on [heads, N, d]: dims j and j + d/2 rotate by pos * base^(-2j/d)."""
    d = x.shape[-1]
    inv_freq = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    angle = torch.arange(x.shape[1], dtype=torch.float64)[:, None] * inv_freq  # [N, d/2]
    x1, x2 = x[..., :d // 2], x[..., d // 2:]
    return torch.cat([x1 * angle.cos() - x2 * angle.sin(), x2 * angle.cos() + x1 * angle.sin()], -1)


def attention(q, k, v, causal, scale):
    """float64 reference: (scaled scores with -inf where masked, weights, outputs)."""
    q, k, v = q.double(), k.double(), v.double()
    kv = torch.arange(q.shape[0]) // (q.shape[0] // k.shape[0])
    scores = q @ k[kv].transpose(-1, -2) * scale
    if causal:
        i = torch.arange(q.shape[1])[:, None]
        j = torch.arange(k.shape[1])[None, :]
        scores = scores.masked_fill(j > i, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return scores, weights, weights @ v[kv]


def f32(t):
    return t.double().numpy().astype(np.float32)


def flat(a):
    """Float32 values as a flat list of the doubles they equal exactly (full precision)."""
    return np.asarray(a, dtype=np.float32).astype(np.float64).ravel().tolist()


def fixed_zip(path):
    """Rewrite a .npz with fixed member timestamps, so regenerating gives identical bytes."""
    with zipfile.ZipFile(path) as zf:
        members = [(info.filename, zf.read(info)) for info in zf.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members:
            zf.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)


def write_json(name, obj):
    with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, allow_nan=False)


def main():
    os.makedirs(OUT, exist_ok=True)
    layers, expected_layers, weights, scores0 = [], [], [], None
    for _ in range(L):
        q_pre = torch.randn(H, N, D)
        k_pre = torch.randn(HKV, N, D)
        v = torch.randn(HKV, N, DV)
        q = torch.from_numpy(f32(rope(q_pre.double())))  # stored post-RoPE float32
        k = torch.from_numpy(f32(rope(k_pre.double())))
        cos, sin = qe.rope_cos_sin(N, D)  # the exporter's RoPE must agree with the reference
        assert np.allclose(qe.apply_rope_half(q_pre.numpy(), cos, sin), q.numpy(), atol=1e-6)
        layers.append({"q": q.numpy(), "k": k.numpy(), "v": v.numpy(),
                       "q_pre_rope": q_pre.numpy(), "k_pre_rope": k_pre.numpy()})

        s, w, out = attention(q, k, v, True, SCALE)
        _, _, out_k = attention(q, k, k, True, SCALE)  # no v: the keys serve as values
        h16 = [torch.from_numpy(t.numpy().astype(np.float16).astype(np.float32))
               for t in (q, k, v)]
        _, w16, out16 = attention(*h16, True, SCALE)
        assert torch.allclose(w.sum(-1), torch.ones(H, N, dtype=torch.float64))
        assert (w.triu(1) == 0).all()
        scores0 = s if scores0 is None else scores0
        weights.append(f32(w)[None])  # [1, H, N, N], as Hugging Face returns
        expected_layers.append({"weights": flat(f32(w)), "output": flat(f32(out)),
                                "output_k_as_v": flat(f32(out_k)), "weights_f16": flat(f32(w16)),
                                "output_f16": flat(f32(out16))})

    def path(name):
        return os.path.join(OUT, name)

    qe.save_qkv(path("qkv.safetensors"), layers, TOKENS, scale=SCALE, model=MODEL)
    qe.save_qkv(path("qkv_f16.safetensors"), layers, TOKENS, scale=SCALE, model=MODEL,
                dtype="float16")
    qe.save_qkv(path("qkv.npz"), layers, TOKENS, scale=SCALE, model=MODEL)
    no_v = [{r: a for r, a in layer.items() if r != "v"} for layer in layers]
    qe.save_qkv(path("qkv_no_v.safetensors"), no_v, TOKENS)  # default scale, no model
    qe.save_attention(path("attn_stack.npy"), weights)  # [L, 1, H, N, N], no tokens
    qe.save_attention(path("attn_layers.npz"), weights, TOKENS)
    qe.save_attention(path("attn.safetensors"), weights, TOKENS)
    qe.save_attention(path("circuitsvis.json"), weights, TOKENS, layer=0)
    qe.save_attention(path("bertviz.json"), weights, TOKENS)
    np.save(path("scores_layer0.npy"), f32(scores0))  # [H, N, N] logits, -inf where masked
    for name in ("qkv.npz", "attn_layers.npz"):
        fixed_zip(path(name))

    stack = np.stack(weights)  # [L, 1, H, N, N]
    write_json("inspectus.json", {"attn": stack[:, 0].tolist(), "query_tokens": TOKENS,
                                  "key_tokens": TOKENS})
    write_json("t2t.json", {"attention": stack.tolist(), "tokens": TOKENS})

    # Encoder-decoder (BertViz model_view): 2 layers, 2 heads, encoder N=5, decoder N=4.
    enc_tokens = ["<s>", "▁Das", "▁<b>", "&amp;", "</s>"]
    dec_tokens = ["<pad>", "▁This", "▁is", "</s>"]
    encdec = {"encoder": [], "decoder": [], "cross": []}
    for _ in range(2):
        eq, ek, dq, dk = (torch.randn(2, n, D) for n in (5, 5, 4, 4))
        parts = {"encoder": attention(eq, ek, ek, False, SCALE)[1],
                 "decoder": attention(dq, dk, dk, True, SCALE)[1],
                 "cross": attention(dq, ek, ek, False, SCALE)[1]}
        for key, w in parts.items():
            encdec[key].append(f32(w))
    write_json("bertviz_encdec.json", {
        "encoder_attention": [w[None].tolist() for w in encdec["encoder"]],
        "decoder_attention": [w[None].tolist() for w in encdec["decoder"]],
        "cross_attention": [w[None].tolist() for w in encdec["cross"]],
        "encoder_tokens": enc_tokens, "decoder_tokens": dec_tokens})

    write_json("expected.json", {
        "about": "float32 values from a float64 PyTorch reference (scripts/make_io_fixtures.py); "
                 "flat lists are row-major: weights [H, N, N], outputs [H, N, dv]",
        "tokens": TOKENS, "L": L, "H": H, "Hkv": HKV, "d": D, "dv": DV, "N": N,
        "scale": SCALE, "causal": True, "rope_base": 10000.0, "model": MODEL,
        "layers": expected_layers,
        "encdec": {"L": 2, "H": 2, "encoder_tokens": enc_tokens, "decoder_tokens": dec_tokens,
                   "encoder_shape": [2, 5, 5], "decoder_shape": [2, 4, 4],
                   "cross_shape": [2, 4, 5],
                   **{key: [flat(w) for w in ws] for key, ws in encdec.items()}},
    })

    total = 0
    for name in sorted(os.listdir(OUT)):
        size = os.path.getsize(path(name))
        total += size
        print(f"wrote tests/fixtures/io/{name:24s} {size:7d} bytes")
    print(f"total {total} bytes")
    assert total < 200 * 1024, "fixtures must stay small"


if __name__ == "__main__":
    main()

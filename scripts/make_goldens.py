#!/usr/bin/python3
"""Writes tests/golden/attention.json: dense attention goldens from PyTorch.

PyTorch (Debian's python3-torch, run with /usr/bin/python3) is the independent reference.
Torch 1.13 has no scaled_dot_product_attention, so the SDPA-equivalent is written here from
its documented definition: softmax(scale * q @ k^T + mask) @ v, with enable_gqa's contiguous
head mapping (repeat_interleave of K/V over the group) and the bottom-right causal rule
j <= i + (Nk - Nq) of ALGORITHMS.md 0.3. A row with no visible key gives zero weights and a zero
output (ALGORITHMS.md 0.3), where torch's softmax would give NaN.

Per-head statistics (entropy in nats, mean attention distance, sink mass on the first key) are
means over the rows that have any visible key.

Run: npm run goldens   (or /usr/bin/python3 scripts/make_goldens.py)
"""
import json
import math
import os

import torch

torch.manual_seed(20261128)
OUT = os.path.join(os.path.dirname(__file__), '..', 'tests', 'golden', 'attention.json')


def sdpa(q, k, v, causal, scale=None, layout='contiguous'):
    H, Nq, d = q.shape
    Hkv, Nk, _ = k.shape
    g = H // Hkv
    if layout == 'contiguous':
        kk = k.repeat_interleave(g, dim=0)
        vv = v.repeat_interleave(g, dim=0)
    else:
        idx = torch.arange(H) % Hkv
        kk, vv = k[idx], v[idx]
    s = (scale if scale is not None else 1.0 / math.sqrt(d))
    logits = torch.matmul(q.double(), kk.double().transpose(-1, -2)) * s
    allowed = torch.ones(Nq, Nk, dtype=torch.bool)
    if causal:
        i = torch.arange(Nq).unsqueeze(1)
        j = torch.arange(Nk).unsqueeze(0)
        allowed = j <= i + (Nk - Nq)
    masked = logits.masked_fill(~allowed, float('-inf'))
    w = torch.softmax(masked, dim=-1)
    w = torch.nan_to_num(w, nan=0.0)  # rows with no visible key
    out = torch.matmul(w, vv.double())
    return masked, w, out, allowed


def stats(w, Nq, Nk):
    H = w.shape[0]
    off = Nk - Nq
    mass = w.sum(-1)
    valid = (mass > 0).double()
    n = valid.sum(-1).clamp(min=1)
    safe = torch.where(w > 0, w, torch.ones_like(w))
    ent = -(w * torch.log(safe)).sum(-1)
    i = torch.arange(Nq).double().unsqueeze(1) + off
    j = torch.arange(Nk).double().unsqueeze(0)
    dist = (w * (i - j).abs()).sum(-1)
    sink = w[:, :, 0]
    mean = lambda x: ((x * valid).sum(-1) / n)
    return {'entropy': mean(ent).tolist(), 'distance': mean(dist).tolist(), 'sinkMass': mean(sink).tolist()}


def flat(t):
    return [None if math.isinf(x) else x for x in t.reshape(-1).tolist()]


def case(name, H, Hkv, Nq, Nk, d, dv, causal, scale=None, mul=1.0, layout='contiguous'):
    q = (torch.randn(H, Nq, d) * mul).float()
    k = (torch.randn(Hkv, Nk, d) * mul).float()
    v = torch.randn(Hkv, Nk, dv).float()
    scores, w, out, _ = sdpa(q, k, v, causal, scale, layout)
    return {
        'name': name, 'H': H, 'Hkv': Hkv, 'Nq': Nq, 'Nk': Nk, 'd': d, 'dv': dv,
        'causal': causal, 'scale': scale, 'layout': layout,
        'q': flat(q), 'k': flat(k), 'v': flat(v),
        'scores': flat(scores), 'weights': flat(w), 'output': flat(out),
        'stats': stats(w, Nq, Nk),
    }


cases = [
    case('mha causal', 2, 2, 5, 5, 4, 4, True),
    case('mha bidirectional', 2, 2, 5, 5, 4, 4, False),
    case('gqa causal (H=4, Hkv=2)', 4, 2, 6, 6, 8, 8, True),
    case('gqa bidirectional (H=6, Hkv=3)', 6, 3, 7, 7, 5, 3, False),
    case('mqa (H=3, Hkv=1)', 3, 1, 4, 4, 3, 3, True),
    case('gqa interleaved mapping', 4, 2, 5, 5, 4, 4, True, layout='interleaved'),
    case('N=1', 2, 1, 1, 1, 2, 2, True),
    case('N=3, d=1', 2, 2, 3, 3, 1, 1, True),
    case('N=3, d=1 bidirectional', 1, 1, 3, 3, 1, 2, False),
    case('extreme logits causal', 2, 1, 6, 6, 4, 4, True, mul=300.0),
    case('extreme logits bidirectional', 1, 1, 6, 6, 4, 4, False, mul=300.0),
    case('scale override 0.5', 2, 2, 4, 4, 4, 4, True, scale=0.5),
    case('Nq < Nk causal (decode-like)', 2, 2, 3, 6, 4, 4, True),
    case('Nq > Nk causal (rows with no key)', 2, 1, 6, 3, 4, 4, True),
    case('golden example (H=8, Hkv=4, N=24, d=16)', 8, 4, 24, 24, 16, 16, True),
]

os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, 'w') as f:
    json.dump({'generator': 'scripts/make_goldens.py', 'torch': torch.__version__, 'cases': cases}, f)
print(f'wrote {len(cases)} cases to {os.path.relpath(OUT)}')

#!/usr/bin/python3
"""Writes tests/golden/qk.json: goldens for issue 7 (ALGORITHMS.md 11 QK-score and Attention
Score, 12.1 RoPE, 12.2 QK-norm, 12.6 MergeLock).

An independent PyTorch reference (Debian's python3-torch 1.13 and numpy, run with
/usr/bin/python3), written from ALGORITHMS.md and the golden brief, not from the TypeScript.
The model forward passes are the float64 references of scripts/make_model_goldens.py
(llama_reference, gpt2_reference, its safetensors reader), imported, not copied; that script is
not changed. Everything is computed in float64. Seeded INPUTS (vectors, projections, MergeLock
matrices) are drawn from torch.Generator in float32 and used exactly (upcast), so the app can
start from the very same float32 values; every OUTPUT is the float64 result (JSON floats are
Python repr, round-trip exact). Matrices are row-major nested lists; tensors of rank >= 3 are
nested lists too (shape given next to each key below). Deterministic: rerunning writes
identical bytes.

Conventions
* Rotation R_m (12.1): for D dims and base theta, inv_freq[i] = theta^(-2i/D), i < D/2
  (computed as 1 / theta^(2i/D)); angle m*inv_freq[i]. A pair (u, w) becomes
  (u cos - w sin, w cos + u sin). Pairs: "half" = (i, i + D/2) (HF rotate_half, Llama/NeoX);
  "interleaved" = (2i, 2i+1) (GPT-J, FiT). Both layouts use the same inv_freq.
* Attention: query head h reads KV head kappa(h) = floor(h / (H/Hkv)); logits
  q.k / sqrt(d) for all (i, j); softmax over j <= i; weights exactly 0 above the diagonal.
* Argmax: first index on ties (every stored argmax below also has a gap to the runner-up that is
  asserted, see the *_gap keys, so float32 cannot flip it).

JSON schema (top level)
  "generator": "scripts/make_qk_goldens.py", "torch": version string, "spec": "ALGORITHMS.md ..."

  "rope": {
    "spec_tests": {
      "single": {"D": 2, "theta0": 1.0, "q": [1, 0], "position": 1,
                 "rotated": [2] (computed), "expected": [0.540302, 0.841471]},
      "relative": {"q": [1, 0], "k": [0.3, 0.7], "theta0": 1.0,
                   "R3q_dot_R1k": float, "R2q_dot_R0k": float, "expected": 0.511664}},
    "D": 8, "x": [8], "positions": [0, 1, 5, 37],
    "bases": [ {"theta": 100.0 | 10000.0 | 500000.0,
                "inv_freq": [4],
                "cos": [4 positions][4], "sin": [4 positions][4]   (angle per pair i),
                "half": [4 positions][8], "interleaved": [4 positions][8]} ],   (x rotated)
    "hf_check": {"max_abs_diff_half_vs_hf": float (<= 1e-12 asserted; HF apply_rotary_pos_emb
                 with rotate_half and cos/sin = cat(freqs, freqs), written as transformers does),
                 "max_abs_diff_interleaved_vs_complex": float (Meta-Llama / FiT complex form)},
    "relative_table": {"d": 16, "q": [16], "k": [16] (seeded float32), "m": 63,
                       "deltas": [0..63],
                       "no_rope": [64]  (= q.k for every delta),
                       "by_theta": [ {"theta": ..., "half": [64], "interleaved": [64]} ]}
                       score[delta] = (R_m q).(R_{m-delta} k), raw dot product, no 1/sqrt(d).
  }

  "qknorm": {
    "spec_test": {"x": [1,2,3,4], "eps": 1e-6, "out": [4], "expected": [4 values of 12.2]},
    "H": 2, "N": 6, "d": 8, "eps": 1e-6, "sqrt_d": float, "seed": int,
    "q": [2][6][8], "k": [2][6][8]  (seeded float32, std 2.5 so the raw logits exceed sqrt(d)),
    "q_ln": [2][6][8], "k_ln": [2][6][8]  LN over the head dim, no affine, biased variance,
                                          (x - mean)/sqrt(var + eps),
    "logits_before": [2][6][6], "logits_after": [2][6][6]  q.k/sqrt(d) for ALL (i, j) (also j > i),
    "weights_before": [2][6][6], "weights_after": [2][6][6]  causal softmax (0 above the diagonal),
    "max_abs_logit_before", "max_abs_logit_after": floats, max over the causal pairs j <= i.
    No RoPE in this case. Asserted: max_abs_logit_after <= sqrt_d < max_abs_logit_before.
  }

  "qkscore": {
    "spec_test": {"q": [2], "k": [4][2], "S_QK": [4], "expected": [0.5, 2, -1, 0],
                  "pred": 1, "pred_letter": "B"},
    "ids": [20], "p_N": 19, "positions": [4, 8, 12, 16], "letter_ids": [10, 11, 12, 13],
    "models": [ {"name": "llama-tiny" | "qwen2-tiny" | "gpt2-tiny",
                 "dir": "tests/fixtures/models/<name>", "arch": "llama" | "gpt2",
                 "L", "H", "Hkv", "hd": ints, "kappa": [H] (floor(h/(H/Hkv))),
                 "S_QK": [L][H][4]        q_pre[h, p_N] . k_pre[kappa(h), p_i]; the q_proj /
                                          k_proj outputs incl. biases (GPT-2: c_attn q and k
                                          column slices + bias), pre-RoPE, no 1/sqrt(d),
                 "S_QK_rope": [L][H][4] | null   the same with RoPE applied to q and k at their
                                          positions (Llama family only; null for GPT-2),
                 "S_Att": [L][H][4]       attention weight A[h, p_N, p_i] of the forward pass,
                 "pred_QK", "pred_QK_rope" (null for GPT-2), "pred_Att": [L][H] argmax index 0..3,
                 "pred_QK_gap", "pred_QK_rope_gap", "pred_Att_gap": [L][H] best - runner-up,
                 "q_pN": [L][H][hd]       pre-RoPE q at p_N,
                 "k_opts": [L][Hkv][4][hd] pre-RoPE k at p_1..p_4,
                 "letter_logits": [4]     logits[p_N, letter_ids],
                 "letter_argmax": int (0..3), "letter_argmax_id": int,
                 "logits_argmax_id": int (over the whole vocabulary)} ]
  }

  "mergelock": {
    "tolerance_rel": 1e-4,
    "d4_test": {"seed", "N": 6, "dm": 8, "d": 4,
                "X": [6][8], "W_Q", "W_K", "W_V": [8][4], "W_O": [4][8]  (math orientation,
                q = X W_Q), "A", "B": [4][4] (seeded Gaussian, cond < 100),
                "cond_A", "cond_B", "A_inv_T", "B_inv": [4][4],
                "S", "S_prime": [6][6] logits (X W_Q)(X W_K)^T / sqrt(d), all (i, j),
                "Y", "Y_prime": [6][8]  Y = softmax_causal(S) (X W_V) W_O,
                "max_rel_S", "max_rel_Y": max|.-.'| / max|.|  (< 1e-4 asserted),
                "rope": {"theta": 10000.0, "layout": "half",
                         "A_commuting": [4][4] (scaled rotations on pairs (0,2), (1,3)),
                         "max_rel_S_commuting", "max_rel_Y_commuting": (< 1e-4 asserted),
                         "max_rel_S_noncommuting", "max_rel_Y_noncommuting": with the Gaussian
                         A above (> 1e-2 asserted: must FAIL)}},
    "ids": [20] (same as qkscore),
    "models": [ {"name": "llama-tiny" | "gpt2-tiny", "dir", "arch", "rope": bool,
                 "L", "H", "Hkv", "hd", "seed": int,
                 "layers": [L] of {"groups": [Hkv] of {
                     "A": [hd][hd], "A_inv_T": [hd][hd], "cond_A",
                     "B": [hd][hd], "B_inv": [hd][hd], "cond_B",
                     (llama only) "A_noncommuting", "A_noncommuting_inv_T": [hd][hd],
                                  "cond_A_noncommuting"}},
                 "transformed": {HF tensor name: nested list in the stored HF layout},
                     the attention tensors after the transform (llama: q/k/v/o_proj.weight;
                     GPT-2: c_attn.weight, c_attn.bias, c_proj.weight; every other tensor,
                     c_proj.bias included, is unchanged),
                 "weight_change": {HF tensor name: {"max_abs_change", "max_abs_orig"}},
                 "invariance": {"per_layer": [L] of {"scores", "weights", "head_output",
                                 "hidden": {"max_abs", "max_rel"}}, "logits": {...},
                                "max_rel": float (< 1e-4 asserted)},
                 "float32_check": {"weights_max_abs", "logits_max_rel"}: the same transform done
                     in float32 and run through make_model_goldens.second_impl (float32
                     nn.functional forward): what a float32 app can expect (< 1e-4 asserted),
                 "noncommuting": same as invariance, llama only (max_rel > 1e-2 asserted),
                                 plus "pre_rope_qk_max_rel" (layer 0, whose input is unchanged:
                                 the pre-RoPE q.k stays invariant, < 1e-10 asserted)
                } ]
  }
  "scores" = logits q.k/sqrt(hd) for all (i, j); "weights" = causal softmax; "head_output"[h] =
  (P_h V_kappa(h)) W_O^h, the head's contribution to the residual stream ([H][N][D], the o_proj /
  c_proj bias excluded; the pre-W_O value P V becomes P V B and is asserted to); "hidden" = the
  residual stream after each layer; "logits" [N, V]. max_rel = max|orig - new| / max|orig|.

MergeLock orientation (12.6 in math orientation: x a row vector, q = x W_Q, W_Q: [D, H*hd],
column block h = head h; W_O: [H*hd, D], row block h = head h). For query head h in KV group
g = floor(h/(H/Hkv)) with matrices A = A_g, B = B_g (all query heads of a group share them):
  math:  W_Q^h <- W_Q^h A,  b_Q^h <- b_Q^h A;  W_K^g <- W_K^g A^{-T},  b_K^g <- b_K^g A^{-T};
         W_V^g <- W_V^g B,  b_V^g <- b_V^g B;  W_O^h <- B^{-1} W_O^h (every h of group g).
  HF nn.Linear (weight [out, in], y = x W^T + b; W_math = weight^T):
         q_proj.weight[h*hd:(h+1)*hd, :] <- A^T  . that block      q_proj.bias[block] <- block A
         k_proj.weight[g*hd:(g+1)*hd, :] <- A^{-1} . that block     k_proj.bias[block] <- block A^{-T}
         v_proj.weight[g*hd:(g+1)*hd, :] <- B^T  . that block      v_proj.bias[block] <- block B
         o_proj.weight[:, h*hd:(h+1)*hd] <- that block . B^{-T}
  GPT-2 Conv1D (weight [in, out], y = x W + b: already math orientation), E = n_embd:
         c_attn.weight[:, h*hd:(h+1)*hd]        <- that block . A      (q columns, bias likewise)
         c_attn.weight[:, E+h*hd:E+(h+1)*hd]    <- that block . A^{-T} (k columns, bias likewise)
         c_attn.weight[:, 2E+h*hd:2E+(h+1)*hd]  <- that block . B      (v columns, bias likewise)
         c_proj.weight[h*hd:(h+1)*hd, :]        <- B^{-1} . that block  (c_proj.bias unchanged)
  Sampling (torch.Generator(seed), float32, in order layer, group; resampled until cond < 100
  (2-norm condition number, torch.linalg.cond)):
    * Llama (RoPE, half-split pairs (i, i+hd/2)): A = block-diagonal scaled rotations: one
      [hd/2, 2] draw, row i = (a, c): A[i][i] = A[i+hd/2][i+hd/2] = a, A[i][i+hd/2] = -c,
      A[i+hd/2][i] = c (all other entries 0); such an A commutes with every R_m (asserted), and
      A^{-T} has the same form. Then B ~ N(0,1)^{hd x hd}. Then (same generator, llama only) the
      NON-commuting A_noncommuting ~ N(0,1)^{hd x hd} used only for the failing check (it keeps B).
    * GPT-2 (no RoPE): A ~ N(0,1)^{hd x hd}, then B ~ N(0,1)^{hd x hd}.

Run: /usr/bin/python3 scripts/make_qk_goldens.py
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_model_goldens as mmg  # noqa: E402  (float64 references + safetensors reader)

ROOT = os.path.normpath(os.path.join(HERE, '..'))
OUT = os.path.join(ROOT, 'tests', 'golden', 'qk.json')
MAX_BYTES = 1536 * 1024
TOL = 1e-4

ROPE_D = 8
ROPE_X = [0.5, -1.0, 1.5, 2.0, -0.25, 0.75, -1.25, 1.0]
ROPE_POSITIONS = [0, 1, 5, 37]
ROPE_BASES = [100.0, 10000.0, 500000.0]
REL_D, REL_M, REL_DELTAS = 16, 63, list(range(64))
SEED_REL = 7101
SEED_QKNORM = 7102
SEED_D4 = 7103
SEED_ML = {'llama-tiny': 7104, 'gpt2-tiny': 7105}

QK_IDS = [1, 23, 45, 7, 90, 12, 33, 71, 60, 56, 2, 38, 81, 49, 18, 27, 66, 64, 9, 30]
P_N = 19
OPT_POS = [4, 8, 12, 16]
LETTER_IDS = [10, 11, 12, 13]
GAP_MIN = 1e-5  # relative to max |S| of that (layer, head)


def t64(x):
    return torch.tensor(x, dtype=torch.float64)


def L(t):
    """tensor -> nested lists of Python floats (float64 values)."""
    return t.to(torch.float64).tolist()


def randn32(g, *shape, std=1.0):
    """Seeded float32 draw (the values the app gets), returned upcast to float64."""
    return (torch.randn(*shape, generator=g, dtype=torch.float32) * std).to(torch.float64)


def argmax_first(v):
    """First index of the maximum, and the gap to the runner-up."""
    v = [float(x) for x in v]
    best = 0
    for i in range(1, len(v)):
        if v[i] > v[best]:
            best = i
    rest = [x for i, x in enumerate(v) if i != best]
    return best, v[best] - max(rest)


# ---------------------------------------------------------------- 12.1 RoPE

def inv_freq(D, theta):
    return 1.0 / (theta ** (torch.arange(0, D, 2, dtype=torch.float64) / D))


def pairs(D, layout):
    if layout == 'half':
        return [(i, i + D // 2) for i in range(D // 2)]
    assert layout == 'interleaved'
    return [(2 * i, 2 * i + 1) for i in range(D // 2)]


def rope_explicit(x, m, theta, layout):
    """x [D] float64 at position m (any real), explicit per-pair formula of 12.1."""
    D = x.shape[-1]
    f = inv_freq(D, theta)
    y = x.clone()
    for i, (a, b) in enumerate(pairs(D, layout)):
        ang = m * float(f[i])
        c, s = math.cos(ang), math.sin(ang)
        y[a] = x[a] * c - x[b] * s
        y[b] = x[b] * c + x[a] * s
    return y


def rope_matrix(D, m, theta, layout):
    """R_m as a matrix acting on column vectors: rope_explicit(x) = R_m x."""
    return torch.stack([rope_explicit(e, m, theta, layout) for e in torch.eye(D, dtype=torch.float64)], dim=1)


# transformers' formulation (modeling_llama.py), in float64 instead of float32
def hf_rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def hf_apply_rotary_pos_emb(q, k, cos, sin, unsqueeze_dim=1):
    cos = cos.unsqueeze(unsqueeze_dim)
    sin = sin.unsqueeze(unsqueeze_dim)
    q_embed = (q * cos) + (hf_rotate_half(q) * sin)
    k_embed = (k * cos) + (hf_rotate_half(k) * sin)
    return q_embed, k_embed


def hf_rotary_cos_sin(dim, base, position_ids):
    """LlamaRotaryEmbedding.forward: inv_freq from int64 arange, freqs = inv_freq x positions,
    emb = cat(freqs, freqs); returns cos, sin [batch, seq, dim]."""
    inv = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).double() / dim))
    inv_expanded = inv[None, :, None].expand(position_ids.shape[0], -1, 1)
    pos_expanded = position_ids[:, None, :].double()
    freqs = (inv_expanded @ pos_expanded).transpose(1, 2)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


def complex_rope(x, positions, theta):
    """Meta-Llama / FiT interleaved form: view pairs (2i, 2i+1) as complex, multiply by
    polar(1, m*inv_freq). x [P, D] (row p at positions[p])."""
    D = x.shape[-1]
    f = inv_freq(D, theta)
    ang = torch.tensor(positions, dtype=torch.float64)[:, None] * f[None, :]
    cis = torch.polar(torch.ones_like(ang), ang)
    xc = torch.view_as_complex(x.reshape(x.shape[0], D // 2, 2).contiguous())
    return torch.view_as_real(xc * cis).reshape(x.shape[0], D)


def rope_section():
    # spec tests (D = 2, theta_0 = base^0 = 1)
    q = t64([1.0, 0.0])
    r = rope_explicit(q, 1, 10000.0, 'half')
    assert abs(float(r[0]) - 0.540302) < 1e-6 and abs(float(r[1]) - 0.841471) < 1e-6, r
    assert torch.equal(r, rope_explicit(q, 1, 10000.0, 'interleaved'))  # D = 2: one pair, same
    k = t64([0.3, 0.7])
    lhs = float(rope_explicit(q, 3, 1.0, 'half') @ rope_explicit(k, 1, 1.0, 'half'))
    rhs = float(rope_explicit(q, 2, 1.0, 'half') @ rope_explicit(k, 0, 1.0, 'half'))
    assert abs(lhs - 0.511664) < 1e-6 and abs(rhs - 0.511664) < 1e-6 and abs(lhs - rhs) < 1e-14, (lhs, rhs)
    spec = {'single': {'D': 2, 'theta0': 1.0, 'q': [1.0, 0.0], 'position': 1, 'rotated': L(r),
                       'expected': [0.540302, 0.841471]},
            'relative': {'q': [1.0, 0.0], 'k': [0.3, 0.7], 'theta0': 1.0, 'R3q_dot_R1k': lhs,
                         'R2q_dot_R0k': rhs, 'expected': 0.511664}}

    x = t64(ROPE_X)
    D = ROPE_D
    bases, hf_err, cx_err = [], 0.0, 0.0
    for theta in ROPE_BASES:
        f = inv_freq(D, theta)
        ang = torch.tensor(ROPE_POSITIONS, dtype=torch.float64)[:, None] * f[None, :]
        half = torch.stack([rope_explicit(x, p, theta, 'half') for p in ROPE_POSITIONS])
        inter = torch.stack([rope_explicit(x, p, theta, 'interleaved') for p in ROPE_POSITIONS])
        for y in (half, inter):
            assert torch.allclose(y.norm(dim=-1), x.norm().expand(len(ROPE_POSITIONS)), atol=1e-12, rtol=0)
        assert torch.equal(half[0], x) and torch.equal(inter[0], x)
        # HF apply_rotary_pos_emb, shapes as in transformers: q/k [batch, heads, seq, dim]
        pos_ids = torch.tensor([ROPE_POSITIONS])
        cos, sin = hf_rotary_cos_sin(D, theta, pos_ids)
        qh = x.expand(1, 1, len(ROPE_POSITIONS), D)
        qe, ke = hf_apply_rotary_pos_emb(qh, qh.flip(-1), cos, sin)
        kx = torch.stack([rope_explicit(x.flip(-1), p, theta, 'half') for p in ROPE_POSITIONS])
        hf_err = max(hf_err, float((qe[0, 0] - half).abs().max()), float((ke[0, 0] - kx).abs().max()))
        # the existing reference's tables agree too
        _, c2, s2 = mmg.rope_tables(max(ROPE_POSITIONS) + 1, D, theta)
        y2 = mmg.apply_rope(x.expand(1, max(ROPE_POSITIONS) + 1, D), c2, s2)[0, ROPE_POSITIONS]
        hf_err = max(hf_err, float((y2 - half).abs().max()))
        # interleaved = the complex form, and = half-split conjugated by the pair permutation
        cx = complex_rope(x.expand(len(ROPE_POSITIONS), D), ROPE_POSITIONS, theta)
        perm = [a for a, _ in pairs(D, 'interleaved')] + [b for _, b in pairs(D, 'interleaved')]
        hp = torch.stack([rope_explicit(x[perm], p, theta, 'half') for p in ROPE_POSITIONS])
        back = torch.empty_like(hp)
        back[:, perm] = hp
        cx_err = max(cx_err, float((cx - inter).abs().max()), float((back - inter).abs().max()))
        bases.append({'theta': theta, 'inv_freq': L(f), 'cos': L(torch.cos(ang)), 'sin': L(torch.sin(ang)),
                      'half': L(half), 'interleaved': L(inter)})
    assert hf_err <= 1e-12 and cx_err <= 1e-12, (hf_err, cx_err)

    g = torch.Generator().manual_seed(SEED_REL)
    qr, kr = randn32(g, REL_D), randn32(g, REL_D)
    table = {'d': REL_D, 'seed': SEED_REL, 'q': L(qr), 'k': L(kr), 'm': REL_M, 'deltas': REL_DELTAS,
             'no_rope': [float(qr @ kr)] * len(REL_DELTAS), 'by_theta': []}
    for theta in ROPE_BASES:
        row = {'theta': theta}
        for layout in ('half', 'interleaved'):
            Rq = rope_explicit(qr, REL_M, theta, layout)
            vals = []
            for dlt in REL_DELTAS:
                s = float(Rq @ rope_explicit(kr, REL_M - dlt, theta, layout))
                # relative property: = q . R_{-delta} k, and the same at another m
                s_rel = float(qr @ rope_explicit(kr, -dlt, theta, layout))
                s_far = float(rope_explicit(qr, 100 + dlt, theta, layout) @ rope_explicit(kr, 100, theta, layout))
                assert abs(s - s_rel) < 1e-12 and abs(s - s_far) < 1e-12, (theta, layout, dlt, s, s_rel, s_far)
                # matrix form (R_m q).(R_n k) = q . R_m^T R_n k
                vals.append(s)
            Rm, Rn = rope_matrix(REL_D, REL_M, theta, layout), rope_matrix(REL_D, REL_M - 10, theta, layout)
            assert abs(float(qr @ (Rm.T @ Rn) @ kr) - vals[10]) < 1e-12
            assert abs(vals[0] - float(qr @ kr)) < 1e-12  # delta 0: no relative rotation
            row[layout] = vals
        table['by_theta'].append(row)
    # the half and interleaved tables differ (different pairings), and RoPE changes the scores
    assert max(abs(a - b) for a, b in zip(table['by_theta'][1]['half'], table['by_theta'][1]['interleaved'])) > 1e-2
    return {'spec_tests': spec, 'D': D, 'x': L(x), 'positions': ROPE_POSITIONS, 'bases': bases,
            'hf_check': {'max_abs_diff_half_vs_hf': hf_err, 'max_abs_diff_interleaved_vs_complex': cx_err},
            'relative_table': table}


# ---------------------------------------------------------------- 12.2 QK-norm

def ln_noaffine(x, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps)


def causal_softmax(s):
    """s [..., N, N] -> weights with exact zeros above the diagonal (explicit, per row)."""
    N = s.shape[-1]
    w = torch.zeros_like(s)
    for i in range(N):
        row = s[..., i, :i + 1]
        e = torch.exp(row - row.max(-1, keepdim=True).values)
        w[..., i, :i + 1] = e / e.sum(-1, keepdim=True)
    return w


def qknorm_section():
    eps = 1e-6
    x = t64([1.0, 2.0, 3.0, 4.0])
    y = ln_noaffine(x, eps)
    expected = [-1.341640, -0.447213, 0.447213, 1.341640]
    assert all(abs(float(a) - b) < 1e-6 for a, b in zip(y, expected)), y
    assert torch.allclose(y, F.layer_norm(x, (4,), eps=eps), atol=1e-14)
    H, N, d = 2, 6, 8
    g = torch.Generator().manual_seed(SEED_QKNORM)
    q, k = randn32(g, H, N, d, std=2.5), randn32(g, H, N, d, std=2.5)
    qn, kn = ln_noaffine(q, eps), ln_noaffine(k, eps)
    assert torch.allclose(qn, F.layer_norm(q, (d,), eps=eps), atol=1e-12)
    assert torch.allclose(kn, F.layer_norm(k, (d,), eps=eps), atol=1e-12)
    sd = math.sqrt(d)
    for t in (qn, kn):
        assert float(t.norm(dim=-1).max()) <= sd and float((t.norm(dim=-1) - sd).abs().max()) < 1e-5
    lb = q @ k.transpose(-1, -2) / sd
    la = qn @ kn.transpose(-1, -2) / sd
    wb, wa = causal_softmax(lb), causal_softmax(la)
    causal = torch.ones(N, N, dtype=torch.bool).tril()
    for w, lg in ((wb, lb), (wa, la)):
        assert torch.allclose(w.sum(-1), torch.ones(H, N, dtype=torch.float64), atol=1e-14)
        assert torch.all(w.triu(1) == 0)
        ref = F.softmax(lg.masked_fill(~causal, float('-inf')), dim=-1)
        assert torch.allclose(w, ref, atol=1e-14)
    mb = float(lb[:, causal].abs().max())
    ma = float(la[:, causal].abs().max())
    assert ma <= sd < mb, (ma, sd, mb)
    return {'spec_test': {'x': L(x), 'eps': eps, 'out': L(y), 'expected': expected},
            'H': H, 'N': N, 'd': d, 'eps': eps, 'sqrt_d': sd, 'seed': SEED_QKNORM, 'input_std': 2.5,
            'q': L(q), 'k': L(k), 'q_ln': L(qn), 'k_ln': L(kn),
            'logits_before': L(lb), 'logits_after': L(la), 'weights_before': L(wb), 'weights_after': L(wa),
            'max_abs_logit_before': mb, 'max_abs_logit_after': ma}


# ---------------------------------------------------------------- models

def load_model(name):
    d = os.path.join(mmg.MODELS_DIR, name)
    with open(os.path.join(d, 'config.json')) as f:
        cfg = json.load(f)
    idx = os.path.join(d, 'model.safetensors.index.json')
    if os.path.exists(idx):
        with open(idx) as f:
            files = sorted(set(json.load(f)['weight_map'].values()))
    else:
        files = ['model.safetensors']
    W = {}
    for fn in files:
        got, _ = mmg.read_safetensors(os.path.join(d, fn))
        for k, (dt, shape, raw) in got.items():
            assert k not in W
            W[k] = torch.from_numpy(mmg.decode(dt, shape, raw).copy()).to(torch.float32)
    arch = 'gpt2' if cfg['model_type'] == 'gpt2' else 'llama'
    return cfg, W, arch


def dims(cfg, arch):
    if arch == 'gpt2':
        E, H = cfg['n_embd'], cfg['n_head']
        return cfg['n_layer'], H, H, E // H, E
    D, H = cfg['hidden_size'], cfg['num_attention_heads']
    return cfg['num_hidden_layers'], H, cfg['num_key_value_heads'], cfg.get('head_dim') or D // H, D


def forward(arch, cfg, W, ids):
    ref = mmg.gpt2_reference if arch == 'gpt2' else mmg.llama_reference
    return ref(cfg, W, ids)


def layer_inputs(arch, cfg, W, ids, layers):
    """Residual stream entering each layer (for the independent q/k recomputation)."""
    W = {k: v.to(torch.float64) for k, v in W.items()}
    t = torch.tensor(ids)
    if arch == 'gpt2':
        x0 = W['transformer.wte.weight'][t] + W['transformer.wpe.weight'][:len(ids)]
    else:
        x0 = W['model.embed_tokens.weight'][t]
    return [x0] + [Ly['hidden_out'] for Ly in layers[:-1]]


def qk_projections(arch, cfg, W, x, l):
    """Independent pre-RoPE q [H,N,hd], k [Hkv,N,hd] of layer l from its input x [N, D]."""
    W = {k: v.to(torch.float64) for k, v in W.items()}
    nl, H, Hkv, hd, D = dims(cfg, arch)
    N = x.shape[0]
    if arch == 'gpt2':
        p = f'transformer.h.{l}.'
        a = F.layer_norm(x, (D,), W[p + 'ln_1.weight'], W[p + 'ln_1.bias'], cfg['layer_norm_epsilon'])
        Wa, ba = W[p + 'attn.c_attn.weight'], W[p + 'attn.c_attn.bias']
        q = torch.stack([a @ Wa[:, h * hd:(h + 1) * hd] + ba[h * hd:(h + 1) * hd] for h in range(H)])
        k = torch.stack([a @ Wa[:, D + h * hd:D + (h + 1) * hd] + ba[D + h * hd:D + (h + 1) * hd] for h in range(H)])
        return q, k
    p = f'model.layers.{l}.'
    eps = cfg['rms_norm_eps']
    a = x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * W[p + 'input_layernorm.weight']
    out = []
    for nm, nh in (('q_proj', H), ('k_proj', Hkv)):
        Wt = W[p + f'self_attn.{nm}.weight']
        b = W.get(p + f'self_attn.{nm}.bias')
        heads = []
        for h in range(nh):
            y = a @ Wt[h * hd:(h + 1) * hd].T
            heads.append(y if b is None else y + b[h * hd:(h + 1) * hd])
        out.append(torch.stack(heads))
    assert out[0].shape == (H, N, hd)
    return out[0], out[1]


# ---------------------------------------------------------------- 11 QK-score

def qkscore_model(name):
    cfg, W, arch = load_model(name)
    nl, H, Hkv, hd, D = dims(cfg, arch)
    g = H // Hkv
    kappa = [h // g for h in range(H)]
    layers, fin, logits = forward(arch, cfg, W, QK_IDS)
    xin = layer_inputs(arch, cfg, W, QK_IDS, layers)
    attn32, logits32 = mmg.second_impl(arch, cfg, W, QK_IDS)
    theta = cfg.get('rope_theta')
    out = {k: [] for k in ('S_QK', 'S_QK_rope', 'S_Att', 'pred_QK', 'pred_QK_rope', 'pred_Att',
                           'pred_QK_gap', 'pred_QK_rope_gap', 'pred_Att_gap', 'q_pN', 'k_opts')}
    for l, Ly in enumerate(layers):
        qi, ki = qk_projections(arch, cfg, W, xin[l], l)
        assert float((qi - Ly['q_pre']).abs().max()) < 1e-12 and float((ki - Ly['k_pre']).abs().max()) < 1e-12
        assert float((attn32[l].double() - Ly['weights']).abs().max()) < 1e-5
        rows = {k: [] for k in out if k not in ('q_pN', 'k_opts')}
        for h in range(H):
            q = Ly['q_pre'][h, P_N]
            sqk = [float(q @ Ly['k_pre'][kappa[h], p]) for p in OPT_POS]
            satt = [float(Ly['weights'][h, P_N, p]) for p in OPT_POS]
            assert all(s > 0 for s in satt)
            kinds = [('QK', sqk), ('Att', satt)]
            if arch == 'llama':
                qr = rope_explicit(q, P_N, theta, 'half')
                srope = [float(qr @ rope_explicit(Ly['k_pre'][kappa[h], p], p, theta, 'half')) for p in OPT_POS]
                for i, p in enumerate(OPT_POS):  # = the forward pass's post-RoPE logits * sqrt(hd)
                    assert abs(srope[i] - float(Ly['scores'][h, P_N, p]) * math.sqrt(hd)) < 1e-10
                    assert abs(srope[i] - float(Ly['q'][h, P_N] @ Ly['k'][kappa[h], p])) < 1e-10
                kinds.append(('QK_rope', srope))
            else:
                for i, p in enumerate(OPT_POS):  # GPT-2: no RoPE, S_QK / sqrt(hd) = the logits
                    assert abs(sqk[i] - float(Ly['scores'][h, P_N, p]) * math.sqrt(hd)) < 1e-10
                rows['S_QK_rope'].append(None)
                rows['pred_QK_rope'].append(None)
                rows['pred_QK_rope_gap'].append(None)
            for kind, s in kinds:
                idx, gap = argmax_first(s)
                assert int(torch.argmax(t64(s))) == idx
                assert gap > GAP_MIN * max(abs(v) for v in s), (name, l, h, kind, s)
                rows['S_' + kind].append(s)
                rows['pred_' + kind].append(idx)
                rows['pred_' + kind + '_gap'].append(gap)
        for k, v in rows.items():
            out[k].append(v)
        out['q_pN'].append(L(Ly['q_pre'][:, P_N]))
        out['k_opts'].append(L(Ly['k_pre'][:, OPT_POS]))
    if arch == 'gpt2':
        out['S_QK_rope'] = out['pred_QK_rope'] = out['pred_QK_rope_gap'] = None
    lrel = float((logits - logits32.double()).abs().max() / logits.abs().max())
    assert lrel < 1e-5, lrel
    ll = [float(logits[P_N, t]) for t in LETTER_IDS]
    la, lgap = argmax_first(ll)
    assert lgap > 1e-4, ll
    full = int(torch.argmax(logits[P_N]))
    preds = {k: out[k] for k in ('pred_QK', 'pred_QK_rope', 'pred_Att')}
    print(f'  qkscore {name}: letter logits {[round(v, 4) for v in ll]} -> {"ABCD"[la]}; preds {preds}')
    return {'name': name, 'dir': f'tests/fixtures/models/{name}', 'arch': arch, 'L': nl, 'H': H, 'Hkv': Hkv,
            'hd': hd, 'kappa': kappa, **out, 'letter_logits': ll, 'letter_argmax': la,
            'letter_argmax_id': LETTER_IDS[la], 'logits_argmax_id': full}


def qkscore_section():
    q = t64([1.0, 0.0])
    ks = t64([[0.5, 0.0], [2.0, 0.0], [-1.0, 3.0], [0.0, 5.0]])
    s = [float(q @ k) for k in ks]
    assert s == [0.5, 2.0, -1.0, 0.0]
    idx, _ = argmax_first(s)
    assert idx == 1 and 'ABCD'[idx] == 'B'
    assert argmax_first([1.0, 3.0, 3.0, 0.0])[0] == 1  # first on ties
    assert len(QK_IDS) == 20 and P_N == len(QK_IDS) - 1 and all(0 <= t < 96 for t in QK_IDS)
    return {'spec_test': {'q': L(q), 'k': L(ks), 'S_QK': s, 'expected': [0.5, 2.0, -1.0, 0.0],
                          'pred': idx, 'pred_letter': 'B'},
            'ids': QK_IDS, 'p_N': P_N, 'positions': OPT_POS, 'letter_ids': LETTER_IDS,
            'models': [qkscore_model(n) for n in ('llama-tiny', 'qwen2-tiny', 'gpt2-tiny')]}


# ---------------------------------------------------------------- 12.6 MergeLock

def cond(A):
    return float(torch.linalg.cond(A))


def sample_gaussian(g, d):
    while True:
        A = randn32(g, d, d)
        c = cond(A)
        if c < 100:
            return A, c


def sample_commuting(g, d):
    """Block-diagonal scaled rotations on half-split pairs (i, i+d/2)."""
    h = d // 2
    while True:
        ac = randn32(g, h, 2)
        A = torch.zeros(d, d, dtype=torch.float64)
        for i in range(h):
            a, c = ac[i, 0], ac[i, 1]
            A[i, i] = A[i + h, i + h] = a
            A[i, i + h] = -c
            A[i + h, i] = c
        cA = cond(A)
        if cA < 100:
            r = ac.norm(dim=-1)
            assert abs(cA - float(r.max() / r.min())) < 1e-9 * cA
            return A, cA


def commutator(A, d, theta, layout='half'):
    """max over a few positions of |A R_m - R_m A| (R_m on column vectors; the transpose too)."""
    e = 0.0
    for m in (1, 2, 7, 19, 100):
        R = rope_matrix(d, m, theta, layout)
        e = max(e, float((A @ R - R @ A).abs().max()), float((A @ R.T - R.T @ A).abs().max()))
    return e


def transform(arch, cfg, W, mats, A_key='A'):
    """12.6 on the HF-layout float weights; returns a new float64 dict (see the docstring)."""
    nl, H, Hkv, hd, D = dims(cfg, arch)
    g = H // Hkv
    T = {k: v.to(torch.float64).clone() for k, v in W.items()}
    for l in range(nl):
        grp = mats[l]
        if arch == 'gpt2':
            p = f'transformer.h.{l}.'
            Wa, ba, Wp = T[p + 'attn.c_attn.weight'], T[p + 'attn.c_attn.bias'], T[p + 'attn.c_proj.weight']
            for h in range(H):
                A, B = grp[h // g][A_key], grp[h // g]['B']
                AiT, Bi = torch.linalg.inv(A).T, torch.linalg.inv(B)
                q, k, v = slice(h * hd, (h + 1) * hd), slice(D + h * hd, D + (h + 1) * hd), \
                    slice(2 * D + h * hd, 2 * D + (h + 1) * hd)
                Wa[:, q], ba[q] = Wa[:, q] @ A, ba[q] @ A
                Wa[:, k], ba[k] = Wa[:, k] @ AiT, ba[k] @ AiT
                Wa[:, v], ba[v] = Wa[:, v] @ B, ba[v] @ B
                Wp[q, :] = Bi @ Wp[q, :]
            continue
        p = f'model.layers.{l}.self_attn.'
        for h in range(H):
            A, B = grp[h // g][A_key], grp[h // g]['B']
            blk = slice(h * hd, (h + 1) * hd)
            T[p + 'q_proj.weight'][blk] = A.T @ T[p + 'q_proj.weight'][blk]
            if p + 'q_proj.bias' in T:
                T[p + 'q_proj.bias'][blk] = T[p + 'q_proj.bias'][blk] @ A
            T[p + 'o_proj.weight'][:, blk] = T[p + 'o_proj.weight'][:, blk] @ torch.linalg.inv(B).T
        for kv in range(Hkv):
            A, B = grp[kv][A_key], grp[kv]['B']
            blk = slice(kv * hd, (kv + 1) * hd)
            T[p + 'k_proj.weight'][blk] = torch.linalg.inv(A) @ T[p + 'k_proj.weight'][blk]
            T[p + 'v_proj.weight'][blk] = B.T @ T[p + 'v_proj.weight'][blk]
            if p + 'k_proj.bias' in T:
                T[p + 'k_proj.bias'][blk] = T[p + 'k_proj.bias'][blk] @ torch.linalg.inv(A).T
                T[p + 'v_proj.bias'][blk] = T[p + 'v_proj.bias'][blk] @ B
    return T


def transform32(arch, cfg, W, mats):
    """transform() carried out in float32 throughout (float32 matrices, inverses and products)."""
    nl, H, Hkv, hd, D = dims(cfg, arch)
    T = {k: v.to(torch.float32).clone() for k, v in W.items()}
    assert arch == 'gpt2' or not any(k.endswith('_proj.bias') for k in T), 'llama q/k/v biases not handled here'
    g = H // Hkv
    for l in range(nl):
        for h in range(H):
            A, B = mats[l][h // g]['A'], mats[l][h // g]['B']
            AiT, Bi, BiT = torch.linalg.inv(A).T, torch.linalg.inv(B), torch.linalg.inv(B).T
            blk = slice(h * hd, (h + 1) * hd)
            if arch == 'gpt2':
                p = f'transformer.h.{l}.attn.'
                Wa, ba = T[p + 'c_attn.weight'], T[p + 'c_attn.bias']
                for off, M in ((0, A), (D, AiT), (2 * D, B)):
                    c = slice(off + h * hd, off + (h + 1) * hd)
                    Wa[:, c], ba[c] = Wa[:, c] @ M, ba[c] @ M
                T[p + 'c_proj.weight'][blk] = Bi @ T[p + 'c_proj.weight'][blk]
            else:
                p = f'model.layers.{l}.self_attn.'
                T[p + 'q_proj.weight'][blk] = A.T @ T[p + 'q_proj.weight'][blk]
                T[p + 'o_proj.weight'][:, blk] = T[p + 'o_proj.weight'][:, blk] @ BiT
                if h % g == 0:
                    kb = slice((h // g) * hd, (h // g + 1) * hd)
                    T[p + 'k_proj.weight'][kb] = torch.linalg.inv(A) @ T[p + 'k_proj.weight'][kb]
                    T[p + 'v_proj.weight'][kb] = B.T @ T[p + 'v_proj.weight'][kb]
    assert all(v.dtype == torch.float32 for v in T.values())
    return T


def transform_math_check(arch, cfg, W, T, mats, A_key='A'):
    """Second, math-orientation derivation of the transformed blocks (12.6 verbatim)."""
    nl, H, Hkv, hd, D = dims(cfg, arch)
    g = H // Hkv
    W = {k: v.to(torch.float64) for k, v in W.items()}
    err = 0.0
    for l in range(nl):
        for h in range(H):
            A, B = mats[l][h // g][A_key], mats[l][h // g]['B']
            kv = h // g
            if arch == 'gpt2':
                p = f'transformer.h.{l}.attn.'
                WQ, WQ2 = W[p + 'c_attn.weight'][:, h * hd:(h + 1) * hd], T[p + 'c_attn.weight'][:, h * hd:(h + 1) * hd]
                WO, WO2 = W[p + 'c_proj.weight'][h * hd:(h + 1) * hd], T[p + 'c_proj.weight'][h * hd:(h + 1) * hd]
                WK = W[p + 'c_attn.weight'][:, D + kv * hd:D + (kv + 1) * hd]
                WK2 = T[p + 'c_attn.weight'][:, D + kv * hd:D + (kv + 1) * hd]
                WV = W[p + 'c_attn.weight'][:, 2 * D + kv * hd:2 * D + (kv + 1) * hd]
                WV2 = T[p + 'c_attn.weight'][:, 2 * D + kv * hd:2 * D + (kv + 1) * hd]
            else:
                p = f'model.layers.{l}.self_attn.'
                WQ, WQ2 = W[p + 'q_proj.weight'].T[:, h * hd:(h + 1) * hd], T[p + 'q_proj.weight'].T[:, h * hd:(h + 1) * hd]
                WO, WO2 = W[p + 'o_proj.weight'].T[h * hd:(h + 1) * hd], T[p + 'o_proj.weight'].T[h * hd:(h + 1) * hd]
                WK, WK2 = W[p + 'k_proj.weight'].T[:, kv * hd:(kv + 1) * hd], T[p + 'k_proj.weight'].T[:, kv * hd:(kv + 1) * hd]
                WV, WV2 = W[p + 'v_proj.weight'].T[:, kv * hd:(kv + 1) * hd], T[p + 'v_proj.weight'].T[:, kv * hd:(kv + 1) * hd]
            err = max(err, float((WQ @ A - WQ2).abs().max()), float((WK @ torch.linalg.inv(A).T - WK2).abs().max()),
                      float((WV @ B - WV2).abs().max()), float((torch.linalg.inv(B) @ WO - WO2).abs().max()),
                      float((WQ2 @ WK2.T - WQ @ WK.T).abs().max()), float((WV2 @ WO2 - WV @ WO).abs().max()))
    return err


def head_outputs(arch, cfg, W, layers):
    """[L] of [H, N, D]: (P_h V) W_O^h per head (output bias excluded)."""
    nl, H, Hkv, hd, D = dims(cfg, arch)
    W = {k: v.to(torch.float64) for k, v in W.items()}
    out = []
    for l, Ly in enumerate(layers):
        WO = W[f'transformer.h.{l}.attn.c_proj.weight'] if arch == 'gpt2' else W[f'model.layers.{l}.self_attn.o_proj.weight'].T
        out.append(torch.stack([Ly['head_out'][h] @ WO[h * hd:(h + 1) * hd] for h in range(H)]))
    return out


def diff_report(a, b):
    m = float(a.abs().max())
    d = float((a - b).abs().max())
    return {'max_abs': d, 'max_rel': d / m}


def compare(arch, cfg, W, T, ids):
    la, _, lg = forward(arch, cfg, W, ids)
    lb, _, lg2 = forward(arch, cfg, T, ids)
    ha, hb = head_outputs(arch, cfg, W, la), head_outputs(arch, cfg, T, lb)
    per = []
    for l in range(len(la)):
        per.append({'scores': diff_report(la[l]['scores'], lb[l]['scores']),
                    'weights': diff_report(la[l]['weights'], lb[l]['weights']),
                    'head_output': diff_report(ha[l], hb[l]),
                    'hidden': diff_report(la[l]['hidden_out'], lb[l]['hidden_out'])})
    rep = {'per_layer': per, 'logits': diff_report(lg, lg2)}
    rep['max_rel'] = max([rep['logits']['max_rel']] + [v['max_rel'] for p in per for v in p.values()])
    return rep, la, lb


def mergelock_model(name):
    cfg, W, arch = load_model(name)
    nl, H, Hkv, hd, D = dims(cfg, arch)
    rope = arch == 'llama'
    g = torch.Generator().manual_seed(SEED_ML[name])
    mats, jl = [], []
    for l in range(nl):
        grp, jg = [], []
        for kv in range(Hkv):
            m = {}
            if rope:
                m['A'], m['cond_A'] = sample_commuting(g, hd)
                assert commutator(m['A'], hd, cfg['rope_theta']) < 1e-12
            else:
                m['A'], m['cond_A'] = sample_gaussian(g, hd)
            m['B'], m['cond_B'] = sample_gaussian(g, hd)
            if rope:
                m['A_nc'], m['cond_A_nc'] = sample_gaussian(g, hd)
                assert commutator(m['A_nc'], hd, cfg['rope_theta']) > 1e-1
                AiT = torch.linalg.inv(m['A']).T
                assert torch.equal(AiT == 0, m['A'] == 0)  # same block pattern
                assert commutator(AiT, hd, cfg['rope_theta']) < 1e-12  # A^{-T} has the same form
            grp.append(m)
            j = {'A': L(m['A']), 'A_inv_T': L(torch.linalg.inv(m['A']).T), 'cond_A': m['cond_A'],
                 'B': L(m['B']), 'B_inv': L(torch.linalg.inv(m['B'])), 'cond_B': m['cond_B']}
            if rope:
                j.update({'A_noncommuting': L(m['A_nc']), 'A_noncommuting_inv_T': L(torch.linalg.inv(m['A_nc']).T),
                          'cond_A_noncommuting': m['cond_A_nc']})
            jg.append(j)
        mats.append(grp)
        jl.append({'groups': jg})
    T = transform(arch, cfg, W, mats)
    merr = transform_math_check(arch, cfg, W, T, mats)
    assert merr < 1e-10, merr
    changed = [k for k in T if not torch.equal(T[k], W[k].to(torch.float64))]
    if arch == 'gpt2':
        names = [f'transformer.h.{l}.attn.{n}' for l in range(nl) for n in ('c_attn.weight', 'c_attn.bias', 'c_proj.weight')]
    else:
        names = [f'model.layers.{l}.self_attn.{n}_proj.weight' for l in range(nl) for n in 'qkvo']
    assert sorted(changed) == sorted(names), changed
    wchange = {}
    for k in names:
        ch = float((T[k] - W[k].double()).abs().max())
        mo = float(W[k].abs().max())
        assert ch > 0.25 * mo, (k, ch, mo)  # scrambled, not a small perturbation
        wchange[k] = {'max_abs_change': ch, 'max_abs_orig': mo}
    inv, la, lb = compare(arch, cfg, W, T, QK_IDS)
    assert inv['max_rel'] < TOL, inv
    # the pre-W_O head output is P V B (not invariant by itself)
    for l in range(nl):
        for h in range(H):
            B = mats[l][h // (H // Hkv)]['B']
            assert float((la[l]['head_out'][h] @ B - lb[l]['head_out'][h]).abs().max()) < 1e-10
    # what a float32 implementation can expect: the transform done in float32 (float32 inverses)
    # and the float32 nn.functional forward of make_model_goldens.second_impl
    m32 = [[{k: (v.to(torch.float32) if torch.is_tensor(v) else v) for k, v in m.items()} for m in grp] for grp in mats]
    T32 = {k: v.to(torch.float32) for k, v in transform32(arch, cfg, W, m32).items()}
    a0, l0 = mmg.second_impl(arch, cfg, W, QK_IDS)
    a1, l1 = mmg.second_impl(arch, cfg, T32, QK_IDS)
    f32chk = {'weights_max_abs': max(float((x - y).abs().max()) for x, y in zip(a0, a1)),
              'logits_max_rel': float((l0 - l1).abs().max() / l0.abs().max())}
    assert f32chk['weights_max_abs'] < TOL and f32chk['logits_max_rel'] < TOL, f32chk
    res = {'name': name, 'dir': f'tests/fixtures/models/{name}', 'arch': arch, 'rope': rope, 'L': nl, 'H': H,
           'Hkv': Hkv, 'hd': hd, 'seed': SEED_ML[name], 'layers': jl,
           'transformed': {k: L(T[k]) for k in names}, 'weight_change': wchange, 'invariance': inv,
           'float32_check': f32chk}
    print(f'  mergelock {name}: invariance max_rel {inv["max_rel"]:.3e} (logits {inv["logits"]["max_rel"]:.3e}); '
          f'weight change {min(v["max_abs_change"] / v["max_abs_orig"] for v in wchange.values()):.2f}..'
          f'{max(v["max_abs_change"] / v["max_abs_orig"] for v in wchange.values()):.2f} x max|W|')
    if rope:
        Tn = transform(arch, cfg, W, mats, A_key='A_nc')
        assert transform_math_check(arch, cfg, W, Tn, mats, A_key='A_nc') < 1e-10
        nc, la2, lb2 = compare(arch, cfg, W, Tn, QK_IDS)
        assert nc['max_rel'] > 1e-2 and nc['logits']['max_rel'] > 1e-2, nc
        assert all(p['weights']['max_rel'] > 1e-2 for p in nc['per_layer']), nc
        # layer 0 (identical inputs): the pre-RoPE q.k is still invariant; only RoPE breaks it
        pre = 0.0
        for l in (0,):
            for h in range(H):
                kv = h // (H // Hkv)
                s0 = la2[l]['q_pre'][h] @ la2[l]['k_pre'][kv].T
                s1 = lb2[l]['q_pre'][h] @ lb2[l]['k_pre'][kv].T
                pre = max(pre, float((s0 - s1).abs().max() / s0.abs().max()))
        assert pre < 1e-10, pre
        nc['pre_rope_qk_max_rel'] = pre
        res['noncommuting'] = nc
        print(f'  mergelock {name} NON-commuting A under RoPE: max_rel {nc["max_rel"]:.3f} '
              f'(logits {nc["logits"]["max_rel"]:.3f}, weights '
              f'{max(p["weights"]["max_abs"] for p in nc["per_layer"]):.3f} abs) -> fails as it must; '
              f'pre-RoPE q.k max_rel {pre:.1e}')
    return res


def d4_section():
    N, dm, d = 6, 8, 4
    g = torch.Generator().manual_seed(SEED_D4)
    X = randn32(g, N, dm)
    WQ, WK, WV = randn32(g, dm, d), randn32(g, dm, d), randn32(g, dm, d)
    WO = randn32(g, d, dm)
    A, cA = sample_gaussian(g, d)
    B, cB = sample_gaussian(g, d)
    Ac, _ = sample_commuting(g, d)
    AiT, Bi = torch.linalg.inv(A).T, torch.linalg.inv(B)

    def run(WQ, WK, WV, WO, theta=None):
        q, k, v = X @ WQ, X @ WK, X @ WV
        if theta is not None:
            q = torch.stack([rope_explicit(q[i], i, theta, 'half') for i in range(N)])
            k = torch.stack([rope_explicit(k[i], i, theta, 'half') for i in range(N)])
        S = q @ k.T / math.sqrt(d)
        return S, causal_softmax(S) @ v @ WO

    def rel(a, b):
        return float((a - b).abs().max() / a.abs().max())
    S, Y = run(WQ, WK, WV, WO)
    S2, Y2 = run(WQ @ A, WK @ AiT, WV @ B, Bi @ WO)
    rs, ry = rel(S, S2), rel(Y, Y2)
    assert rs < TOL and ry < TOL, (rs, ry)
    th = 10000.0
    assert commutator(Ac, d, th) < 1e-12 and commutator(A, d, th) > 1e-1
    Sr, Yr = run(WQ, WK, WV, WO, th)
    Src, Yrc = run(WQ @ Ac, WK @ torch.linalg.inv(Ac).T, WV @ B, Bi @ WO, th)
    Srn, Yrn = run(WQ @ A, WK @ AiT, WV @ B, Bi @ WO, th)
    rsc, ryc, rsn, ryn = rel(Sr, Src), rel(Yr, Yrc), rel(Sr, Srn), rel(Yr, Yrn)
    assert rsc < TOL and ryc < TOL, (rsc, ryc)
    assert rsn > 1e-2 and ryn > 1e-2, (rsn, ryn)  # must FAIL
    print(f'  mergelock d=4: rel S {rs:.1e}, Y {ry:.1e}; RoPE commuting S {rsc:.1e}, Y {ryc:.1e}; '
          f'RoPE non-commuting S {rsn:.3f}, Y {ryn:.3f} (fails)')
    return {'seed': SEED_D4, 'N': N, 'dm': dm, 'd': d, 'X': L(X), 'W_Q': L(WQ), 'W_K': L(WK), 'W_V': L(WV),
            'W_O': L(WO), 'A': L(A), 'B': L(B), 'cond_A': cA, 'cond_B': cB, 'A_inv_T': L(AiT), 'B_inv': L(Bi),
            'S': L(S), 'S_prime': L(S2), 'Y': L(Y), 'Y_prime': L(Y2), 'max_rel_S': rs, 'max_rel_Y': ry,
            'rope': {'theta': th, 'layout': 'half', 'A_commuting': L(Ac),
                     'max_rel_S_commuting': rsc, 'max_rel_Y_commuting': ryc,
                     'max_rel_S_noncommuting': rsn, 'max_rel_Y_noncommuting': ryn}}


def mergelock_section():
    return {'tolerance_rel': TOL, 'd4_test': d4_section(), 'ids': QK_IDS,
            'models': [mergelock_model(n) for n in ('llama-tiny', 'gpt2-tiny')]}


# ---------------------------------------------------------------- main

def main():
    torch.set_num_threads(1)
    print('rope / qknorm')
    rope, qkn = rope_section(), qknorm_section()
    print(f'  rope: HF check {rope["hf_check"]}; qknorm max|logit| before {qkn["max_abs_logit_before"]:.3f}, '
          f'after {qkn["max_abs_logit_after"]:.3f} <= sqrt(d) {qkn["sqrt_d"]:.3f}')
    print('qkscore')
    qks = qkscore_section()
    print('mergelock')
    ml = mergelock_section()
    out = {'generator': 'scripts/make_qk_goldens.py', 'torch': torch.__version__,
           'spec': 'ALGORITHMS.md 11, 12.1, 12.2, 12.6', 'rope': rope, 'qknorm': qkn, 'qkscore': qks,
           'mergelock': ml}
    text = json.dumps(out, allow_nan=False, separators=(',', ':'))
    assert json.loads(text) == out
    with open(OUT, 'w') as f:
        f.write(text)
    sz = os.path.getsize(OUT)
    print(f'wrote {os.path.relpath(OUT, ROOT)} ({sz} bytes)')
    assert sz < MAX_BYTES, sz


if __name__ == '__main__':
    main()

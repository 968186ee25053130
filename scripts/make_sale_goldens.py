#!/usr/bin/python3
"""Writes tests/golden/sale.json: goldens for SALE selection + attention (ALGORITHMS.md 7).

An independent PyTorch reference (Debian's python3-torch 1.13, run with /usr/bin/python3),
written from ALGORITHMS.md (0, 7) and the golden brief, not from the TypeScript.

Conventions:
* Inputs q [H,N,d], k [Hkv,N,d], v [Hkv,N,dv] are float32, built from a seeded torch.Generator
  and stored flat, so no PRNG port is needed. Recipe (make_inputs): q, k, v = randn; a unit
  direction u per KV head; q += 4u (its query heads); k[0] += 12u (sink token); 3 random
  "heavy" keys at positions >= bk get k += 12*(0.3 + 0.7*rand)*u. Plain i.i.d. randn would
  select every candidate block even at tau = 0.05. Query head h reads KV head
  floor(h / (H/Hkv)) (contiguous, 0.2). Causal prefill: causal(i,j) <=> j <= i.
* Blocks (0.4): query block bq, key block bk, nqb = ceil(N/bq), nkb = ceil(N/bk).
  Key block J is causally visible from query block I iff J*bk <= last(I) = min(N, (I+1)*bq) - 1.
  Sink = key block 0. Local (the spec's "simplest faithful-enough option", block sizes as
  parameters) = the key blocks covering keys [bq*I - bq, bq*I + bq - 1], i.e.
  J in [floor(max(0, bq*I - bq)/bk), floor((bq*I + bq - 1)/bk)], kept only if visible.
  (For bq=64, bk=32: the 4 blocks of keys [64I-64, 64I+63].)
* Estimation, entirely float32 torch ops:
    qbar = mean_t Q[h,t] (per query head), kbar = mean_t K[kv,t] (per KV head);
    Q' = Q - qbar, K' = K - kbar;
    INT4 per-token: s = max_c |x[c]| / 7 (s = 1 when max = 0), xhat = clamp(round(x / s), -7, 7)
    (torch.round = half to even);
    est[i,j] = s_q[i]*s_k[j]*(Qhat[i].Khat[j]) + qbar.K'[j];
    exact x[i,j] = Q[i].K'[j] over the sink and local keys with j <= i;
    m_i = max x, l_i = sum exp(sigma (x - m_i)), sigma = 1/sqrt(d);
    r[i,j] = exp(sigma (est[i,j] - m_i)) / l_i.
  A visible block (I,J) that is neither sink nor local is selected ('t') iff some i in I, j in J
  with j <= i (both < N) has r[i,j] > tau. (Asserted: a float64 recomputation selects the same.) Heads with tau < 1e-5 are dense: every visible block
  is 'd'. Reason precedence: sink 's', then local 'l', then threshold 't'; '.' not selected
  (including blocks that are not causally visible).
* Robustness: for every non-dense head, every candidate r value (outside sink/local, causal)
  satisfies |r - tau| > 1e-4 * tau (asserted); the smallest relative margin is stored
  ("min_rel_margin", null for dense-only cases).
* Attention in float64 from the float32 inputs: logits sigma * Q.K^T (the kbar shift is
  softmax-invariant, so the dense reference is the plain causal one), softmax over the token
  mask M[h,i,j] = MB[h, i//bq, j//bk] and j <= i (masked weights exactly 0), output = W @ V.
  Stored as float32 values.
* Metrics (0.7): density_h = |M_h and C| / (N(N+1)/2); recall_mean_h = mean_i sum_{allowed j}
  dense_weights[h,i,j]; rel_frob = ||O_sparse - O_dense||_F / ||O_dense||_F over all heads.
* Stored floats are float(np.float32(x)). Extra per-case fields beyond the brief's schema:
  "seed", "min_rel_margin", "note".

Run: /usr/bin/python3 scripts/make_sale_goldens.py
"""
import json
import math
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'golden', 'sale.json')
MARGIN = 1e-4
DENSE_TAU = 1e-5
ALPHA, BETA, NHEAVY = 4.0, 12.0, 3  # input recipe, see make_inputs


def f32(x):
    return float(np.float32(x))


def flat(t):
    return [f32(x) for x in t.reshape(-1).tolist()]


# ---------------------------------------------------------------- spec pieces

def quant_int4(x):
    """x [..., d] float32 -> (scale [...], q [..., d] float32 integers in [-7, 7])."""
    mx = x.abs().amax(dim=-1)
    s = mx / 7.0
    s = torch.where(mx == 0, torch.ones_like(s), s)
    q = torch.clamp(torch.round(x / s.unsqueeze(-1)), -7.0, 7.0)
    return s, q


def relative_score(x, est, sigma):
    m = max(x)
    l = sum(math.exp(sigma * (v - m)) for v in x)
    r = [math.exp(sigma * (e - m)) / l for e in est]
    return m, l, r


def check_vectors():
    m, l, r = relative_score([2.0, 1.0], [0.0, -3.0], 1.0)
    assert m == 2 and abs(l - 1.36788) < 1e-5, (m, l)
    assert abs(r[0] - 0.098938) < 1e-6 and abs(r[1] - 0.004926) < 1e-6, r
    assert all(v > 0.004 for v in r) and any(v > 0.005 for v in r) and not any(v > 0.1 for v in r)
    x = torch.tensor([[0.75, -1.75, 0.625]], dtype=torch.float32)
    s, q = quant_int4(x)
    assert s.item() == 0.25 and q[0].tolist() == [3.0, -7.0, 2.0], (s, q)
    # zero-max guard
    s0, q0 = quant_int4(torch.zeros(1, 3))
    assert s0.item() == 1.0 and q0[0].tolist() == [0.0, 0.0, 0.0]
    return {'relative': {'x': [2, 1], 'est': [0, -3], 'm': m, 'l': l, 'r': r},
            'quant': {'x': [0.75, -1.75, 0.625], 's': s.item(), 'q': [int(v) for v in q[0].tolist()]}}


def block_layout(N, bq, bk):
    nqb, nkb = -(-N // bq), -(-N // bk)
    visible = [[False] * nkb for _ in range(nqb)]
    fixed = [['.'] * nkb for _ in range(nqb)]  # 's' / 'l' / '.'
    for I in range(nqb):
        last = min(N, (I + 1) * bq) - 1
        lo = max(0, bq * I - bq) // bk
        hi = (bq * I + bq - 1) // bk
        for J in range(nkb):
            visible[I][J] = J * bk <= last
            if not visible[I][J]:
                continue
            if J == 0:
                fixed[I][J] = 's'
            elif lo <= J <= hi:
                fixed[I][J] = 'l'
    return nqb, nkb, visible, fixed


def sale_head(qh, kh, bq, bk, tau, layout):
    """qh [N,d], kh [N,d] float32. Returns (reasons [nqb] strings, candidate r values list)."""
    N, d = qh.shape
    nqb, nkb, visible, fixed = layout
    if tau < DENSE_TAU:
        return [''.join('d' if visible[I][J] else '.' for J in range(nkb)) for I in range(nqb)], []
    sigma = torch.tensor(1.0 / math.sqrt(d), dtype=qh.dtype)
    qbar = qh.mean(dim=0)
    kbar = kh.mean(dim=0)
    qs = qh - qbar
    ks = kh - kbar
    sq, qq = quant_int4(qs)
    sk, kq = quant_int4(ks)
    est = (sq[:, None] * sk[None, :]) * (qq @ kq.T) + (ks @ qbar)[None, :]   # [N,N] float32
    exact = qh @ ks.T                                                        # [N,N] float32
    ii = torch.arange(N)[:, None]
    jj = torch.arange(N)[None, :]
    causal = jj <= ii
    qblk = (ii // bq).expand(N, N)
    kblk = (jj // bk).expand(N, N)
    fixed_t = torch.tensor([[c != '.' for c in row] for row in fixed])       # [nqb,nkb]
    is_fixed = fixed_t[qblk, kblk] & causal
    x = torch.where(is_fixed, exact, torch.tensor(float('-inf')))
    m = x.amax(dim=1)
    l = torch.exp(sigma * (x - m[:, None])).sum(dim=1)
    r = torch.exp(sigma * (est - m[:, None])) / l[:, None]
    cand = causal & ~fixed_t[qblk, kblk]
    hit = cand & (r > tau)
    reasons = []
    for I in range(nqb):
        row = []
        for J in range(nkb):
            if fixed[I][J] != '.':
                row.append(fixed[I][J])
            elif visible[I][J] and bool(hit[I * bq:(I + 1) * bq, J * bk:(J + 1) * bk].any()):
                row.append('t')
            else:
                row.append('.')
        reasons.append(''.join(row))
    return reasons, r[cand].tolist()


def attend(q, k, v, mask, g):
    """float64 masked causal softmax attention. q [H,N,d], mask [H,N,N] bool (causal included)."""
    H, N, d = q.shape
    kk = k.double()[torch.arange(H) // g]
    vv = v.double()[torch.arange(H) // g]
    logits = (q.double() @ kk.transpose(1, 2)) / math.sqrt(d)
    logits = logits.masked_fill(~mask, float('-inf'))
    w = torch.softmax(logits, dim=-1)
    w = torch.where(mask, w, torch.zeros_like(w))
    return w, w @ vv


def make_inputs(seed, H, Hkv, N, d, dv, bk):
    """Seeded torch.randn inputs with an attention-sink / heavy-hitter structure, so that the
    threshold actually separates blocks (plain i.i.d. randn selects every candidate block)."""
    gen = torch.Generator().manual_seed(seed)
    q = torch.randn(H, N, d, generator=gen, dtype=torch.float32)
    k = torch.randn(Hkv, N, d, generator=gen, dtype=torch.float32)
    v = torch.randn(Hkv, N, dv, generator=gen, dtype=torch.float32)
    u = torch.randn(Hkv, d, generator=gen, dtype=torch.float32)
    u = u / u.norm(dim=-1, keepdim=True)
    q = q + ALPHA * u[torch.arange(H) // (H // Hkv)][:, None, :]
    k[:, 0] += BETA * u
    for kv in range(Hkv):
        pos = torch.randperm(N - bk, generator=gen)[:NHEAVY] + bk
        gam = BETA * (0.3 + 0.7 * torch.rand(NHEAVY, generator=gen, dtype=torch.float32))
        k[kv, pos] += gam[:, None] * u[kv]
    return q, k, v


def make_case(name, seed, H, Hkv, N, d, dv, bq, bk, tau, note=None):
    q, k, v = make_inputs(seed, H, Hkv, N, d, dv, bk)
    g = H // Hkv
    layout = block_layout(N, bq, bk)
    nqb, nkb = layout[0], layout[1]
    reasons, rvals = [], []
    for h in range(H):
        rs, rv = sale_head(q[h], k[h // g], bq, bk, tau, layout)
        # the same selection computed in float64 must agree (float32 round-off cannot flip it)
        assert sale_head(q[h].double(), k[h // g].double(), bq, bk, tau, layout)[0] == rs
        reasons.append(rs)
        rvals += rv
    margin = min((abs(x - tau) / tau for x in rvals), default=None)
    if margin is not None and margin <= MARGIN:
        return None, margin
    ii = torch.arange(N)[:, None]
    jj = torch.arange(N)[None, :]
    causal = jj <= ii
    mb = torch.tensor([[[c != '.' for c in row] for row in rs] for rs in reasons])  # [H,nqb,nkb]
    mask = mb[:, (ii // bq).expand(N, N), (jj // bk).expand(N, N)] & causal
    assert bool(mask.any(dim=-1).all())
    w, o = attend(q, k, v, mask, g)
    wd, od = attend(q, k, v, causal.expand(H, N, N), g)
    ncausal = N * (N + 1) // 2
    density = [mask[h].sum().item() / ncausal for h in range(H)]
    recall = [(wd[h] * mask[h]).sum(dim=-1).mean().item() for h in range(H)]
    rel = ((o - od).norm() / od.norm()).item()
    case = {'name': name, 'params': {'bq': bq, 'bk': bk, 'tau': tau},
            'H': H, 'Hkv': Hkv, 'N': N, 'd': d, 'dv': dv,
            'q': flat(q), 'k': flat(k), 'v': flat(v),
            'block_reasons': reasons,
            'weights': flat(w), 'output': flat(o),
            'dense_weights': flat(wd), 'dense_output': flat(od),
            'density': [f32(x) for x in density], 'recall_mean': [f32(x) for x in recall],
            'rel_frob': f32(rel), 'seed': seed,
            'min_rel_margin': None if margin is None else f32(margin)}
    if note:
        case['note'] = note
    return case, margin


def seeded_cases(base_seed, specs):
    """specs: list of (name, tau, note); all share one input draw. Advance the seed until every
    tau clears the margin check."""
    seed = base_seed
    while True:
        out = []
        for name, (H, Hkv, N, d, dv, bq, bk), tau, note in specs:
            c, _ = make_case(name, seed, H, Hkv, N, d, dv, bq, bk, tau, note)
            if c is None:
                break
            out.append(c)
        else:
            return out
        seed += 1
        assert seed < base_seed + 200


def main():
    vectors = check_vectors()
    shape1 = (2, 1, 96, 16, 12, 16, 8)
    cases = seeded_cases(1000, [
        ('sale tau=0.004 (H=2, Hkv=1, N=96, d=16, dv=12, bq=16, bk=8)', shape1, 0.004, None),
        ('sale tau=0.05 (same inputs as tau=0.004)', shape1, 0.05, 'fewer threshold blocks'),
        ('sale tau=1e-6 dense heads (same inputs)', shape1, 1e-6, 'tau < 1e-5: every causal block'),
    ])
    cases += seeded_cases(2000, [
        ('sale partial blocks (H=2, Hkv=2, N=70, d=8, dv=8, bq=16, bk=8, tau=0.01)',
         (2, 2, 70, 8, 8, 16, 8), 0.01, 'N not a multiple of bq: last query block has 6 rows'),
    ])
    c1, c2, c3, c4 = cases
    assert c1['q'] == c2['q'] == c3['q']
    n1 = sum(s.count('t') for rs in c1['block_reasons'] for s in rs)
    n2 = sum(s.count('t') for rs in c2['block_reasons'] for s in rs)
    assert n2 < n1, (n1, n2)
    assert all(x == 1.0 for x in c3['density']) and c3['rel_frob'] == 0.0
    assert c3['weights'] == c3['dense_weights']
    for c in cases:
        print(c['name'], 'seed', c['seed'], 'margin', c['min_rel_margin'])
        for h, rs in enumerate(c['block_reasons']):
            print('  head', h, ' '.join(rs))
        print('  density', c['density'], 'recall', c['recall_mean'], 'rel_frob', c['rel_frob'])
    out = {'generator': 'scripts/make_sale_goldens.py', 'torch': torch.__version__,
           'spec': 'ALGORITHMS.md §7', 'vectors': vectors, 'cases': cases}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        json.dump(out, f, allow_nan=False)
    print(f'wrote {os.path.normpath(OUT)} ({os.path.getsize(OUT)} bytes, {len(cases)} cases)')


if __name__ == '__main__':
    main()

#!/usr/bin/python3
"""Writes tests/golden/think.json: goldens for ThinK query-driven key-channel pruning
(ALGORITHMS.md 12.4).

An independent PyTorch reference (Debian's python3-torch 1.13, run with /usr/bin/python3),
written from ALGORITHMS.md (0.2, 0.3, 0.5, 0.7, 12.4) and the golden brief, not from the
TypeScript. Math in float64 from float32 inputs; stored floats are exact float32 values.

Conventions:
* q [H,N,d], k [Hkv,N,d], v [Hkv,N,dv] float32 (seeded torch.Generator or literals); query head h
  reads KV head floor(h / (H/Hkv)) (contiguous repeat_kv, 0.2). ThinK works per QUERY head.
* Observation window = the last `obs` queries (i >= N - obs).
* Score s[h,c] = (sum_{i in obs} q[h,i,c]^2) * (sum_{j<N} k[kv(h),j,c]^2) (all keys).
* Prune p = floor(lambda*d) (Python math.floor of the float64 product) channels with the
  smallest scores; ties -> lower channel index pruned first (stable ascending sort).
  `pruned[h]` is stored ascending.
* Attention (prefill, causal j <= i): logit = (sum_{c in Keep_h} q_ic k_jc)/sqrt(d) for keys
  j < N - recent, full dot/sqrt(d) for j >= N - recent (recent >= N: nothing pruned);
  softmax over causal keys (non-causal weights exactly 0); output = weights @ v.
* Dense = all channels. rel_frob = ||O - O_dense||_F / ||O_dense||_F over all heads.
  cache_saving = floor(lambda*d)/d * max(0, N - recent)/N.
* Random cases assert the gap between the p-th and (p+1)-th smallest scores (per head) >= 1e-6.

Run: /usr/bin/python3 scripts/make_think_goldens.py
"""
import json
import math
import os

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'golden', 'think.json')


def f32(x):
    return float(torch.tensor(float(x), dtype=torch.float32).item())


def flat(t):
    return [float(x) for x in t.to(torch.float32).reshape(-1).tolist()]


def think(q, k, v, lam, recent, obs):
    H, N, d = q.shape
    Hkv = k.shape[0]
    g = H // Hkv
    kv = [h // g for h in range(H)]
    q64, k64, v64 = q.double(), k.double(), v.double()
    kr = k64[kv]  # [H,N,d] after repeat_kv
    vr = v64[kv]
    w = min(obs, N)
    qs = (q64[:, N - w:, :] ** 2).sum(1)  # [H,d]
    ks = (kr ** 2).sum(1)                 # [H,d]
    scores = qs * ks
    p = math.floor(lam * d)
    pruned = []
    keep = torch.ones(H, d, dtype=torch.float64)
    for h in range(H):
        order = sorted(range(d), key=lambda c: (scores[h, c].item(), c))
        # cross-check with torch stable sort
        t_order = torch.sort(scores[h], stable=True).indices.tolist()
        assert order == t_order, (order, t_order)
        ph = sorted(order[:p])
        pruned.append(ph)
        keep[h, ph] = 0.0
    scale = 1.0 / math.sqrt(d)
    dense_logits = torch.einsum('hic,hjc->hij', q64, kr) * scale
    pruned_logits = torch.einsum('hic,hjc->hij', q64 * keep[:, None, :], kr) * scale
    cut = max(0, N - recent)
    logits = dense_logits.clone()
    logits[:, :, :cut] = pruned_logits[:, :, :cut]
    causal = torch.tril(torch.ones(N, N, dtype=torch.bool))

    def attn(lg):
        lg = lg.masked_fill(~causal, float('-inf'))
        wts = torch.softmax(lg, dim=-1)
        return wts, wts @ vr

    wts, out = attn(logits)
    dwts, dout = attn(dense_logits)
    rel = ((out - dout).norm() / dout.norm()).item()
    saving = p / d * max(0, N - recent) / N
    return dict(scores=scores, pruned=pruned, p=p, weights=wts, output=out,
                dense_weights=dwts, dense_output=dout, rel_frob=rel, cache_saving=saving)


def check_gap(scores, p, name):
    if p == 0 or p >= scores.shape[1]:
        return
    for h in range(scores.shape[0]):
        s = torch.sort(scores[h]).values
        gap = (s[p] - s[p - 1]).item()
        assert gap >= 1e-6, f'{name}: head {h} score tie at cut (gap {gap})'


def make_case(name, q, k, v, lam, recent, obs, random):
    H, N, d = q.shape
    Hkv, _, dv = v.shape
    r = think(q, k, v, lam, recent, obs)
    if random:
        check_gap(r['scores'], r['p'], name)
    return {
        'name': name,
        'params': {'lambda': lam, 'recent': recent, 'obs': obs},
        'H': H, 'Hkv': Hkv, 'N': N, 'd': d, 'dv': dv,
        'q': flat(q), 'k': flat(k), 'v': flat(v),
        'scores': flat(r['scores']),
        'pruned': r['pruned'],
        'weights': flat(r['weights']),
        'output': flat(r['output']),
        'dense_weights': flat(r['dense_weights']),
        'dense_output': flat(r['dense_output']),
        'rel_frob': f32(r['rel_frob']),
        'cache_saving': f32(r['cache_saving']),
    }, r


def rand_case(name, seed, H, Hkv, N, d, dv, lam, recent, obs):
    gen = torch.Generator().manual_seed(seed)
    q = torch.randn(H, N, d, generator=gen, dtype=torch.float32)
    k = torch.randn(Hkv, N, d, generator=gen, dtype=torch.float32)
    v = torch.randn(Hkv, N, dv, generator=gen, dtype=torch.float32)
    return make_case(name, q, k, v, lam, recent, obs, True)


def main():
    cases = []
    # (1) spec vector 12.4
    q = torch.tensor([[[1, 0, 2], [1, 0, 0]]], dtype=torch.float32)
    k = torch.tensor([[[1, 3, 0], [1, 1, 0.5]]], dtype=torch.float32)
    v = torch.tensor([[[1, 0], [0, 1]]], dtype=torch.float32)
    c, r = make_case('spec_12_4_vector', q, k, v, 1 / 3, 0, 2, False)
    assert r['scores'][0].tolist() == [4.0, 0.0, 1.0], r['scores']
    assert r['pruned'] == [[1]], r['pruned']
    assert r['p'] == 1
    cases.append(c)
    # (2) random GQA
    c, r = rand_case('gqa_H4_Hkv2_N40_d8_lam0.5', 1204, 4, 2, 40, 8, 8, 0.5, 8, 16)
    assert r['p'] == 4
    cases.append(c)
    # (3) recent >= N: attention unpruned
    c, r = rand_case('recent_ge_N', 1205, 2, 2, 12, 4, 4, 0.25, 16, 12)
    assert r['p'] == 1
    assert torch.equal(r['weights'], r['dense_weights'])
    assert r['rel_frob'] == 0.0 and r['cache_saving'] == 0.0
    cases.append(c)
    # (4) lambda 0.4, d 10
    c, r = rand_case('lam0.4_d10_H2_Hkv1', 1206, 2, 1, 24, 10, 6, 0.4, 4, 8)
    assert r['p'] == 4
    cases.append(c)

    for c in cases:
        print(f"{c['name']}: pruned={c['pruned']} rel_frob={c['rel_frob']:.4g} "
              f"cache_saving={c['cache_saving']:.4g}")
    out = {'generator': 'scripts/make_think_goldens.py', 'torch': torch.__version__,
           'spec': 'ALGORITHMS.md §12.4', 'cases': cases}
    with open(OUT, 'w') as f:
        json.dump(out, f, allow_nan=False)
    print('wrote', os.path.normpath(OUT))


if __name__ == '__main__':
    main()

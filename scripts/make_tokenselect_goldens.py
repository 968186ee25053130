#!/usr/bin/python3
"""Writes tests/golden/tokenselect.json: goldens for TokenSelect selection + attention (ALGORITHMS.md 10).

An independent PyTorch reference (Debian's python3-torch 1.13, run with /usr/bin/python3),
written from ALGORITHMS.md (0, 10, 12.1) and the golden brief, not from the TypeScript.

Conventions:
* Inputs q [H,N,d], k [Hkv,N,d], v [Hkv,N,dv] are float32, built from a seeded torch.Generator
  and stored flat, so no PRNG port is needed. They are the UN-ROTATED (pre-RoPE) queries and keys
  (TokenSelect scores un-rotated keys, 10). Query head h reads KV head kappa(h): 'modulo' =
  h mod Hkv (faithful, Quirk T1) or 'contiguous' = floor(h / (H/Hkv)) (0.2, intent).
* Input recipe (make_inputs): q, k, v = randn (in that order); then per KV head a unit direction
  u[kv] = randn(d) normalised; q[h] += ALPHA * u[h mod Hkv] for every query token (the recipe
  always pairs query heads with KV heads by modulo, whatever the case's mapping, so cases that
  differ only in the mapping share their inputs); NHEAVY distinct random key positions per KV head
  (randperm(N)[:NHEAVY]) get k += BETA * (0.5 + 0.5 * rand) * u[kv]. ALPHA < BETA, both modest,
  so the raw (unscaled) criticality softmax is peaked on the heavy keys but not one-hot, which
  keeps the vote both non-flat and numerically separable (see Robustness).
* Prefill in query chunks of `chunk` tokens: chunk c covers queries [s, e), s = c*chunk,
  e = min(N, s + chunk); its KV cache is keys [0, e) (the chunk's own keys included, 10 Inputs).
  If n_init + topk + n_local >= e the chunk does not select: attended = [0, e). Otherwise:
    fingerprint qt[h] = mean_{r=0..e-s-1} RoPE(q[h, s+r], n_local + r) (rotate=true, default) or
      mean_r q[h, s+r] (rotate=false); RoPE = Hugging Face Llama half-split (rotate_half) with
      inv_freq = 1.0 / (base ** (torch.arange(0, d, 2).float() / d)), angle = pos * inv_freq
      (float32 pos), cos/sin of cat(angle, angle), out = x*cos + rotate_half(x)*sin, where
      rotate_half(x) = cat(-x[d/2:], x[:d/2]); i.e. out[i] = x[i]cos - x[i+d/2]sin,
      out[i+d/2] = x[i+d/2]cos + x[i]sin. All float32 torch ops.
    candidates j in [n_init, e - n_local); z[h,j] = qt[h] . k[kappa(h), j] (raw, no 1/sqrt(d));
    criticality c[h,:] = softmax over the candidates of z[h,:]; S[j] = sum_h c[h,j] (float32);
    if kernel > 0: S <- max_pool1d(S, kernel, stride 1, padding (kernel-1)//2) (torch semantics:
      -inf padding; only odd kernels are used, so the length is unchanged);
    sel = topk by S, stable (larger first, lower index wins ties), then sorted ascending;
    attended = [0, n_init) U sel U [e - n_local, e), shared by all heads.
* Attention, float64 from the float32 inputs, on the stored q and k AS THEY ARE (no RoPE in the
  attention: the app compares TokenSelect against dense attention on the same Q/K, and 10 step 9's
  compact-position RoPE is a visualiser toggle, not modelled here): logits q[h,i].k[floor(h/g),j] /
  sqrt(d); query i of chunk c may attend to j iff j in attended_c and j <= i (causal). Softmax over
  the allowed keys (heads paired contiguously, kappa(h) = floor(h/g), as the model's own
  attention does: Quirk T1 is in the selection kernel only); masked weights exactly 0; a row with nothing allowed (possible when
  n_init = 0 and the early rows of a chunk precede every selected/local key) gets zero weights and
  a zero output ("zero_rows" counts them per case, the same for every head since the set is
  shared). Dense reference: causal softmax, float64, contiguous head mapping. Stored as float32.
* Metrics (0.7): |C| = N(N+1)/2; density[h] = allowed causal pairs / |C|; recall_mean[h] = mean
  over all N queries of sum_{allowed j} dense_weights[h,i,j] (zero rows count as 0); rel_frob =
  ||O_sparse - O_dense||_F / ||O_dense||_F over all heads. Overhead per chunk =
  2*d*H*(e - n_init - n_local) FLOPs for a selecting chunk, 0 otherwise.
* Robustness (so a float32 implementation elsewhere reproduces the selection): for every selecting
  chunk let T be the topk-th largest final vote. Asserted: (a) every final vote != T differs from T
  by more than GAP * max(S) (for kernel 0 this is at least the brief's "topk-th vs (topk+1)-th"
  gap; with max-pool smoothing exact duplicates of one source value are legitimate ties, so the gap
  is taken to the nearest *distinct* value on each side); (b) with kernel > 0, T comes from a single
  pre-pool index (its copies are bit-identical in any implementation); (c) the same selection
  recomputed in float64 from the float32 inputs is identical. Seeds are advanced until all hold;
  the smallest relative gap is stored per chunk ("min_rel_gap").
* JSON chunk fields: start, end, selecting, fingerprint (flat [H,d]), votes (final S over the
  candidates, index 0 = token n_init), selected, attended, overhead; extras: "votes_raw" (S before
  smoothing, only when kernel > 0, else null), "criticality" (flat [H, ncand] float32 softmax
  rows), "min_rel_gap". Extra case fields: "seed", "zero_rows", "note".
* Stored floats are float(np.float32(x)).

Run: /usr/bin/python3 scripts/make_tokenselect_goldens.py
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'golden', 'tokenselect.json')
GAP = 1e-5
ALPHA, BETA, NHEAVY = 2.0, 6.0, 8  # input recipe, see make_inputs


def f32(x):
    return float(np.float32(x))


def flat(t):
    return [f32(x) for x in t.reshape(-1).tolist()]


# ---------------------------------------------------------------- spec pieces

def kv_index(H, Hkv, mapping):
    h = torch.arange(H)
    if mapping == 'modulo':
        return h % Hkv
    assert mapping == 'contiguous'
    return h // (H // Hkv)


def rope(x, pos, base):
    """HF Llama half-split RoPE. x [n, d], pos [n] (ints) -> [n, d], in x's dtype."""
    d = x.shape[-1]
    inv_freq = 1.0 / (base ** (torch.arange(0, d, 2).float() / d))
    inv_freq = inv_freq.to(x.dtype)
    t = torch.tensor(pos).to(x.dtype)
    freqs = torch.einsum('i,j->ij', t, inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    rot = torch.cat((-x[..., d // 2:], x[..., :d // 2]), dim=-1)
    return x * cos + rot * sin


def topk_stable(S, k):
    vals = S.tolist()
    order = sorted(range(len(vals)), key=lambda j: (-vals[j], j))
    return order[:min(k, len(vals))]


def votes(z, kernel):
    """z [H, ncand] -> (criticality [H,ncand], S_raw [ncand], S [ncand])."""
    c = torch.softmax(z, dim=-1)
    s_raw = c.sum(dim=0)
    s = s_raw
    if kernel > 0:
        assert kernel % 2 == 1
        s = F.max_pool1d(s_raw[None, None, :], kernel, stride=1, padding=(kernel - 1) // 2)[0, 0]
        assert s.shape == s_raw.shape
    return c, s_raw, s


def select_chunk(q, k, s, e, p, kv, dtype):
    """Selection for chunk [s, e). Returns dict (fingerprint, criticality, votes...) in dtype."""
    n_init, n_local, topk = p['n_init'], p['n_local'], p['topk']
    qc = q[:, s:e].to(dtype)                                     # [H, nq, d]
    H, nq, d = qc.shape
    if p['rotate']:
        pos = [n_local + r for r in range(nq)]
        qt = torch.stack([rope(qc[h], pos, p['base']).mean(dim=0) for h in range(H)])
    else:
        qt = qc.mean(dim=1)
    cand = k[:, n_init:e - n_local].to(dtype)[kv]                # [H, ncand, d]
    z = torch.einsum('hd,hjd->hj', qt, cand)
    c, s_raw, sv = votes(z, p['kernel'])
    sel = sorted(topk_stable(sv, topk))
    return {'fingerprint': qt, 'criticality': c, 'votes_raw': s_raw, 'votes': sv,
            'selected': [n_init + j for j in sel]}


def robust_gap(res, topk, kernel):
    """Relative gap of the selection boundary (see Robustness); None if it fails (b)."""
    sv = res['votes'].tolist()
    mx = max(sv)
    T = sorted(sv, reverse=True)[topk - 1]
    if kernel > 0 and res['votes_raw'].tolist().count(T) != 1:
        return None
    others = [abs(x - T) for x in sv if x != T]
    if kernel == 0:
        assert sv.count(T) == 1
    return min(others) / mx


def check_vectors():
    z = torch.tensor([[2, 0, 0, 0], [0, 0, 1, 1]], dtype=torch.float32)
    c, _, S = votes(z, 0)
    sel = sorted(topk_stable(S, 2))
    want_c = [[0.71123, 0.09626, 0.09626, 0.09626], [0.13447, 0.13447, 0.36553, 0.36553]]
    assert all(abs(a - b) < 1e-5 for ra, rb in zip(c.tolist(), want_c) for a, b in zip(ra, rb)), c
    assert all(abs(a - b) < 1e-5 for a, b in zip(S.tolist(), [0.84571, 0.23073, 0.46178, 0.46178])), S
    assert S[2].item() == S[3].item() and sel == [0, 2], (S, sel)
    # 12.1: D = 2, theta_0 = 1: [1,0] at position 1 -> [cos 1, sin 1]; relative invariance
    r1 = rope(torch.tensor([[1.0, 0.0]]), [1], 10000.0)[0]
    assert abs(r1[0].item() - 0.540302) < 1e-6 and abs(r1[1].item() - 0.841471) < 1e-6, r1
    qv, kv_ = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.3, 0.7]])
    a = (rope(qv, [3], 10000.0) * rope(kv_, [1], 10000.0)).sum().item()
    b = (rope(qv, [2], 10000.0) * rope(kv_, [0], 10000.0)).sum().item()
    assert abs(a - 0.511664) < 1e-6 and abs(b - 0.511664) < 1e-6, (a, b)
    return {'voting': {'z': [[2, 0, 0, 0], [0, 0, 1, 1]], 'softmax': [flat(r) for r in c],
                       'S': flat(S), 'k': 2, 'selected': sel},
            'rope': {'x': [1, 0], 'pos': 1, 'base': 10000, 'out': flat(r1),
                     'relative': {'q': [1, 0], 'k': [0.3, 0.7], 'q3_k1': f32(a), 'q2_k0': f32(b)}}}


def attend(q, k, v, mask, kv):
    """float64 masked softmax attention. q [H,N,d], mask [H,N,N] bool (causal included).
    Rows with nothing allowed give zero weights and a zero output."""
    H, N, d = q.shape
    kk = k.double()[kv]
    vv = v.double()[kv]
    logits = (q.double() @ kk.transpose(1, 2)) / math.sqrt(d)
    logits = logits.masked_fill(~mask, float('-inf'))
    w = torch.softmax(logits, dim=-1)
    w = torch.where(mask, w, torch.zeros_like(w))   # also clears NaN rows (all masked)
    return w, w @ vv


def make_inputs(seed, H, Hkv, N, d, dv):
    gen = torch.Generator().manual_seed(seed)
    q = torch.randn(H, N, d, generator=gen, dtype=torch.float32)
    k = torch.randn(Hkv, N, d, generator=gen, dtype=torch.float32)
    v = torch.randn(Hkv, N, dv, generator=gen, dtype=torch.float32)
    u = torch.randn(Hkv, d, generator=gen, dtype=torch.float32)
    u = u / u.norm(dim=-1, keepdim=True)
    q = q + ALPHA * u[torch.arange(H) % Hkv][:, None, :]
    for kv in range(Hkv):
        pos = torch.randperm(N, generator=gen)[:NHEAVY]
        gam = BETA * (0.5 + 0.5 * torch.rand(NHEAVY, generator=gen, dtype=torch.float32))
        k[kv, pos] += gam[:, None] * u[kv]
    return q, k, v


def make_case(name, seed, shape, p, note=None):
    """Returns (case or None if the robustness checks fail)."""
    H, Hkv, N, d, dv = shape
    q, k, v = make_inputs(seed, H, Hkv, N, d, dv)
    kv = kv_index(H, Hkv, p['mapping'])
    chunk = p['chunk']
    ii = torch.arange(N)[:, None]
    jj = torch.arange(N)[None, :]
    causal = jj <= ii
    allow = torch.zeros(N, N, dtype=torch.bool)
    chunks = []
    for s in range(0, N, chunk):
        e = min(N, s + chunk)
        selecting = p['n_init'] + p['topk'] + p['n_local'] < e
        ch = {'start': s, 'end': e, 'selecting': selecting, 'fingerprint': None, 'votes': None,
              'selected': None, 'overhead': 0, 'votes_raw': None, 'criticality': None,
              'min_rel_gap': None}
        if selecting:
            res = select_chunk(q, k, s, e, p, kv, torch.float32)
            res64 = select_chunk(q, k, s, e, p, kv, torch.float64)
            if res64['selected'] != res['selected']:
                return None
            gap = robust_gap(res, p['topk'], p['kernel'])
            if gap is None or gap <= GAP:
                return None
            sel = res['selected']
            assert len(sel) == p['topk'] and len(set(sel)) == p['topk']
            assert all(p['n_init'] <= j < e - p['n_local'] for j in sel)
            attended = sorted(set(range(p['n_init'])) | set(sel) | set(range(e - p['n_local'], e)))
            ch.update(fingerprint=flat(res['fingerprint']), votes=flat(res['votes']), selected=sel,
                      overhead=2 * d * H * (e - p['n_init'] - p['n_local']),
                      criticality=flat(res['criticality']), min_rel_gap=f32(gap))
            if p['kernel'] > 0:
                ch['votes_raw'] = flat(res['votes_raw'])
        else:
            attended = list(range(e))
        ch['attended'] = attended
        cols = torch.zeros(N, dtype=torch.bool)
        cols[attended] = True
        allow[s:e] = cols[None, :]
        chunks.append(ch)
    mask = (allow & causal).expand(H, N, N)
    zero_rows = int((~mask[0].any(dim=-1)).sum().item())
    # Attention (FlashInfer in the code) pairs heads as the model does (contiguous, HF GQA);
    # only the selection kernel maps by modulo (Quirk T1).
    kv_attn = kv_index(H, Hkv, 'contiguous')
    w, o = attend(q, k, v, mask, kv_attn)
    wd, od = attend(q, k, v, causal.expand(H, N, N), kv_attn)
    ncausal = N * (N + 1) // 2
    density = [mask[h].sum().item() / ncausal for h in range(H)]
    recall = [(wd[h] * mask[h]).sum(dim=-1).mean().item() for h in range(H)]
    rel = ((o - od).norm() / od.norm()).item()
    case = {'name': name, 'params': dict(p),
            'H': H, 'Hkv': Hkv, 'N': N, 'd': d, 'dv': dv, 'seed': seed,
            'q': flat(q), 'k': flat(k), 'v': flat(v),
            'chunks': chunks,
            'weights': flat(w), 'output': flat(o),
            'dense_weights': flat(wd), 'dense_output': flat(od),
            'density': [f32(x) for x in density], 'recall_mean': [f32(x) for x in recall],
            'rel_frob': f32(rel), 'zero_rows': zero_rows}
    if note:
        case['note'] = note
    return case


def seeded_cases(base_seed, shape, specs, require=None):
    """specs: list of (name, params, note); all share one input draw (shape). Advance the seed
    until every case passes the robustness checks (and `require(cases)` if given)."""
    seed = base_seed
    while True:
        out = []
        for name, p, note in specs:
            c = make_case(name, seed, shape, p, note)
            if c is None:
                break
            out.append(c)
        else:
            if require is None or require(out):
                return out
        seed += 1
        assert seed < base_seed + 500, 'no robust seed found'


def P(**kw):
    p = {'n_init': 2, 'n_local': 8, 'topk': 6, 'chunk': 64, 'rotate': True, 'base': 10000.0,
         'kernel': 0, 'mapping': 'modulo'}
    p.update(kw)
    return p


def main():
    vectors = check_vectors()
    # cases 1, 4, 5 share one input draw (H=2, Hkv=2, N=64, d=16, dv=12)
    shape_a = (2, 2, 64, 16, 12)
    ca = seeded_cases(1000, shape_a, [
        ('tokenselect basic (H=2, Hkv=2, N=64, d=16, dv=12, n_init=2, n_local=8, topk=6, chunk=64)',
         P(), None),
        ('tokenselect kernel=3 smoothing (same inputs as basic)', P(kernel=3),
         'max_pool1d(S, 3, stride 1, pad 1) before top-k; votes_raw = S before pooling'),
        ('tokenselect rotate=false (same inputs as basic)', P(rotate=False),
         'fingerprint = plain mean of the chunk queries'),
    ])
    # cases 2, 3 share one input draw (H=4, Hkv=2, N=96, d=16, dv=12)
    shape_b = (4, 2, 96, 16, 12)
    pb = dict(n_init=1, n_local=8, topk=6, chunk=32, base=500000.0)
    cb = seeded_cases(2000, shape_b, [
        ('tokenselect GQA modulo (H=4, Hkv=2, N=96, chunk=32, base=500000, n_init=1, n_local=8, topk=6)',
         P(**pb, mapping='modulo'), 'faithful Quirk T1 mapping kappa(h) = h mod Hkv'),
        ('tokenselect GQA contiguous (same inputs as GQA modulo)',
         P(**pb, mapping='contiguous'), 'intent mapping kappa(h) = floor(h / g)'),
    ])
    c6 = seeded_cases(3000, (2, 1, 12, 8, 8), [
        ('tokenselect no selection (H=2, Hkv=1, N=12, d=8, dv=8, n_init=2, n_local=4, topk=8, chunk=4)',
         P(n_init=2, n_local=4, topk=8, chunk=4),
         'n_init + topk + n_local = 14 >= e for every chunk: attend to all of [0, e); sparse = dense'),
    ])
    c7 = seeded_cases(4000, (4, 2, 80, 16, 12), [
        ('tokenselect no sink (H=4, Hkv=2, N=80, d=16, dv=12, n_init=0, n_local=2, topk=3, chunk=16)',
         P(n_init=0, n_local=2, topk=3, chunk=16),
         'n_init = 0: early rows of a chunk can precede every attended key -> zero rows'),
    ], require=lambda cs: cs[0]['zero_rows'] > 0)
    c1, c4, c5 = ca
    c2, c3 = cb
    cases = [c1, c2, c3, c4, c5] + c6 + c7

    # sanity checks across cases
    assert c1['q'] == c4['q'] == c5['q'] and c2['q'] == c3['q'] and c2['k'] == c3['k']
    assert all(not ch['selecting'] for ch in c6[0]['chunks'])
    assert all(x == 1.0 for x in c6[0]['density']) and c6[0]['rel_frob'] == 0.0
    assert c6[0]['weights'] == c6[0]['dense_weights'] and c6[0]['output'] == c6[0]['dense_output']
    for c in cases:
        assert all(ch['selecting'] for ch in c['chunks']) or c is c6[0]
    diff23 = [a['selected'] != b['selected'] for a, b in zip(c2['chunks'], c3['chunks'])]
    diff14 = [a['selected'] != b['selected'] for a, b in zip(c1['chunks'], c4['chunks'])]
    diff15 = [a['selected'] != b['selected'] for a, b in zip(c1['chunks'], c5['chunks'])]
    c3['note'] += '; selection differs from GQA modulo in chunks %s' % [i for i, x in enumerate(diff23) if x]

    for c in cases:
        print(c['name'])
        print('  seed', c['seed'], 'zero_rows', c['zero_rows'])
        for ch in c['chunks']:
            print('  chunk [%d,%d) sel=%s gap=%s overhead=%d' % (ch['start'], ch['end'], ch['selected'],
                                                               ch['min_rel_gap'], ch['overhead']))
        print('  density', c['density'], 'recall', c['recall_mean'], 'rel_frob', c['rel_frob'])
    print('modulo vs contiguous differ per chunk:', diff23)
    print('kernel 3 vs 0 differ:', diff14, ' rotate false vs true differ:', diff15)
    out = {'generator': 'scripts/make_tokenselect_goldens.py', 'torch': torch.__version__,
           'spec': 'ALGORITHMS.md §10', 'vectors': vectors, 'cases': cases}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        json.dump(out, f, allow_nan=False)
    print(f'wrote {os.path.normpath(OUT)} ({os.path.getsize(OUT)} bytes, {len(cases)} cases)')


if __name__ == '__main__':
    main()

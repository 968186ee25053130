#!/usr/bin/python3
"""Writes tests/golden/draft.json: goldens for DraftAttention (ALGORITHMS.md 9).

An independent PyTorch reference (Debian's python3-torch 1.13, run with /usr/bin/python3),
written from ALGORITHMS.md (0, 9) and the golden brief, not from the TypeScript.

Conventions:
* Sequence layout: [visual tokens | text tokens]. Visual tokens are F frames x h x w latent
  grid, flattened (frame, row, col) row-major, frame slowest: token t < V = F*h*w has
  frame = t // (h*w), row = (t % (h*w)) // w, col = t % w. The nt text tokens are t in [V, N),
  N = V + nt. Non-causal (video DiT): every (i, j) pair is in C, |C| = N^2.
* Inputs q [H,N,d], k [Hkv,N,d], v [Hkv,N,dv] are float32, built from a seeded torch.Generator
  and stored flat (row-major), so no PRNG port is needed. Query head hd reads KV head
  floor(hd / (H/Hkv)) (contiguous, 0.2). Recipe (make_inputs), in this draw order:
    q = randn(H,N,d); k = randn(Hkv,N,d); v = randn(Hkv,N,dv);
    omega = 0.6 * randn(NF,3); phi = 2*pi * rand(NF); A = randn(H,NF,d); B = randn(Hkv,NF,d);
    feat[t,m] = cos(omega[m] . (frame,row,col)_t + phi[m]) for visual t, 0 for text t;
    q[hd] += FSCALE * feat @ A[hd] / sqrt(NF);  k[kv] += FSCALE * feat @ B[kv] / sqrt(NF)
  with NF = 4 random Fourier features and FSCALE = 2 (computed in float32). This smooth
  position-dependent part survives the pooling, so the draft map is not flat. The seed is
  advanced from a base until the robustness check below passes.
* Pool (ph, pw), asserted h % ph == 0 and w % pw == 0 (so no partial windows and
  V % (w*ph) == 0). Draft Q/K, float32: per frame, per head, 2D average pooling with
  kernel = stride = (ph, pw) of the visual Q and K (mean of the ph*pw tokens), giving
  S = F*(h/ph)*(w/pw) cells; cell(t) = frame*(h/ph)*(w/pw) + (row//ph)*(w/pw) + col//pw.
  Text tokens are not pooled.
* Draft map, float32: D[hd] = softmax_row(Qbar[hd] @ Kbar[kv(hd)]^T / sqrt(d)), [S,S]
  (rows = query cells, softmax over key cells), d = head dim.
* Per-head mask (Quirk R1, as code): r = 1 - sigma, n = S^2, k = int((1 - r) * n) (Python
  float64 arithmetic, int truncation); k == 0 -> keep all (theta null); k >= n -> keep none
  (theta null); otherwise theta = torch.kthvalue(D[hd].flatten(), k) (the k-th smallest = the
  max of the k smallest) and keep[a,b] = D[hd,a,b] >= theta (n - k + 1 entries plus ties).
* Robustness (asserted per head with a threshold): every draft value other than the k-th
  smallest entry itself is more than 1e-6 away from theta (no ties either), so the kept set
  is reproducible by any float32 implementation; a float64 recomputation of the draft gives
  the same kept set. The smallest gap is stored per case ("min_theta_gap").
* Reorder permutation perm[p] = original token index at permuted position p: for each frame,
  for each band of ph rows, for each column chunk c (width pw), for each row of the band,
  that row's pw tokens of chunk c; text tokens keep their positions at the end. Then draft
  cell s is exactly permuted positions [s*B, s*B + B), B = ph*pw, and text is the tail.
* Block mask over B-token blocks in permuted order, nblocks = ceil(N / B) (text forms the
  trailing blocks, the last possibly partial): MB[hd,a,b] = keep[hd,a,b] if a < S and b < S,
  else True (every block row/column holding text tokens is fully kept). Token mask in permuted
  order Mp[hd,p,p2] = MB[hd, p//B, p2//B]; in original order M[hd,i,j] = Mp[hd,inv[i],inv[j]].
* Attention in float64 from the float32 inputs, in permuted order: logits q.k^T / sqrt(d),
  softmax over the allowed set, masked weights exactly 0; a row with no allowed key gives zero
  weights and a zero output. Weights and outputs are mapped back to original order
  (asserted equal, to 1e-12, to computing directly with M in original order). Dense
  reference: plain non-causal softmax, float64, original order. Stored as float32 values.
* Metrics (0.7, non-causal): density[hd] = sum M[hd] / N^2; recall_mean[hd] = mean_i
  sum_{j: M[hd,i,j]} dense_weights[hd,i,j]; rel_frob = ||O - O_dense||_F / ||O_dense||_F over
  all heads. draft_corr[hd]: P[a,b] = mean over visual queries i in cell a of the sum over
  visual keys j in cell b of dense_weights[hd,i,j]; Pearson correlation (float64) of P and
  D[hd] over all S^2 entries.
* Stored floats are float(np.float32(x)). "keep" and "block_mask" are per head lists of row
  strings ('1' kept, '0' not). Extra per-case fields beyond the brief's schema: "k_removed" (the
  truncated count, shared by all heads), "kept" (kept cells per head), "min_theta_gap",
  "note". The default-app case (N=256) stores "dense_weights": null to keep the file small.

Run: /usr/bin/python3 scripts/make_draft_goldens.py
"""
import json
import math
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'golden', 'draft.json')
GAP = 1e-6       # required separation of every draft value from theta
NF, FSCALE, OMEGA = 4, 2.0, 0.6   # input recipe, see make_inputs


def f32(x):
    return float(np.float32(x))


def flat(t):
    return [f32(x) for x in t.reshape(-1).tolist()]


# ---------------------------------------------------------------- spec pieces

def kcount(sparsity, n):
    r = 1.0 - sparsity
    return int((1.0 - r) * n)


def threshold_mask(x, sparsity):
    """x: 1-D tensor of n values. Returns (k, theta or None, keep bool tensor)."""
    n = x.numel()
    k = kcount(sparsity, n)
    if k == 0:
        return k, None, torch.ones(n, dtype=torch.bool)
    if k >= n:
        return k, None, torch.zeros(n, dtype=torch.bool)
    theta = torch.kthvalue(x, k).values
    return k, theta.item(), x >= theta


def reorder_perm(F, h, w, ph, pw, nt):
    assert h % ph == 0 and w % pw == 0
    perm = []
    for f in range(F):
        for band in range(h // ph):
            for c in range(w // pw):
                for r in range(ph):
                    row = band * ph + r
                    for col in range(c * pw, (c + 1) * pw):
                        perm.append(f * h * w + row * w + col)
    V = F * h * w
    perm += list(range(V, V + nt))
    assert sorted(perm) == list(range(V + nt))
    return perm


def cell_of(F, h, w, ph, pw):
    """cell index of every visual token in original order."""
    out = []
    for t in range(F * h * w):
        f, row, col = t // (h * w), (t % (h * w)) // w, t % w
        out.append(f * (h // ph) * (w // pw) + (row // ph) * (w // pw) + col // pw)
    return out


def pool(x, F, h, w, ph, pw):
    """x [Hx, V, d] visual tokens -> [Hx, S, d], 2D average pooling per frame."""
    Hx, V, d = x.shape
    y = x.reshape(Hx, F, h // ph, ph, w // pw, pw, d).mean(dim=(3, 5))
    return y.reshape(Hx, F * (h // ph) * (w // pw), d)


def draft_map(q, k, V, F, h, w, ph, pw, g):
    """q [H,N,d], k [Hkv,N,d] (float32 or float64). Returns D [H,S,S] in that dtype."""
    H, _, d = q.shape
    qb = pool(q[:, :V], F, h, w, ph, pw)
    kb = pool(k[:, :V], F, h, w, ph, pw)[torch.arange(H) // g]
    logits = (qb @ kb.transpose(1, 2)) / math.sqrt(d)
    return torch.softmax(logits, dim=-1)


def check_vectors():
    values = [0.42, 0.07, 0.91, 0.33, 0.58, 0.15, 0.76, 0.24, 0.66, 0.50]
    x = torch.tensor(values, dtype=torch.float32)
    k, theta, keep = threshold_mask(x, 0.8)
    kept = [i for i in range(len(values)) if keep[i]]
    assert k == 8 and len(kept) == 3, (k, kept)   # spec: 3 kept, not 2
    assert kept == [2, 6, 8], kept   # values 0.91, 0.76, 0.66 (theta = 0.66, the 8th smallest)
    assert theta == torch.sort(x).values[7].item()
    perm = reorder_perm(1, 2, 4, 2, 2, 0)
    assert perm == [0, 1, 4, 5, 2, 3, 6, 7], perm
    return {'threshold': {'values': [f32(v) for v in values], 'sparsity': 0.8, 'k': k,
                          'kept': kept, 'theta': f32(theta)},
            'reorder': {'F': 1, 'h': 2, 'w': 4, 'ph': 2, 'pw': 2, 'perm': perm}}


def attend(q, k, v, mask, g):
    """float64 masked non-causal softmax attention. q [H,N,d], mask [H,N,N] bool.
    Rows without any allowed key give zero weights and a zero output."""
    H, N, d = q.shape
    kk = k.double()[torch.arange(H) // g]
    vv = v.double()[torch.arange(H) // g]
    logits = (q.double() @ kk.transpose(1, 2)) / math.sqrt(d)
    logits = logits.masked_fill(~mask, float('-inf'))
    empty = ~mask.any(dim=-1, keepdim=True)
    logits = logits.masked_fill(empty, 0.0)   # avoid NaN; zeroed below
    w = torch.softmax(logits, dim=-1)
    w = torch.where(mask, w, torch.zeros_like(w))
    return w, w @ vv


def make_inputs(seed, H, Hkv, N, d, dv, F, h, w):
    gen = torch.Generator().manual_seed(seed)
    q = torch.randn(H, N, d, generator=gen, dtype=torch.float32)
    k = torch.randn(Hkv, N, d, generator=gen, dtype=torch.float32)
    v = torch.randn(Hkv, N, dv, generator=gen, dtype=torch.float32)
    omega = OMEGA * torch.randn(NF, 3, generator=gen, dtype=torch.float32)
    phi = 2 * math.pi * torch.rand(NF, generator=gen, dtype=torch.float32)
    A = torch.randn(H, NF, d, generator=gen, dtype=torch.float32)
    Bm = torch.randn(Hkv, NF, d, generator=gen, dtype=torch.float32)
    V = F * h * w
    t = torch.arange(V)
    pos = torch.stack([t // (h * w), (t % (h * w)) // w, t % w], dim=1).float()   # [V,3]
    feat = torch.zeros(N, NF, dtype=torch.float32)
    feat[:V] = torch.cos(pos @ omega.T + phi)
    q = q + FSCALE * (feat @ A) / math.sqrt(NF)
    k = k + FSCALE * (feat @ Bm) / math.sqrt(NF)
    return q, k, v


def bits(rows):
    return [''.join('1' if b else '0' for b in row) for row in rows.tolist()]


def make_case(name, seed, grid, heads, sparsity, note=None, store_dense_weights=True):
    """Returns the case dict, or None when the threshold robustness check fails."""
    F, h, w, ph, pw, nt = grid
    H, Hkv, d, dv = heads
    assert H % Hkv == 0 and h % ph == 0 and w % pw == 0
    g = H // Hkv
    V = F * h * w
    N = V + nt
    B = ph * pw
    S = F * (h // ph) * (w // pw)
    assert S * B == V and V % (w * ph) == 0
    nb = -(-N // B)
    q, k, v = make_inputs(seed, H, Hkv, N, d, dv, F, h, w)

    D = draft_map(q, k, V, F, h, w, ph, pw, g)            # float32 [H,S,S]
    D64 = draft_map(q.double(), k.double(), V, F, h, w, ph, pw, g)
    keep, thetas, kept, gaps = [], [], [], []
    kk = None
    for hd in range(H):
        x = D[hd].reshape(-1)
        kk, theta, kp = threshold_mask(x, sparsity)
        if theta is not None:
            idx = torch.sort(x).indices[kk - 1].item()
            others = torch.cat([x[:idx], x[idx + 1:]]).double()
            gap = (others - theta).abs().min().item()
            if gap <= GAP:
                return None
            gaps.append(gap)
            assert int(kp.sum()) == S * S - kk + 1
            k64, _, kp64 = threshold_mask(D64[hd].reshape(-1), sparsity)
            assert torch.equal(kp, kp64)
        keep.append(kp.reshape(S, S))
        thetas.append(None if theta is None else f32(theta))
        kept.append(int(kp.sum()))
    keep = torch.stack(keep)                                  # [H,S,S] bool

    MB = torch.ones(H, nb, nb, dtype=torch.bool)
    MB[:, :S, :S] = keep
    perm = reorder_perm(F, h, w, ph, pw, nt)
    permt = torch.tensor(perm)
    inv = torch.empty(N, dtype=torch.long)
    inv[permt] = torch.arange(N)
    # sanity: cell s is permuted positions [s*B, (s+1)*B)
    cells = cell_of(F, h, w, ph, pw)
    for p in range(V):
        assert cells[perm[p]] == p // B
    pp = torch.arange(N)
    Mp = MB[:, (pp // B)[:, None].expand(N, N), (pp // B)[None, :].expand(N, N)]   # [H,N,N]
    wp, op = attend(q[:, permt], k[:, permt], v[:, permt], Mp, g)
    W = wp[:, inv][:, :, inv]
    O = op[:, inv]
    M = Mp[:, inv][:, :, inv]
    W2, O2 = attend(q, k, v, M, g)
    assert (W - W2).abs().max().item() < 1e-12 and (O - O2).abs().max().item() < 1e-12
    Wd, Od = attend(q, k, v, torch.ones(H, N, N, dtype=torch.bool), g)

    density = [M[hd].sum().item() / (N * N) for hd in range(H)]
    recall = [(Wd[hd] * M[hd]).sum(dim=-1).mean().item() for hd in range(H)]
    rel = ((O - Od).norm() / Od.norm()).item()
    # draft-vs-true correlation
    C = torch.zeros(S, V, dtype=torch.float64)
    C[torch.tensor(cells), torch.arange(V)] = 1.0             # cell membership [S,V]
    corr = []
    for hd in range(H):
        P = (C @ Wd[hd, :V, :V] @ C.T) / C.sum(dim=1, keepdim=True)   # mean over queries, sum over keys
        a = P.reshape(-1) - P.mean()
        b = D[hd].double().reshape(-1) - D[hd].double().mean()
        corr.append((a @ b / (a.norm() * b.norm())).item())

    case = {'name': name,
            'params': {'F': F, 'h': h, 'w': w, 'ph': ph, 'pw': pw, 'sparsity': sparsity, 'text': nt},
            'H': H, 'Hkv': Hkv, 'N': N, 'd': d, 'dv': dv, 'seed': seed,
            'q': flat(q), 'k': flat(k), 'v': flat(v),
            'perm': perm, 'S': S, 'block': B, 'nblocks': nb,
            'draft': flat(D), 'theta': thetas,
            'keep': [bits(keep[hd]) for hd in range(H)],
            'block_mask': [bits(MB[hd]) for hd in range(H)],
            'weights': flat(W), 'output': flat(O),
            'dense_weights': flat(Wd) if store_dense_weights else None,
            'dense_output': flat(Od),
            'density': [f32(x) for x in density], 'recall_mean': [f32(x) for x in recall],
            'rel_frob': f32(rel), 'draft_corr': [f32(x) for x in corr],
            'k_removed': kk, 'kept': kept, 'min_theta_gap': f32(min(gaps)) if gaps else None}
    if note:
        case['note'] = note
    return case


def seeded_case(base_seed, *args, **kw):
    seed = base_seed
    while True:
        c = make_case(args[0], seed, *args[1:], **kw)
        if c is not None:
            return c
        seed += 1
        assert seed < base_seed + 200


def main():
    vectors = check_vectors()
    g1 = (2, 4, 4, 2, 2, 0)
    h1 = (2, 2, 16, 12)
    c1 = seeded_case(100, 'draft F=2 h=4 w=4 pool 2x2 sigma=0.5 (H=2 Hkv=2 d=16 dv=12)', g1, h1, 0.5)
    cases = [
        c1,
        seeded_case(200, 'draft F=2 h=4 w=8 pool 2x4 sigma=0.8 text=5 (H=2 Hkv=1 d=16 dv=8)',
                    (2, 4, 8, 2, 4, 5), (2, 1, 16, 8), 0.8,
                    note='N=69, B=8: 8 visual blocks + 1 partial text block of 5 tokens'),
        seeded_case(300, 'draft F=1 h=2 w=4 pool 2x2 sigma=0.5 (reorder vector; H=2 Hkv=1 d=8 dv=4)',
                    (1, 2, 4, 2, 2, 0), (2, 1, 8, 4), 0.5,
                    note='perm [0,1,4,5,2,3,6,7]; S=2, k=2, 3 of 4 cells kept'),
        make_case('draft sigma=0 keep all (case 1 inputs)', c1['seed'], g1, h1, 0.0,
                  note='k = 0: every pair allowed, equals dense'),
        make_case('draft sigma=1 keep none (case 1 inputs, no text)', c1['seed'], g1, h1, 1.0,
                  note='k = n: every row masked -> zero weights and outputs'),
        seeded_case(500, 'draft GQA F=3 h=4 w=4 pool 2x2 sigma=0.75 text=3 (H=4 Hkv=2 d=16 dv=12)',
                    (3, 4, 4, 2, 2, 3), (4, 2, 16, 12), 0.75),
        seeded_case(600, 'draft app default F=4 h=8 w=8 pool 2x2 sigma=0.9 (H=2 Hkv=1 d=16 dv=16)',
                    (4, 8, 8, 2, 2, 0), (2, 1, 16, 16), 0.9, store_dense_weights=False,
                    note='dense_weights omitted (null) to keep the file small'),
    ]
    c0, cn = cases[3], cases[4]
    assert c0['q'] == c1['q'] and cn['q'] == c1['q']
    assert all(x == 1.0 for x in c0['density']) and all(t is None for t in c0['theta'])
    assert max(abs(a - b) for a, b in zip(c0['weights'], c0['dense_weights'])) < 1e-6
    assert all(x == 0.0 for x in cn['density']) and all(x == 0.0 for x in cn['recall_mean'])
    assert all(x == 0.0 for x in cn['weights']) and all(x == 0.0 for x in cn['output'])
    assert cn['rel_frob'] == 1.0
    assert cases[2]['perm'] == vectors['reorder']['perm']
    for c in cases:
        print(c['name'], 'seed', c['seed'], 'k', c['k_removed'], 'kept', c['kept'], 'gap', c['min_theta_gap'])
        print('  density', c['density'], 'recall', c['recall_mean'], 'rel_frob', c['rel_frob'],
              'draft_corr', c['draft_corr'])
    out = {'generator': 'scripts/make_draft_goldens.py', 'torch': torch.__version__,
           'spec': 'ALGORITHMS.md §9', 'vectors': vectors, 'cases': cases}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        json.dump(out, f, allow_nan=False)
    print(f'wrote {os.path.normpath(OUT)} ({os.path.getsize(OUT)} bytes, {len(cases)} cases)')


if __name__ == '__main__':
    main()

#!/usr/bin/python3
"""Writes tests/golden/sparsed.json: goldens for SparseD (ALGORITHMS.md 8).

An independent PyTorch reference (Debian's python3-torch 1.13, run with /usr/bin/python3),
written from ALGORITHMS.md (0, 8, Appendix B D1-D3) and the golden brief, not from the
TypeScript. Torch 1.13 has no scaled_dot_product_attention, so attention is written by hand.

Conventions:
* Inputs q [H,N,d], k [Hkv,N,d], v [Hkv,N,dv] are float32 (torch.randn with a per-case seeded
  torch.Generator, or the literal 0.8 synthetic vectors rounded to float32) and are stored, so no
  PRNG port is needed. Query head h reads KV head floor(h / (H/Hkv)) (HF repeat_kv, 0.2).
* Bidirectional: no causal mask anywhere (dense reference included).
* Logit scale sigma = 1/sqrt(d) everywhere (Quirk D1: the spec's intent, as in Dream; the LLaDA
  file's 1/sqrt(num_heads) is NOT reproduced).
* Blocks (0.4): nqb = nkb = ceil(N/b).
  L = the smallest I in [0, nqb) with N - I*b <= n_gen, or nqb - 1 if there is none (this is
  exactly the official loop: the first idx with `q_len - idx*b <= new_generation or
  idx == nqb - 1`). So a block straddling prompt and generation counts as prompt, EXCEPT when
  no block start lies inside the generation region (n_gen < size of the last block, including
  n_gen = 0): then L = nqb - 1 and the last block (prompt tokens included) is the
  "generation" region of pass 2.
* Importance (selection), entirely in float32 torch ops, per head and per query block I
  (rows I*b .. min(N,(I+1)*b)-1, fewer for a partial last block):
    pass 1: P = softmax_fp32((Q_I @ K^T) / sqrt(d)) over all N real keys; right/bottom zero-pad
            P to b x b tiles (padding is of the PROBABILITIES, after the softmax, as the code's
            F.pad of attn_weights) and imp1[I,J] = tile sum / b^2 (so partial tiles divide by
            b^2, never by their real size); keep topkStable(imp1[I,:], k1),
            k1 = min(nkb, max(1, floor(nkb*rho) + 1)) (D2 +1, D3 clamp).
            Afterwards clear every column J >= L.
    pass 2: keys [L*b, N) only (ngb = ceil((N - L*b)/b) = nkb - L blocks, aligned to the global
            blocks): P' = softmax_fp32 over only those keys, imp2 likewise (divide by b^2),
            keep topkStable(imp2[I,:], k2), k2 = min(ngb, max(1, floor(ngb*rho) + 1)), and OR
            them into columns L + J'.
  topkStable: sort by (value descending, index ascending): lower index first on equal values.
  floor(n*rho) is Python int() of the float64 product n*rho (same IEEE double as JS n*rho).
* Token mask M[h,i,j] = MB[h, floor(i/b), floor(j/b)] (no causal term). Every row keeps at
  least one generation block (k2 >= 1), so no empty row exists (asserted).
* Sparse / dense attention in float64 from the float32 inputs: softmax over the allowed keys
  (masked weights exactly 0), output = weights @ v.
* Metrics (0.7, non-causal): density_h = |M_h| / N^2; recall R[h,i] = sum of dense weights over
  allowed keys (mean / min over queries); rel_frob = ||O_sparse - O_dense||_F / ||O_dense||_F
  over all heads; FLOPs: attention = sum_h 2(d+dv) P_h, dense = 2(d+dv) N^2 H, overhead =
  sum_h (2 d N N + 2 d N (N - L b)) (the two QK^T importance passes; softmax/pooling not counted).
* Cross-check: each mask is also rebuilt in the shape of the official loop (F.pad, unfold,
  torch.topk, scatter, [:, :, L:] = False, OR) and must match exactly.
* Robustness: every random case asserts, for every (head, query block) row of each pass where
  some block is dropped (k < n), a gap >= 1e-4 between the k-th and (k+1)-th largest importance.
  The spec mask vector (case 1) is stored as given; its smallest gap is printed and stored.
* Schedule (8): t_end = floor(T_total*skip) + 1 (float64 product, Python int); steps
  t < t_end dense, t = t_end dense + pattern, t > t_end sparse. dense_steps = min(t_end+1, T)
  and sparse_steps = T - dense_steps (a t_end >= T row means the pattern is never computed).
* Stored floats are float(np.float32(x)) (the exact float32 value, written by Python's repr).
  Extra per-case fields beyond the brief's schema (for debugging ports): "importance_pass1"
  [H][nqb][nkb], "importance_pass2" [H][nqb][ngb] (float32), "ngb", "min_gap", "note".

Run: /usr/bin/python3 scripts/make_sparsed_goldens.py
"""
import json
import math
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'golden', 'sparsed.json')
GAP = 1e-4


# ---------------------------------------------------------------- helpers

def f32(x):
    return float(np.float32(x))


def flat(t):
    return [f32(x) for x in t.reshape(-1).tolist()]


def randn(gen, *shape):
    return torch.randn(*shape, generator=gen, dtype=torch.float32)


def kv_of(H, Hkv):
    assert H % Hkv == 0
    g = H // Hkv
    return [h // g for h in range(H)]


def keep_count(n, rho):
    """max(1, floor(n*rho) + 1) clamped to n (D2 +1, D3 clamp). Also returns the raw count."""
    raw = max(1, int(n * rho) + 1)
    return min(n, raw), raw


def gen_start_block(N, b, n_gen):
    nqb = -(-N // b)
    for I in range(nqb):
        if N - I * b <= n_gen:
            return I
    return nqb - 1


def topk_stable(vals, k):
    order = sorted(range(len(vals)), key=lambda J: (-vals[J], J))
    return order[:min(k, len(vals))]


def row_gap(vals, k):
    """Gap between the k-th and (k+1)-th largest value (None when nothing is dropped)."""
    if k >= len(vals):
        return None
    s = sorted(vals, reverse=True)
    return s[k - 1] - s[k]


def tile_importance(P, b):
    """P [rows<=b, nk] float32 probabilities -> [ceil(nk/b)] float32: zero-pad to b x (nb*b),
    mean over each b x b tile (divides by b^2)."""
    rows, nk = P.shape
    nb = -(-nk // b)
    padded = torch.zeros(b, nb * b, dtype=torch.float32)
    padded[:rows, :nk] = P
    tiles = padded.reshape(b, nb, b).permute(1, 0, 2).reshape(nb, b * b)
    imp = tiles.mean(dim=-1)
    assert imp.dtype == torch.float32
    return imp


def importance_pass(qh, kh, b, key_start):
    """qh [N,d], kh [N,d] float32. Softmax over keys [key_start, N). Returns [nqb, nb'] float32."""
    N, d = qh.shape
    nqb = -(-N // b)
    kk = kh[key_start:]
    out = []
    for I in range(nqb):
        qI = qh[I * b:min(N, (I + 1) * b)]
        logits = torch.matmul(qI, kk.t()) / math.sqrt(d)
        assert logits.dtype == torch.float32
        P = torch.softmax(logits, dim=-1)  # float32
        out.append(tile_importance(P, b))
    return torch.stack(out)


def sparsed_mask(q, k, b, rho, n_gen, robust=True):
    """q [H,N,d], k [Hkv,N,d] float32 -> dict with block mask [H,nqb,nkb] bool etc."""
    H, N, d = q.shape
    Hkv = k.shape[0]
    kmap = kv_of(H, Hkv)
    nqb = nkb = -(-N // b)
    L = gen_start_block(N, b, n_gen)
    ngb = -(-(N - L * b) // b)
    assert ngb == nkb - L
    k1, k1raw = keep_count(nkb, rho)
    k2, k2raw = keep_count(ngb, rho)
    MB = torch.zeros(H, nqb, nkb, dtype=torch.bool)
    imp1_all, imp2_all = [], []
    min_gap = math.inf
    for h in range(H):
        qh, kh = q[h], k[kmap[h]]
        imp1 = importance_pass(qh, kh, b, 0)
        imp2 = importance_pass(qh, kh, b, L * b)
        assert imp1.shape == (nqb, nkb) and imp2.shape == (nqb, ngb)
        imp1_all.append(imp1)
        imp2_all.append(imp2)
        for I in range(nqb):
            v1 = imp1[I].tolist()
            v2 = imp2[I].tolist()
            for J in topk_stable(v1, k1):
                MB[h, I, J] = True
            MB[h, I, L:] = False  # clear generation columns after pass 1
            for Jp in topk_stable(v2, k2):
                MB[h, I, L + Jp] = True  # OR pass 2 in
            for vals, kk, tag in ((v1, k1, 'pass1'), (v2, k2, 'pass2')):
                g = row_gap(vals, kk)
                if g is None:
                    continue
                min_gap = min(min_gap, g)
                if robust:
                    assert g >= GAP, f'near tie {tag} h={h} I={I}: gap {g}'
    return dict(MB=MB, L=L, ngb=ngb, k1=k1, k2=k2, k1raw=k1raw, k2raw=k2raw,
                imp1=torch.stack(imp1_all), imp2=torch.stack(imp2_all),
                min_gap=(None if min_gap == math.inf else min_gap))


def code_style_mask(q, k, b, rho, n_gen):
    """Cross-check written in the shape of the official loop (F.pad of the fp32 probabilities,
    unfold into b x b tiles, mean, torch.topk, scatter; clear [:, :, L:], then pass 2 OR). Tie
    order of torch.topk is irrelevant here because every compared case has gaps >= 1e-4 (or the
    large spec-vector gap)."""
    import torch.nn.functional as F
    H, N, d = q.shape
    idx = torch.tensor(kv_of(H, k.shape[0]), dtype=torch.long)
    kr = k[idx]  # repeat_kv
    nqb = -(-N // b)

    def block_mask(attn):  # attn [H, rows, nk]
        rows, nk = attn.shape[1], attn.shape[2]
        nb_q, nb_k = -(-rows // b), -(-nk // b)
        padded = F.pad(attn, (0, nb_k * b - nk, 0, nb_q * b - rows))
        imp = padded.unfold(1, b, b).unfold(2, b, b).abs().mean(dim=(-1, -2))  # [H,1,nb_k]
        kk = min(nb_k, max(1, int(nb_k * rho) + 1))
        _, top = torch.topk(imp, k=kk, dim=-1, sorted=False)
        m = torch.zeros_like(imp, dtype=torch.bool)
        m.scatter_(-1, top, True)
        return m

    fine = torch.zeros(H, nqb, nqb, dtype=torch.bool)
    last = None
    for I in range(nqb):
        if N - I * b <= n_gen or I == nqb - 1:
            if last is None:
                last = I
        qI = q[:, I * b:(I + 1) * b]
        attn = torch.softmax(torch.matmul(qI, kr.transpose(1, 2)) / math.sqrt(d), dim=-1)
        fine[:, I:I + 1, :] = block_mask(attn)
    fine[:, :, last:] = False
    kg = kr[:, last * b:]
    for I in range(nqb):
        qI = q[:, I * b:(I + 1) * b]
        attn = torch.softmax(torch.matmul(qI, kg.transpose(1, 2)) / math.sqrt(d), dim=-1)
        fine[:, I:I + 1, last:] |= block_mask(attn)
    return fine, last


def attention(q, k, v, mask):
    """float64 masked softmax attention; mask bool [H,N,N]."""
    H, N, d = q.shape
    idx = torch.tensor(kv_of(H, k.shape[0]), dtype=torch.long)
    kk = k[idx].double()
    vv = v[idx].double()
    logits = torch.matmul(q.double(), kk.transpose(-1, -2)) * (1.0 / math.sqrt(d))
    logits = logits.masked_fill(~mask, float('-inf'))
    assert bool(mask.any(dim=-1).all()), 'a fully masked row occurred'
    mx = logits.max(dim=-1, keepdim=True).values
    e = torch.exp(logits - mx)
    w = e / e.sum(dim=-1, keepdim=True)
    w = w.masked_fill(~mask, 0.0)
    return w, torch.matmul(w, vv)


def token_mask(MB, N, b):
    blk = torch.arange(N) // b
    return MB[:, blk][:, :, blk]


# ---------------------------------------------------------------- cases

def make_case(name, q, k, v, b, rho, n_gen, robust=True, note=None, expect=None):
    H, N, d = q.shape
    Hkv = k.shape[0]
    dv = v.shape[2]
    r = sparsed_mask(q, k, b, rho, n_gen, robust=robust)
    MB = r['MB']
    cs, cs_last = code_style_mask(q, k, b, rho, n_gen)
    assert cs_last == r['L'] and torch.equal(cs, MB), f'{name}: code-style cross-check differs'
    M = token_mask(MB, N, b)
    w, o = attention(q, k, v, M)
    full = torch.ones(H, N, N, dtype=torch.bool)
    wd, od = attention(q, k, v, full)
    P = M.sum(dim=(1, 2)).tolist()
    recall = (wd * M.double()).sum(dim=-1)  # [H,N]
    rel = (torch.linalg.norm(o - od) / torch.linalg.norm(od)).item()
    L = r['L']
    rows = [[''.join('1' if x else '0' for x in MB[h, I].tolist()) for I in range(MB.shape[1])]
            for h in range(H)]
    if expect is not None:
        for key, val in expect.items():
            got = rows if key == 'block_mask' else r[key]
            assert got == val, f'{name}: {key} = {got}, expected {val}'
    case = {
        'name': name,
        'params': {'block': b, 'select': rho, 'nGen': n_gen},
        'H': H, 'Hkv': Hkv, 'N': N, 'd': d, 'dv': dv, 'causal': False,
        'q': flat(q), 'k': flat(k), 'v': flat(v),
        'L': L, 'k1': r['k1'], 'k2': r['k2'], 'ngb': r['ngb'],
        'block_mask': rows,
        'weights': flat(w), 'output': flat(o),
        'dense_weights': flat(wd), 'dense_output': flat(od),
        'density': [p / (N * N) for p in P],
        'recall_mean': [f32(x) for x in recall.mean(dim=-1).tolist()],
        'recall_min': [f32(x) for x in recall.min(dim=-1).values.tolist()],
        'rel_frob': f32(rel),
        'flops': {
            'attention': sum(2 * (d + dv) * p for p in P),
            'dense': 2 * (d + dv) * N * N * H,
            'overhead': H * (2 * d * N * N + 2 * d * N * (N - L * b)),
        },
        'importance_pass1': [[flat(r['imp1'][h, I]) for I in range(MB.shape[1])] for h in range(H)],
        'importance_pass2': [[flat(r['imp2'][h, I]) for I in range(MB.shape[1])] for h in range(H)],
        'min_gap': r['min_gap'],
    }
    if note:
        case['note'] = note
    print(f"{name}: L={L} k1={r['k1']} (raw {r['k1raw']}) k2={r['k2']} (raw {r['k2raw']}) "
          f"ngb={r['ngb']} density={[round(x, 4) for x in case['density']]} "
          f"recall_mean={[round(x, 4) for x in case['recall_mean']]} rel_frob={rel:.4g} "
          f"min_gap={r['min_gap']}")
    for h in range(H):
        print('   h', h, ' '.join(rows[h]))
    return case


def rand_case(name, seed, H, Hkv, N, d, dv, b, rho, n_gen, note=None, expect=None, tries=200):
    for s in range(seed, seed + tries):
        gen = torch.Generator().manual_seed(s)
        q = randn(gen, H, N, d)
        k = randn(gen, Hkv, N, d)
        v = randn(gen, Hkv, N, dv)
        try:
            sparsed_mask(q, k, b, rho, n_gen, robust=True)
        except AssertionError as e:
            print(f'  [{name}] seed {s} rejected: {e}')
            continue
        nm = f'{name} (seed {s})'
        return make_case(nm, q, k, v, b, rho, n_gen, note=note, expect=expect)
    raise RuntimeError(f'no robust seed for {name}')


def spec_case():
    N = 8
    t = torch.arange(N, dtype=torch.float64)
    q = torch.stack([2 * torch.sin(0.7 * t), 2 * torch.cos(1.3 * t)], dim=-1).float().unsqueeze(0)
    k = torch.stack([2 * torch.cos(0.5 * t), 2 * torch.sin(0.9 * t)], dim=-1).float().unsqueeze(0)
    v = torch.stack([t, torch.ones(N, dtype=torch.float64)], dim=-1).float().unsqueeze(0)
    return make_case('sparsed spec mask vector 8 (N=8, b=2, n_gen=4, rho=0.3, Qsyn/Ksyn d=2)',
                     q, k, v, 2, 0.3, 4, robust=False,
                     note='ALGORITHMS.md 8 mask vector; Qsyn/Ksyn from 0.8 (float64 then rounded to '
                          'float32); V chosen as v[t] = [t, 1]',
                     expect={'L': 2, 'k1': 2, 'k2': 1,
                             'block_mask': [['1101', '1010', '1101', '0001']]})


def schedule_rows():
    rows = []
    for T, skip in ((128, 0.2), (64, 0.1), (10, 0.5), (100, 0.29), (50, 0.0), (10, 0.9)):
        t_end = int(T * skip) + 1
        dense = min(t_end + 1, T)
        row = {'T_total': T, 'skip': skip, 't_end': t_end, 'dense_steps': dense,
               'sparse_steps': T - dense}
        rows.append(row)
    assert rows[0] == {'T_total': 128, 'skip': 0.2, 't_end': 26, 'dense_steps': 27, 'sparse_steps': 101}
    assert rows[3]['t_end'] == 29  # 100*0.29 = 28.999999999999996 in float64 -> int 28 -> +1
    return rows


def keep_rows():
    rows = []
    for n, rho in ((4, 0.3), (2, 0.3), (1, 0.3), (10, 0.3), (5, 0.0), (100, 0.29),
                   (3, 0.99), (2, 0.99), (20, 0.95), (21, 0.95), (3, 1.0), (2, 1.0), (1, 1.0),
                   (4, 1.5)):
        kk, raw = keep_count(n, rho)
        rows.append({'nkb': n, 'rho': rho, 'k': kk, 'k_unclamped': raw})
    assert rows[0]['k'] == 2 and rows[1]['k'] == 1
    return rows


def main():
    torch.set_num_threads(1)
    cases = [spec_case()]
    cases.append(rand_case('sparsed random GQA (H=4, Hkv=2, N=40, d=8, b=8, n_gen=16, rho=0.3)',
                           1000, 4, 2, 40, 8, 8, 8, 0.3, 16, expect={'L': 3, 'k1': 2, 'k2': 1}))
    cases.append(rand_case('sparsed partial last block (H=2, Hkv=1, N=37, d=8, b=8, n_gen=12, rho=0.5)',
                           2000, 2, 1, 37, 8, 8, 8, 0.5, 12,
                           note='prompt = 25 tokens; block 3 = tokens 24..31 straddles (25..31 are '
                                'generation) and counts as prompt, so L = 4 and pass 2 sees only '
                                'the partial block 4 (tokens 32..36, tile mean divides by 64)',
                           expect={'L': 4, 'k1': 3, 'k2': 1, 'ngb': 1}))
    cases.append(rand_case('sparsed n_gen=0 (H=2, Hkv=2, N=36, d=8, b=8, rho=0.3)',
                           3000, 2, 2, 36, 8, 8, 8, 0.3, 0,
                           note='no block start satisfies N - I*b <= 0, so L = nqb - 1 = 4: pass 1 '
                                'column 4 is cleared and pass 2 (keys 32..35 only, ngb = 1, k2 = 1) '
                                'sets it again, so every query block keeps the last key block',
                           expect={'L': 4, 'k1': 2, 'k2': 1, 'ngb': 1}))
    cases.append(rand_case('sparsed fallback L with prompt in last block (H=2, Hkv=1, N=37, d=8, b=8, '
                           'n_gen=3, rho=0.3)',
                           4000, 2, 1, 37, 8, 8, 8, 0.3, 3,
                           note='prompt = 34; no block start lies in the generation region '
                                '(needs I*8 >= 34, I = 5 > nqb - 1), so L = nqb - 1 = 4 and the last '
                                'block (prompt tokens 32, 33 included) is pass 2\'s region',
                           expect={'L': 4, 'k1': 2, 'k2': 1, 'ngb': 1}))
    cases.append(rand_case('sparsed rho=0.95 small nkb (H=2, Hkv=1, N=20, d=8, b=4, n_gen=8)',
                           5000, 2, 1, 20, 8, 8, 4, 0.95, 8,
                           note='floor(n*0.95)+1 = n for n <= 20, so both passes keep every block '
                                '(k = nkb exactly, no clamp needed; D3 only binds for rho >= 1)',
                           expect={'L': 3, 'k1': 5, 'k2': 2, 'ngb': 2}))
    cases.append(rand_case('sparsed rho=1.0 D3 clamp (H=2, Hkv=1, N=20, d=8, b=4, n_gen=8)',
                           6000, 2, 1, 20, 8, 8, 4, 1.0, 8,
                           note='raw keep counts floor(5*1)+1 = 6 > nkb = 5 and floor(2*1)+1 = 3 > '
                                'ngb = 2 are clamped (D3); the mask is all ones, sparse == dense',
                           expect={'L': 3, 'k1': 5, 'k2': 2, 'ngb': 2}))
    cases.append(rand_case('sparsed all generation n_gen=N (H=2, Hkv=2, N=24, d=8, b=4, rho=0.3)',
                           7000, 2, 2, 24, 8, 8, 4, 0.3, 24,
                           note='L = 0: pass 1 is cleared entirely and pass 2 (same keys) decides',
                           expect={'L': 0, 'k1': 2, 'k2': 2, 'ngb': 6}))
    assert all(x == 1.0 for x in cases[6]['density'])
    out = {'generator': 'scripts/make_sparsed_goldens.py', 'torch': torch.__version__,
           'spec': 'ALGORITHMS.md §8', 'schedule': schedule_rows(), 'keep_counts': keep_rows(),
           'cases': cases}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        json.dump(out, f, allow_nan=False)
    print('schedule:', out['schedule'])
    print('keep_counts:', out['keep_counts'])
    print(f'wrote {os.path.normpath(OUT)} ({os.path.getsize(OUT)} bytes, {len(cases)} cases)')


if __name__ == '__main__':
    main()

#!/usr/bin/python3
"""Writes tests/golden/sparse.json: goldens for MoBA (ALGORITHMS.md 4.1), FlashMoBA (4.2),
FlexPrefill (6) and sliding window + attention sinks (12.7).

An independent PyTorch reference (Debian's python3-torch 1.13, run with /usr/bin/python3),
written from ALGORITHMS.md (0, 4.1, 4.2, 12.7, Appendix B M1, Appendix D "MoBA ties") and the
golden brief, not from the TypeScript. Torch 1.13 has no scaled_dot_product_attention, so
attention is written here from its definition.

Conventions:
* Inputs q [H,N,d], k [Hkv,N,d], v [Hkv,N,dv] are float32 (torch.randn with a per-case seeded
  torch.Generator, or the literal spec vectors) and are stored, so no PRNG port is needed.
* Query head h reads KV head floor(h / (H/Hkv)) (contiguous, 0.2). Causal rule j <= i (prefill).
* Attention (sparse and dense): logits sigma * (q . k), sigma = 1/sqrt(d), softmax over the
  allowed set (masked weights exactly 0), output = weights @ v, all in float64 from the float32
  inputs. A fully masked row would give zero weights and output (asserted not to occur).
* MoBA gate (4.1): Kbar = meanPoolBlocks(K, B) (mean over the real tokens of each block, a
  partial tail block divides by its own size) and s[i,J] = q[h,i] . Kbar[kappa(h),J], both in
  float32 torch ops, NO 1/sqrt(d). Causal routing: s[i,J] = -inf for J > I, +inf for J = I
  (I = floor(i/B)). Sel(i) = topkStable(s[i,:], min(k, nb)) intersected with {J <= I}.
  topkStable is an explicit sort on (value descending, index ascending): lower index first on
  equal values (0.5). The official code's CPU tie order (Appendix D: higher index) is NOT
  reproduced. Token mask M[h,i,j] = [floor(j/B) in Sel(i)] and j <= i.
* FlashMoBA (4.2): same selection, but the routing keys are the illustrative causal depthwise box
  filter ktilde[t] = sum_{w=0}^{W-1} (1/W) * k[t-w] (zero padding for t-w < 0, so the first W-1
  tokens are still divided by W). ktilde is computed in float64 from the float32 keys as
  (sum_w k[t-w]) / W and rounded to float32, and is stored as "routing_keys". The gate pools
  ktilde. With convInAttention the sparse attention uses ktilde as its keys; the DENSE reference
  always uses the original keys (so rel_frob/recall then include the effect of the key change).
* Window/sinks (12.7): allowed(i,j) <=> j <= i and (j < n_sink or i - j < w).
* Selections must not hinge on float32 summation order in a port: every random case asserts a
  gap >= 1e-3 between the last selected and the first rejected finite history gate; the tie case
  is built with dyadic integer keys so its tied block means are bitwise equal in any order.
* Metrics (0.7): density |M and C| / |C|; recall R[h,i] = sum of dense weights over allowed keys
  (mean/min over queries); rel_frob = ||O_sparse - O_dense||_F / ||O_dense||_F over all heads;
  FLOPs: attention = sum_h (2 d P_h + 2 dv P_h), dense = H (2d + 2dv) N(N+1)/2; overhead
  (moba/flashmoba) = sum over query heads of (2 d N nb + N d) [gate + key pooling, counted per
  query head as the brief states], plus N d W per KV head for the FlashMoBA convolution; window 0.
* FlexPrefill (6, written from the spec and checked against the code semantics of
  bytedance/FlexPrefill get_active_blocks): selection statistics in float32 torch ops (the
  code's softmax is fp32): last b queries pre-scaled by 1/sqrt(d), causal only inside the last
  b x b square; v = mean over those rows, sl[t] = (1/b) sum over diagonal distance N-1-t;
  coverCount on float32 cumsums (gamma compared as float32); budgets floor(count/div) + 1 with
  div = 128 (faithful, quirk F1) or b (intent "b"), raised to minB = ceil(minBudget/b) and then
  capped at maxB = min(ceil(maxBudget/b), nb) (maxBudget None = infinity), in the code's order;
  Vb/Sb = sumPool1d, abar = softmax(mean(Q^) . meanPoolBlocks(K)); dJS = jsDistance(abar, Vb)
  in float32, faithful 0*ln0 -> NaN (quirk F2, NaN < tau is false -> VS), intent 0*ln0 := 0;
  QA heads: nV = nS = minB plus one GLOBAL coverPrefix(gamma*nb) over the flattened row-major
  block-causal softmax of real-token block means (quirk F3); topkStable / coverPrefix put the
  lower index first on equal values. Dense fallback N <= max(2b, minB*b): causal attention,
  every causal block "forced", computational_ratio 1 (what the code returns), overhead 0, and
  the per-head statistics null. Otherwise computational_ratio = sum_h |P_h| / (H nb^2) (F4).
  Block reasons by precedence: forced ((0,0), column 0 from Vb[0] = +inf, main diagonal from
  Sb[nb-1] = +inf), vertical, slash, query-aware. Overhead per query head 2 d b N + 2 d nb, plus
  2 d nb^2 for QA heads. Random cases assert a margin >= 1e-4 at every cut that decides the
  selection (cover counts where a count off by one would change a budget, top-k gaps, |dJS - tau|,
  the QA cover's cumsum and value gaps); the spec vector is stored as given and its small margins
  (slash near-tie ~1e-4, vertical cumsum ~5e-5 from gamma with divisor b) are only printed.
  FlexPrefill-only results go in one extra field "flex" (other cases are unchanged).
* Stored floats are float(np.float32(x)) (the exact float32 value, written by Python's repr);
  the sentinels of the gate are the strings "inf" / "-inf".

Run: /usr/bin/python3 scripts/make_sparse_goldens.py
"""
import json
import math
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'golden', 'sparse.json')
GAP = 1e-3


# ---------------------------------------------------------------- helpers

def f32(x):
    return float(np.float32(x))


def flat(t):
    return [f32(x) for x in t.reshape(-1).tolist()]


def flat_gate(t):
    out = []
    for x in t.reshape(-1).tolist():
        if x == math.inf:
            out.append('inf')
        elif x == -math.inf:
            out.append('-inf')
        else:
            out.append(f32(x))
    return out


def randn(gen, *shape):
    return torch.randn(*shape, generator=gen, dtype=torch.float32)


def kv_of(H, Hkv):
    assert H % Hkv == 0
    g = H // Hkv
    return [h // g for h in range(H)]


def causal_mask(H, N):
    i = torch.arange(N).unsqueeze(1)
    j = torch.arange(N).unsqueeze(0)
    return (j <= i).unsqueeze(0).expand(H, N, N).clone()


def attention(q, k, v, mask):
    """q [H,N,d], k [Hkv,N,d], v [Hkv,N,dv] float32; mask bool [H,N,N] -> float64 (weights, output)."""
    H, N, d = q.shape
    Hkv = k.shape[0]
    idx = torch.tensor(kv_of(H, Hkv), dtype=torch.long)
    kk = k[idx].double()
    vv = v[idx].double()
    logits = torch.matmul(q.double(), kk.transpose(-1, -2)) * (1.0 / math.sqrt(d))
    logits = logits.masked_fill(~mask, float('-inf'))
    empty = ~mask.any(dim=-1)  # [H,N]
    assert not bool(empty.any()), 'a fully masked row occurred'
    mx = logits.max(dim=-1, keepdim=True).values
    mx = torch.where(torch.isinf(mx), torch.zeros_like(mx), mx)
    e = torch.exp(logits - mx)  # exp(-inf) = 0 exactly
    s = e.sum(dim=-1, keepdim=True)
    w = torch.where(s > 0, e / torch.where(s > 0, s, torch.ones_like(s)), torch.zeros_like(e))
    w = w.masked_fill(~mask, 0.0)
    return w, torch.matmul(w, vv)


def mean_pool_blocks(x, B):
    """x [N,d] float32 -> [nb,d] float32, mean over the real tokens of each block."""
    N = x.shape[0]
    nb = -(-N // B)
    return torch.stack([x[J * B:min(N, (J + 1) * B)].mean(dim=0) for J in range(nb)])


def topk_stable(vals, k):
    """Largest first; on equal values the lower index wins. vals: list of python floats."""
    order = sorted(range(len(vals)), key=lambda J: (-vals[J], J))
    return order[:min(k, len(vals))]


def box_conv(k, W):
    """Causal depthwise box filter on [Hkv,N,d] float32 keys -> float32 (computed in float64)."""
    kd = k.double()
    Hkv, N, d = k.shape
    out = torch.zeros_like(kd)
    for w in range(W):
        out[:, w:, :] += kd[:, :N - w, :] if w > 0 else kd
    return (out / W).float()


def moba_route(q, rk, B, topk, tie_ok=False):
    """q [H,N,d], rk (routing keys) [Hkv,N,d] float32.
    Returns gate [H,N,nb] (float32 values with +-inf sentinels), selected [H][N] sorted lists,
    mask [H,N,N] bool, min gap between last selected and first rejected finite history gate."""
    H, N, d = q.shape
    Hkv = rk.shape[0]
    nb = -(-N // B)
    kmap = kv_of(H, Hkv)
    pooled = [mean_pool_blocks(rk[g], B) for g in range(Hkv)]  # float32 [nb,d]
    gate = torch.empty(H, N, nb, dtype=torch.float32)
    selected = []
    mask = torch.zeros(H, N, N, dtype=torch.bool)
    min_gap = math.inf
    for h in range(H):
        s = torch.matmul(q[h], pooled[kmap[h]].t())  # float32 [N,nb], no 1/sqrt(d)
        assert s.dtype == torch.float32
        sel_h = []
        for i in range(N):
            I = i // B
            row = s[i].clone()
            row[I + 1:] = float('-inf')
            row[I] = float('inf')
            gate[h, i] = row
            vals = row.tolist()
            top = topk_stable(vals, min(topk, nb))
            sel = sorted(J for J in top if J <= I)  # effective set (Appendix B M1)
            assert I in sel
            sel_h.append(sel)
            # selection robustness: finite history gates around the cut
            hist = sorted(vals[:I], reverse=True)
            m = min(topk - 1, I)
            if 1 <= m < I:
                gap = hist[m - 1] - hist[m]
                if not tie_ok:
                    assert gap >= GAP, f'near tie h={h} i={i}: gap {gap}'
                min_gap = min(min_gap, gap)
            for j in range(i + 1):
                if j // B in sel:
                    mask[h, i, j] = True
        selected.append(sel_h)
    return gate, selected, mask, min_gap


def window_mask(H, N, w, n_sink):
    mask = torch.zeros(H, N, N, dtype=torch.bool)
    for i in range(N):
        for j in range(i + 1):
            if j < n_sink or i - j < w:
                mask[:, i, j] = True
    return mask



# ---------------------------------------------------------------- FlexPrefill (6)

ROBUST = 1e-4  # margin required around every FlexPrefill selection cut in the robust cases


def sum_pool_1d(x, b):
    """sumPool1d (0.6): right-pad a float32 [N] vector with zeros to nb*b, sum each block (float32)."""
    N = x.shape[0]
    nb = -(-N // b)
    return torch.nn.functional.pad(x, (0, nb * b - N), value=0.0).view(nb, b).sum(-1)


def cover_count(x, gamma):
    """coverCount (0.6), float32 as the code: c = cumsum(sortDesc(x)); #{m : c[m] <= gamma} + 1.
    Equal values give the same cumsum in any order, so no tie rule is needed. Also returns the
    distance of the nearest cumsum entry to gamma (how far the count is from changing)."""
    c = torch.cumsum(torch.sort(x, descending=True).values, dim=0)
    g = torch.tensor(gamma, dtype=torch.float32)
    count = int((c <= g).sum()) + 1
    margin = float((c.double() - float(g)).abs().min())
    return count, margin


def cover_prefix(x, T):
    """coverPrefix (0.6): indices in descending-value order (lower index first on equal values)
    whose running float32 cumsum stays <= T. Returns (indices, margin): margin = min of the cumsum
    distances to T at the cut and the value gap between the last kept and first dropped entry."""
    vals = x.tolist()
    order = sorted(range(len(vals)), key=lambda j: (-vals[j], j))
    c = torch.cumsum(x[torch.tensor(order, dtype=torch.long)], dim=0)
    Tf = torch.tensor(T, dtype=torch.float32)
    keep = (c <= Tf).tolist()
    m = sum(keep)
    assert keep == [True] * m + [False] * (len(vals) - m)  # x >= 0, so a prefix
    margin = math.inf
    if m > 0:
        margin = min(margin, float(Tf) - float(c[m - 1]))
    if m < len(vals):
        margin = min(margin, float(c[m]) - float(Tf))
        if m > 0:
            margin = min(margin, vals[order[m - 1]] - vals[order[m]])
    return order[:m], margin


def js_distance(p, q, intent=False):
    """jsDistance (0.6) exactly as the code's square_root_js_divergence, in the dtype of p and q
    (float32 here: Appendix D, the NaN of quirk F2 needs the float32 underflow). Faithful: 0 * ln 0
    gives NaN. Intent: a term with a zero weight is 0."""
    m = (p + q) / 2
    if not intent:
        return torch.sqrt(0.5 * (p * torch.log(p / m)).sum(-1) + 0.5 * (q * torch.log(q / m)).sum(-1))
    tp = torch.where(p > 0, p * torch.log(p / m), torch.zeros_like(p))
    tq = torch.where(q > 0, q * torch.log(q / m), torch.zeros_like(q))
    return torch.sqrt(0.5 * tp.sum(-1) + 0.5 * tq.sum(-1))


def topk_gap(vals, k):
    """Gap between the k-th and (k+1)-th largest FINITE values (inf if the cut is not among them)."""
    fin = sorted((x for x in vals if math.isfinite(x)), reverse=True)
    n_inf = sum(1 for x in vals if not math.isfinite(x))
    kk = k - n_inf
    if kk <= 0 or kk >= len(fin):
        return math.inf
    return fin[kk - 1] - fin[kk]


def slash_stat(A):
    """Slash statistic (6 step 3) of the last-block attention A [b,N] float32: sl[t] = (1/b) sum_i
    A[i, t+i-(b-1)] (the code's sum_all_diagonal_matrix: left-pad b-1 zeros), so index t holds the
    diagonal distance N-1-t (t = N-1 is the main diagonal)."""
    b, N = A.shape
    Ap = torch.nn.functional.pad(A, (b - 1, 0), value=0.0)
    idx = torch.arange(N).unsqueeze(0) + torch.arange(b).unsqueeze(1)
    return torch.gather(Ap, 1, idx).sum(0) / b


def flex_select(q, k, p):
    """FlexPrefill block selection (6). q [H,N,d], k [Hkv,N,d] float32. Returns the token mask
    [H,N,N] (block set and causal), the "flex" record, the overhead FLOPs and robustness margins."""
    H, N, d = q.shape
    Hkv = k.shape[0]
    b, gamma, tau = p['block'], p['gamma'], p['tau']
    nb = -(-N // b)
    assert p['minBudget'] >= 1
    minB = -(-p['minBudget'] // b)
    maxB = nb if p['maxBudget'] is None else min(-(-p['maxBudget'] // b), nb)
    div = {'128': 128, 'b': b}[p['divisor']]
    kmap = kv_of(H, Hkv)
    ii = torch.arange(N).unsqueeze(1)
    jj = torch.arange(N).unsqueeze(0)
    causal = jj <= ii
    blk_i, blk_j = ii // b, jj // b

    if N <= max(2 * b, minB * b):  # dense fallback: plain causal attention, ratio 1 (as the code)
        blocks = [[I, J, 'forced'] for I in range(nb) for J in range(I + 1)]
        heads = [{'type': 'dense', 'djs': None, 'djs_nan': False, 'nV': None, 'nS': None,
                  'Vb': None, 'Sb': None, 'abar': None, 'blocks': blocks} for _ in range(H)]
        mask = causal.unsqueeze(0).expand(H, N, N).clone()
        flex = {'dense_fallback': True, 'heads': heads, 'computational_ratio': 1.0}
        return mask, flex, 0, {'heads': [{} for _ in range(H)]}

    mask = torch.zeros(H, N, N, dtype=torch.bool)
    heads, margins = [], []
    overhead = 0
    n_blocks = 0
    for h in range(H):
        K = k[kmap[h]]                                    # float32 [N,d]
        lq = q[h, N - b:, :] / math.sqrt(d)               # step 1: last b queries, pre-scaled (float32)
        s = torch.matmul(lq, K.t())                       # [b,N] float32
        for i in range(b):                                # causal only inside the last b x b square
            s[i, N - b + i + 1:] = float('-inf')
        A = torch.softmax(s, dim=-1)                      # step 2, float32
        assert A.dtype == torch.float32
        v = A.mean(0)                                     # step 3: vertical, [N]
        sl = slash_stat(A)                                # step 3: slash, [N]
        cV, mcV = cover_count(v, gamma)                   # step 4
        cS, mcS = cover_count(sl, gamma)
        clamp = lambda x: min(max(x, minB), maxB)         # code order: raise to minB, then cap at maxB
        nV, nS = clamp(cV // div + 1), clamp(cS // div + 1)
        # a count margin only matters if a count off by one would change the budget
        if clamp((cV - 1) // div + 1) == nV == clamp((cV + 1) // div + 1):
            mcV = math.inf
        if clamp((cS - 1) // div + 1) == nS == clamp((cS + 1) // div + 1):
            mcS = math.inf
        Vb, Sb = sum_pool_1d(v, b), sum_pool_1d(sl, b)    # step 5
        Kbar = mean_pool_blocks(K, b)                     # step 6
        abar = torch.softmax(torch.matmul(lq.mean(0), Kbar.t()), dim=-1)
        djs_t = js_distance(abar, Vb, p['jsIntent'])      # step 7, float32
        djs = float(djs_t)
        qa = bool(djs_t < torch.tensor(tau, dtype=torch.float32))  # NaN < tau is False -> VS
        m_tau = abs(djs - float(np.float32(tau))) if math.isfinite(djs) else math.inf
        if qa:                                            # step 8
            nV = nS = minB
            mcV = mcS = math.inf
        Vf, Sf = Vb.clone(), Sb.clone()                   # step 9
        Vf[0] = float('inf')
        Sf[nb - 1] = float('inf')
        Jv = topk_stable(Vf.tolist(), nV)                 # step 10
        Ts = topk_stable(Sf.tolist(), nS)
        offs = [(nb - 1) - T for T in Ts]
        reason = {(0, 0): 'forced'}                       # step 11, reasons by precedence
        for I in range(nb):
            reason.setdefault((I, 0), 'forced')
            reason.setdefault((I, I), 'forced')
        for J in Jv:
            for I in range(J, nb):
                reason.setdefault((I, J), 'vertical')
        for o in offs:
            for I in range(nb - o):
                reason.setdefault((I + o, I), 'slash')
        m_cover = math.inf
        if qa:                                            # step 12: one global cover
            Qbar = mean_pool_blocks(q[h], b) / math.sqrt(d)
            ab = torch.matmul(Qbar, Kbar.t())
            ab = ab.masked_fill(torch.ones(nb, nb, dtype=torch.bool).triu(1), float('-inf'))
            ab = torch.softmax(ab, dim=-1).reshape(-1)    # float32, masked entries exactly 0
            sel, m_cover = cover_prefix(ab, gamma * nb)
            for f in sel:
                reason.setdefault((f // nb, f % nb), 'query-aware')
            overhead += 2 * d * nb * nb
        assert all(J <= I for (I, J) in reason)
        blocks = [[I, J, reason[(I, J)]] for (I, J) in sorted(reason)]
        n_blocks += len(blocks)
        P = torch.zeros(nb, nb, dtype=torch.bool)
        for I, J, _ in blocks:
            P[I, J] = True
        mask[h] = P[blk_i, blk_j] & causal                # step 13
        overhead += 2 * d * b * N + 2 * d * nb
        nan = math.isnan(djs)
        heads.append({'type': 'QA' if qa else 'VS', 'djs': None if nan else f32(djs), 'djs_nan': nan,
                      'nV': nV, 'nS': nS, 'Vb': flat(Vb), 'Sb': flat(Sb), 'abar': flat(abar),
                      'blocks': blocks})
        margins.append({'count_v': mcV, 'count_s': mcS, 'tau': m_tau,
                        'topk_v': topk_gap(Vf.tolist(), nV), 'topk_s': topk_gap(Sf.tolist(), nS),
                        'cover': m_cover, 'djs': djs, 'cV': cV, 'cS': cS, 'Jv': Jv, 'offs': offs})
    flex = {'dense_fallback': False, 'heads': heads, 'computational_ratio': n_blocks / (H * nb * nb)}
    return mask, flex, overhead, {'heads': margins}


def min_margin(fi):
    keys = ('count_v', 'count_s', 'tau', 'topk_v', 'topk_s', 'cover')
    return min([math.inf] + [m[k] for m in fi['heads'] for k in keys if k in m])


def mask_rows(mask):
    return [[''.join('1' if b else '0' for b in row) for row in mask[h].tolist()] for h in range(mask.shape[0])]


# ---------------------------------------------------------------- case builder

def build_case(name, method, params, q, k, v, note=''):
    H, N, d = q.shape
    Hkv, _, _ = k.shape
    dv = v.shape[2]
    assert H % Hkv == 0 and k.shape[1] == N and v.shape[:2] == (Hkv, N)
    causal = causal_mask(H, N)
    routing_keys = None
    attn_k = k
    selected = gate = None
    min_gap = None
    if method in ('moba', 'flashmoba'):
        B, topk = params['block'], params['topk']
        nb = -(-N // B)
        rk = k
        if method == 'flashmoba':
            rk = box_conv(k, params['convWidth'])
            routing_keys = rk
            if params['convInAttention']:
                attn_k = rk
        gate, selected, mask, min_gap = moba_route(q, rk, B, topk, tie_ok=params.get('_tie', False))
    elif method == 'window':
        mask = window_mask(H, N, params['window'], params['sinks'])
    elif method == 'flexprefill':
        mask, flex, flex_overhead, flex_info = flex_select(q, k, params)
    else:
        raise ValueError(method)
    mask = mask & causal
    w, o = attention(q, attn_k, v, mask)
    wd, od = attention(q, k, v, causal)

    C = N * (N + 1) // 2
    P = [int(mask[h].sum()) for h in range(H)]
    density = [p / C for p in P]
    R = (wd * mask.double()).sum(dim=-1)  # [H,N]
    recall_mean = [float(R[h].mean()) for h in range(H)]
    recall_min = [float(R[h].min()) for h in range(H)]
    rel_frob = float(torch.linalg.norm(o - od) / torch.linalg.norm(od))
    flops_att = sum(2 * d * p + 2 * dv * p for p in P)
    flops_dense = H * (2 * d * C + 2 * dv * C)
    if method in ('moba', 'flashmoba'):
        overhead = H * (2 * d * N * nb + N * d)
        if method == 'flashmoba':
            overhead += Hkv * N * d * params['convWidth']
    elif method == 'flexprefill':
        overhead = flex_overhead
    else:
        overhead = 0

    pub = {kk: vv for kk, vv in params.items() if not kk.startswith('_')}
    case = {
        'name': name, 'method': method, 'params': pub, 'note': note,
        'H': H, 'Hkv': Hkv, 'N': N, 'd': d, 'dv': dv, 'causal': True,
        'q': flat(q), 'k': flat(k), 'v': flat(v),
        'routing_keys': flat(routing_keys) if routing_keys is not None else None,
        'selected': selected,
        'gate': flat_gate(gate) if gate is not None else None,
        'mask': mask_rows(mask),
        'weights': flat(w), 'output': flat(o),
        'dense_weights': flat(wd), 'dense_output': flat(od),
        'density': [f32(x) for x in density],
        'recall_mean': [f32(x) for x in recall_mean],
        'recall_min': [f32(x) for x in recall_min],
        'rel_frob': f32(rel_frob),
        'flops': {'attention': flops_att, 'dense': flops_dense, 'overhead': overhead},
    }
    if method == 'flexprefill':  # present only on FlexPrefill cases (older cases stay byte-identical)
        case['flex'] = dict(flex, computational_ratio=f32(flex['computational_ratio']))
    info = {'mask': mask, 'selected': selected, 'gate': gate, 'P': P, 'density': density,
            'rel_frob': rel_frob, 'min_gap': min_gap, 'recall_mean': recall_mean,
            'flex': flex if method == 'flexprefill' else None,
            'flex_info': flex_info if method == 'flexprefill' else None}
    return case, info


def summary(case, info):
    dens = ','.join(f'{x:.4f}' for x in info['density'])
    rec = ','.join(f'{x:.4f}' for x in info['recall_mean'])
    gap = '' if info['min_gap'] in (None, math.inf) else f" min_gap={info['min_gap']:.4g}"
    print(f"{case['name']:<58} {case['method']:<9} H={case['H']} Hkv={case['Hkv']} N={case['N']} "
          f"P={info['P']} density=[{dens}] recall_mean=[{rec}] rel_frob={info['rel_frob']:.4e}{gap}")


def rows_to_mask(rows):
    return torch.tensor([[c == '1' for c in r.split()] for r in rows], dtype=torch.bool)


# ---------------------------------------------------------------- cases

def main():
    cases = []

    def add(case, info):
        cases.append(case)
        summary(case, info)

    # 1. The 4.1 MoBA test vector, exactly.
    Kv = [1, 1, -1, -1, 2, 2, 0, 0]
    Qv = [1, 1, 1, 1, 1, 1, 1, -1]
    q = torch.tensor(Qv, dtype=torch.float32).reshape(1, 8, 1)
    k = torch.tensor(Kv, dtype=torch.float32).reshape(1, 8, 1)
    v = torch.arange(8, dtype=torch.float32).reshape(1, 8, 1)  # v[t] = [t]
    case, info = build_case('moba spec vector 4.1 (N=8, B=2, k=2, d=1)', 'moba', {'block': 2, 'topk': 2},
                            q, k, v, note='ALGORITHMS.md 4.1 test vector; V chosen as v[t] = [t]')
    assert mean_pool_blocks(k[0], 2).reshape(-1).tolist() == [1, -1, 2, 0]
    assert info['selected'][0] == [[0], [0], [0, 1], [0, 1], [0, 2], [0, 2], [2, 3], [1, 3]], info['selected']
    spec_rows = ['1 0 0 0 0 0 0 0', '1 1 0 0 0 0 0 0', '1 1 1 0 0 0 0 0', '1 1 1 1 0 0 0 0',
                 '1 1 0 0 1 0 0 0', '1 1 0 0 1 1 0 0', '0 0 0 0 1 1 1 0', '0 0 1 1 0 0 1 1']
    assert torch.equal(info['mask'][0], rows_to_mask(spec_rows))
    assert info['P'] == [24] and round(info['density'][0], 3) == 0.667
    assert info['gate'][0, 7].tolist() == [-1, 1, -2, math.inf]  # history scores [-1, 1, -2]
    add(case, info)

    # 2. The 12.7 window vector, exactly (q/k/v random, d=4).
    gen = torch.Generator().manual_seed(1207)
    q, k, v = randn(gen, 1, 8, 4), randn(gen, 1, 8, 4), randn(gen, 1, 8, 4)
    case, info = build_case('window spec vector 12.7 (N=8, sinks=1, w=3)', 'window', {'window': 3, 'sinks': 1},
                            q, k, v, note='ALGORITHMS.md 12.7 test vector; q/k/v random')
    spec_rows = ['1 0 0 0 0 0 0 0', '1 1 0 0 0 0 0 0', '1 1 1 0 0 0 0 0', '1 1 1 1 0 0 0 0',
                 '1 0 1 1 1 0 0 0', '1 0 0 1 1 1 0 0', '1 0 0 0 1 1 1 0', '1 0 0 0 0 1 1 1']
    assert torch.equal(info['mask'][0], rows_to_mask(spec_rows))
    assert info['P'] == [26] and round(info['density'][0], 3) == 0.722
    add(case, info)

    # 3. MoBA random, GQA, partial tail block.
    # N=37, B=8 -> nb=5, the tail block 4 holds 37-32=5 tokens (its mean divides by 5).
    # 4.1 "efficient-kernel facts": the partial tail chunk is never a routing candidate except as
    # its own queries' current block. In the naive semantics used here it IS a top-k candidate,
    # but for every query in an earlier block it is a future block (gate -inf), so the causal
    # routing/intersection removes it; and for queries inside it, it is the forced current block.
    # Both semantics therefore agree; asserted below.
    gen = torch.Generator().manual_seed(4111)
    q, k, v = randn(gen, 4, 37, 8), randn(gen, 2, 37, 8), randn(gen, 2, 37, 8)
    case, info = build_case('moba random GQA (H=4, Hkv=2, N=37, B=8, k=3)', 'moba', {'block': 8, 'topk': 3},
                            q, k, v, note='partial tail block (5 tokens); tail selected only by its own queries')
    for h in range(4):
        for i in range(37):
            sel = info['selected'][h][i]
            assert (4 in sel) == (i >= 32)
            assert len(sel) == min(3, i // 8 + 1)
    add(case, info)

    # 4. N smaller than one block -> dense causal.
    gen = torch.Generator().manual_seed(4104)
    q, k, v = randn(gen, 2, 5, 4), randn(gen, 1, 5, 4), randn(gen, 1, 5, 4)
    case, info = build_case('moba N < B (N=5, B=8, k=3) = dense causal', 'moba', {'block': 8, 'topk': 3},
                            q, k, v, note='nb = 1: dense causal')
    assert torch.equal(info['mask'], causal_mask(2, 5)) and info['rel_frob'] == 0.0
    add(case, info)

    # 5. k larger than the number of blocks -> dense causal.
    gen = torch.Generator().manual_seed(4105)
    q, k, v = randn(gen, 2, 20, 4), randn(gen, 2, 20, 4), randn(gen, 2, 20, 4)
    case, info = build_case('moba k > nb (N=20, B=8, k=5) = dense causal', 'moba', {'block': 8, 'topk': 5},
                            q, k, v, note='nb = 3 < k: dense causal')
    assert torch.equal(info['mask'], causal_mask(2, 20)) and info['rel_frob'] == 0.0
    add(case, info)

    # 6. k = 1 -> block-local causal.
    gen = torch.Generator().manual_seed(4106)
    q, k, v = randn(gen, 2, 16, 4), randn(gen, 1, 16, 4), randn(gen, 1, 16, 4)
    case, info = build_case('moba k=1 (N=16, B=4) = block-local causal', 'moba', {'block': 4, 'topk': 1},
                            q, k, v, note='k = 1: only the current block, causal inside it')
    local = torch.tensor([[j <= i and j // 4 == i // 4 for j in range(16)] for i in range(16)])
    assert all(torch.equal(info['mask'][h], local) for h in range(2))
    add(case, info)

    # 7. MoBA ties. B=4, N=16 (nb=4), k=2, d=4, H=Hkv=1. Keys are small integers, so every block
    # mean is a multiple of 1/4 and exact in float32 in any summation order. Block 1 is a row
    # permutation of block 0 -> Kbar[1] == Kbar[0] bitwise -> equal gates for every query. Block 2
    # has mean -Kbar[0], and queries q = Kbar[0] + noise are built with q . Kbar[0] > 0, so for a
    # query in block 3 the history gates are s0 == s1 > s2 and the stable rule picks block 0
    # (plus its own block 3); queries in block 2 likewise pick {0, 2}. (The official code on CPU
    # picked the higher index; Appendix D. We follow the spec rule: lower index first.)
    gen = torch.Generator().manual_seed(4107)
    b0 = torch.tensor([[2, 1, 0, -1], [1, 2, -1, 0], [3, 0, 1, 1], [2, 1, 0, -2]], dtype=torch.float32)
    b1 = b0[[2, 0, 3, 1]]
    b2 = -b0[[1, 3, 0, 2]]
    b3 = torch.randint(-3, 4, (4, 4), generator=gen).float()
    k = torch.cat([b0, b1, b2, b3]).reshape(1, 16, 4)
    m0 = mean_pool_blocks(k[0], 4)
    assert torch.equal(m0[0], m0[1]) and torch.equal(m0[2], -m0[0])
    q = (m0[0].unsqueeze(0) + 0.5 * randn(gen, 16, 4)).reshape(1, 16, 4)
    v = randn(gen, 1, 16, 4)
    case, info = build_case('moba tie: blocks 0 and 1 equal means (N=16, B=4, k=2)', 'moba',
                            {'block': 4, 'topk': 2, '_tie': True}, q, k, v,
                            note='blocks 0 and 1 have bitwise-equal means; lower index wins '
                                 '(spec rule, not the official CPU order)')
    g = info['gate'][0]
    for i in range(8, 16):
        assert g[i, 0].item() == g[i, 1].item(), (i, g[i])
        if i >= 12:
            assert g[i, 0].item() > g[i, 2].item() + GAP, (i, g[i])
    for i in range(8, 12):
        assert info['selected'][0][i] == [0, 2], (i, info['selected'][0][i])
    for i in range(12, 16):
        assert info['selected'][0][i] == [0, 3], (i, info['selected'][0][i])
    add(case, info)

    # 8. FlashMoBA: box-filter routing keys.
    gen = torch.Generator().manual_seed(4201)
    q, k, v = randn(gen, 2, 40, 8), randn(gen, 1, 40, 8), randn(gen, 1, 40, 8)
    case, info = build_case('flashmoba conv W=3, routing only (H=2, Hkv=1, N=40, B=8, k=3)', 'flashmoba',
                            {'block': 8, 'topk': 3, 'convWidth': 3, 'convInAttention': False}, q, k, v,
                            note='illustrative causal depthwise box filter c[w]=1/W (zero padding) on the '
                                 'routing keys only; attention and dense reference use the original keys')
    add(case, info)
    plain, _ = build_case('tmp', 'moba', {'block': 8, 'topk': 3}, q, k, v)
    assert plain['selected'] != case['selected'], 'the convolution should change some selections'

    gen = torch.Generator().manual_seed(4202)
    q, k, v = randn(gen, 2, 40, 8), randn(gen, 1, 40, 8), randn(gen, 1, 40, 8)
    case, info = build_case('flashmoba conv W=5, conv keys in attention (H=2, Hkv=1, N=40, B=8, k=3)',
                            'flashmoba', {'block': 8, 'topk': 3, 'convWidth': 5, 'convInAttention': True},
                            q, k, v,
                            note='illustrative box filter W=5; the SPARSE attention uses the convolved keys '
                                 '(routing_keys); the DENSE reference still uses the original keys, so '
                                 'recall/rel_frob include the key change')
    add(case, info)

    # 9. Window / sinks random.
    gen = torch.Generator().manual_seed(1271)
    q, k, v = randn(gen, 2, 33, 8), randn(gen, 1, 33, 8), randn(gen, 1, 33, 8)
    case, info = build_case('window w=5 sinks=2 (H=2, Hkv=1, N=33)', 'window', {'window': 5, 'sinks': 2},
                            q, k, v, note='sinks + sliding window, GQA')
    exp_P = sum(min(i + 1, 5) + max(0, min(2, i + 1 - 5)) for i in range(33))
    assert info['P'] == [exp_P, exp_P]
    add(case, info)

    gen = torch.Generator().manual_seed(1272)
    q, k, v = randn(gen, 2, 12, 4), randn(gen, 2, 12, 4), randn(gen, 2, 12, 4)
    case, info = build_case('window w=1 sinks=0 (diagonal only, H=2, Hkv=2, N=12)', 'window',
                            {'window': 1, 'sinks': 0}, q, k, v,
                            note='diagonal only: weights are the identity, output = v')
    assert info['P'] == [12, 12]
    assert torch.equal(info['mask'][0], torch.eye(12, dtype=torch.bool))
    add(case, info)

    # ------------------------------------------------------------ FlexPrefill (6)
    def flex_params(block, gamma, tau, min_budget, max_budget, divisor, js_intent):
        return {'block': block, 'gamma': gamma, 'tau': tau, 'minBudget': min_budget, 'maxBudget': max_budget,
                'divisor': divisor, 'jsIntent': js_intent}

    def add_flex(case, info, robust):
        m = min_margin(info['flex_info'])
        if robust:
            assert m >= ROBUST, f"{case['name']}: selection margin {m:.3g} < {ROBUST}"
        cases.append(case)
        summary(case, info)
        heads = case['flex']['heads']
        print('    ' + '; '.join(
            f"h{h}: {x['type']} nV={x['nV']} nS={x['nS']} |P|={len(x['blocks'])} "
            f"djs={'NaN' if x['djs_nan'] else x['djs']}" for h, x in enumerate(heads))
            + f"; ratio={case['flex']['computational_ratio']:.4f} margin={m:.3g}")

    # 10. Helper vectors (0.6 / 6).
    assert cover_count(torch.tensor([0.5, 0.25, 0.125, 0.125]), 0.8)[0] == 3
    for pp, qq, want in (([0.5, 0.5], [0.75, 0.25], 0.183908), ([.25] * 4, [.7, .1, .1, .1], 0.324495)):
        for dt in (torch.float64, torch.float32):
            got = float(js_distance(torch.tensor(pp, dtype=dt), torch.tensor(qq, dtype=dt)))
            assert abs(got - want) < 1e-6, (pp, qq, got)
    assert math.isnan(float(js_distance(torch.tensor([0.5, 0.5, 0.0]), torch.tensor([0.25, 0.25, 0.5]))))
    assert abs(float(js_distance(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0]), intent=True))
               - math.sqrt(math.log(2))) < 1e-6
    assert sum_pool_1d(torch.tensor([1., 2., 3., 4., 5.]), 2).tolist() == [3, 7, 5]
    # delta indexing: N=6, b=3, last-block row i=2 (position 5): key 5 -> sl[5], key 0 -> sl[0]
    for j, t in ((5, 5), (0, 0)):
        A = torch.zeros(3, 6)
        A[2, j] = 3.0
        sl = slash_stat(A)
        assert sl[t].item() == 1.0 and sl.sum().item() == 1.0, (j, sl)

    # 11. The 6 integration vector: N=16, b=4, H=1, d=2, Qsyn/Ksyn (0.8), gamma=0.9, minB=1.
    tt = torch.arange(16, dtype=torch.float64)
    q = torch.stack([2 * torch.sin(0.7 * tt), 2 * torch.cos(1.3 * tt)], -1).float().reshape(1, 16, 2)
    k = torch.stack([2 * torch.cos(0.5 * tt), 2 * torch.sin(0.9 * tt)], -1).float().reshape(1, 16, 2)
    v = torch.stack([tt, torch.ones(16, dtype=torch.float64)], -1).float().reshape(1, 16, 2)  # v[t] = [t, 1]
    F = lambda *pairs: [list(x) for x in pairs]
    base = [(0, 0), (1, 0), (1, 1), (2, 0), (2, 2), (3, 0), (3, 3)]
    spec_rows = [
        (0.1, '128', 'VS', 1, 1, base, 'faithful literal 128 divisor: VS (dJS 0.17086 >= tau 0.1)'),
        (1.0, '128', 'QA', 1, 1, base + [(3, 1), (3, 2)], 'tau 1.0: QA, the global gamma*nb cover adds (3,1),(3,2)'),
        (0.1, 'b', 'VS', 3, 3, [(0, 0), (1, 0), (1, 1), (2, 0), (2, 1), (2, 2), (3, 0), (3, 1), (3, 2), (3, 3)],
         'intent divisor b: vertical blocks {0,2,3}, slash offsets {0,1,2}'),
    ]
    for tau, div, typ, nV, nS, blocks, note in spec_rows:
        case, info = build_case(f'flexprefill spec vector 6 (N=16, b=4, tau={tau}, divisor {div})', 'flexprefill',
                                flex_params(4, 0.9, tau, 1, None, div, False), q, k, v,
                                note='ALGORITHMS.md 6 integration vector, Qsyn/Ksyn (0.8), v[t] = [t, 1]; ' + note)
        hd = case['flex']['heads'][0]
        assert [round(x, 4) for x in hd['Vb']] == [0.1467, 0.1216, 0.3953, 0.3363], hd['Vb']
        assert [round(x, 4) for x in hd['Sb']] == [0.1168, 0.1169, 0.3637, 0.4026], hd['Sb']
        assert [round(x, 4) for x in hd['abar']] == [0.2639, 0.2379, 0.2669, 0.2313], hd['abar']
        assert round(hd['djs'], 5) == 0.17086 and not hd['djs_nan'], hd['djs']
        assert (hd['type'], hd['nV'], hd['nS']) == (typ, nV, nS), hd
        assert sorted((I, J) for I, J, _ in hd['blocks']) == sorted(blocks), hd['blocks']
        assert not case['flex']['dense_fallback']
        fi = info['flex_info']['heads'][0]
        if div == 'b':
            assert sorted(fi['Jv']) == [0, 2, 3] and sorted(fi['offs']) == [0, 1, 2], fi
        # recorded, not required: the spec vector has a slash near-tie (Sb[0] vs Sb[1], ~1e-4) and,
        # with divisor b, the vertical cumsum lies ~5e-5 from gamma (count 11 -> 3 blocks, 12 -> 4)
        add_flex(case, info, robust=False)

    # 12. Random GQA, intent divisor b (budgets > 1), a mix of QA and VS heads in both KV groups.
    gen = torch.Generator().manual_seed(6005)
    q, k, v = 2.0 * randn(gen, 4, 48, 8), randn(gen, 2, 48, 8), randn(gen, 2, 48, 8)
    for max_budget in (None, 24):
        case, info = build_case(f'flexprefill random GQA (H=4, Hkv=2, N=48, b=8, divisor b, maxBudget={max_budget})',
                                'flexprefill', flex_params(8, 0.9, 0.1, 8, max_budget, 'b', False), q, k, v,
                                note='q = 2*randn; intent divisor b so the gamma-cover budgets exceed 1; '
                                     'every cut (cover counts, top-k, tau, QA cover) has a margin >= 1e-4'
                                     + ('' if max_budget is None else '; maxBudget 24 tokens caps nV, nS at 3 blocks'))
        types = [x['type'] for x in case['flex']['heads']]
        assert types == ['VS', 'QA', 'QA', 'VS'], types
        nvs = [(x['nV'], x['nS']) for x in case['flex']['heads']]
        if max_budget is None:
            assert nvs == [(4, 4), (1, 1), (1, 1), (3, 4)], nvs
        else:
            assert nvs == [(3, 3), (1, 1), (1, 1), (3, 3)], nvs
        add_flex(case, info, robust=True)

    # 13. Dense fallback: N=12 <= max(2b, ceil(min_budget/b)*b) = 16.
    gen = torch.Generator().manual_seed(6004)
    q, k, v = randn(gen, 2, 12, 4), randn(gen, 1, 12, 4), randn(gen, 1, 12, 4)
    case, info = build_case('flexprefill dense fallback (N=12, b=8: N <= 2b)', 'flexprefill',
                            flex_params(8, 0.9, 0.1, 1, None, '128', False), q, k, v,
                            note='N <= max(2b, ceil(min_budget/b)*b): plain causal attention, every causal '
                                 'block forced, computational ratio 1 (as the code returns), overhead 0')
    assert case['flex']['dense_fallback'] and torch.equal(info['mask'], causal_mask(2, 12))
    assert info['rel_frob'] == 0.0 and case['flops']['overhead'] == 0
    assert case['flex']['heads'][0]['blocks'] == [[0, 0, 'forced'], [1, 0, 'forced'], [1, 1, 'forced']]
    add_flex(case, info, robust=True)

    # 14. Quirk F2: a key block whose last-block attention underflows to exactly 0 in float32.
    # Keys of block 1 have first component -40 and the last block's queries [4, .]: logits about
    # -113 below the row max, exp underflows to 0 in float32 (not in float64), so Vb[1] = 0 (and
    # abar[1] = 0). Faithful: 0*ln0 -> NaN, NaN < tau is false -> VS even with tau = 1. Intent
    # (0*ln0 := 0): a finite dJS < 1 -> QA. Block 2's keys align with block 3's queries, so the
    # QA cover adds (3,2). Earlier queries are [0.1, .]: Ablk row 2 stays spread out, and the
    # skipped block (2,1) still holds some dense mass (rel_frob about 7e-3, not round-off).
    tt = torch.arange(16, dtype=torch.float64)
    q = torch.stack([4 + 0 * tt, 0.5 * torch.sin(tt)], -1)
    q[:12, 0] = 0.1
    k = torch.stack([0.5 * torch.cos(tt), 0.5 * torch.sin(2 * tt)], -1)
    k[4:8, 0] = -40.0
    k[8:12, 0] = 1.0
    q, k = q.float().reshape(1, 16, 2), k.float().reshape(1, 16, 2)
    v = torch.stack([tt, torch.ones(16, dtype=torch.float64)], -1).float().reshape(1, 16, 2)
    # float64 check (Appendix D): the same statistic is positive in float64, so the NaN needs float32
    lq64 = q[0, 12:].double() / math.sqrt(2)
    s64 = torch.matmul(lq64, k[0].double().t())
    s64 = s64.masked_fill(torch.arange(16).unsqueeze(0) > torch.arange(12, 16).unsqueeze(1), float('-inf'))
    vb64 = sum_pool_1d(torch.softmax(s64, -1).mean(0), 4)
    assert 0 < vb64[1].item() < 1e-40, vb64
    for intent in (False, True):
        case, info = build_case(f'flexprefill quirk F2 NaN jsDistance (N=16, b=4, tau=1, jsIntent={intent})',
                                'flexprefill', flex_params(4, 0.9, 1.0, 1, None, '128', intent), q, k, v,
                                note='Vb[1] underflows to exactly 0 in float32; faithful: dJS NaN -> VS even at '
                                     'tau=1 (quirk F2); intent 0*ln0 := 0: finite dJS -> QA, the cover adds (3,2)')
        hd = case['flex']['heads'][0]
        assert hd['Vb'][1] == 0.0 and hd['abar'][1] == 0.0, hd
        if not intent:
            assert hd['djs_nan'] and hd['djs'] is None and hd['type'] == 'VS', hd
            assert [b[:2] for b in hd['blocks']] == [[I, J] for I, J in base]
        else:
            assert not hd['djs_nan'] and 0 < hd['djs'] < 1 and hd['type'] == 'QA', hd
            assert [b for b in hd['blocks'] if b[2] != 'forced'] == [[3, 2, 'query-aware']], hd['blocks']
        add_flex(case, info, robust=True)

    # 15. N not a multiple of b: N=37, b=8 (nb=5, tail block of 5 tokens), H=2, Hkv=1 (MQA).
    gen = torch.Generator().manual_seed(6615)
    q, k, v = randn(gen, 2, 37, 8), randn(gen, 1, 37, 8), randn(gen, 1, 37, 8)
    case, info = build_case('flexprefill partial tail (H=2, Hkv=1, N=37, b=8, gamma=0.95, divisor 128)',
                            'flexprefill', flex_params(8, 0.95, 0.1, 1, None, '128', False), q, k, v,
                            note='nb=5, tail block holds 5 tokens (real-token means for Kbar and Qbar, '
                                 'zero-padded sumPool1d); literal 128 divisor gives VS budgets of 1 block')
    assert [x['type'] for x in case['flex']['heads']] == ['VS', 'QA']
    add_flex(case, info, robust=True)

    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        json.dump({'generator': 'scripts/make_sparse_goldens.py', 'torch': torch.__version__,
                   'spec': 'ALGORITHMS.md 0, 4.1, 4.2, 6, 12.7', 'cases': cases}, f, allow_nan=False)
    print(f'wrote {os.path.normpath(OUT)} ({os.path.getsize(OUT)} bytes, {len(cases)} cases)')


if __name__ == '__main__':
    main()

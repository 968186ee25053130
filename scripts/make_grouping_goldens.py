#!/usr/bin/python3
"""Writes tests/golden/grouping.json: goldens for the head-grouping methods (ALGORITHMS.md 1, 2, 3).

An independent PyTorch reference (Debian's python3-torch 1.13, run with /usr/bin/python3) of
MHA, MQA, GQA (1), KDGQA (2.1), DGQA (2.2), PGQA (2.3) and SQA (3), written from ALGORITHMS.md
and the golden brief, not from the TypeScript. Torch 1.13 has no scaled_dot_product_attention,
so attention is written here from its definition: softmax(sigma * q @ k^T + mask) @ v with
sigma = 1/sqrt(d), the causal rule j <= i (Nq = Nk = N), masked weights exactly 0.

Conventions:
* Source tensors q [H,N,d], k [Hs,N,d], v [Hs,N,dv] are float32 (torch.randn, fixed seed) and stored.
* The reference is dense attention of the source with the contiguous mapping floor(h/(H/Hs)).
  All attention (reference and method) is computed in float64 from the float32 inputs.
* Pooling to G KV heads (1, conversion recipe): Kp[g] = mean of k[g*r .. g*r+r-1], r = Hs/G,
  computed in float32 (torch.mean). Hs % G != 0 is an error.
* Allocation a[g] (sum H) -> mapping: query heads [start_g, start_g + a_g) use KV head g.
* Norms, shares and allocations (KDGQA, DGQA) are float32 torch ops; round = torch.round
  (half to even); argmax/argmin take the first index on ties.
* DGQA fix-ups and PGQA noise use mulberry32, ported bit-for-bit from the JavaScript below.
  A random KV index is floor(rng() * G).
* PGQA: R is drawn row-major from the rng and cast to float32; R~ and the noise are then computed
  in float64 (unbiased std) from those float32 values and the float64 head outputs.
* DGQA ema: w = beta * m + (1 - beta) * c with m, c float32 tensors and beta a Python float
  (torch casts each scalar to float32: 0.9 -> fround(0.9), 1 - 0.9 -> fround(0.09999999999999998)).
* Stored floats are rounded to 9 significant digits (exact for float32 values).

Run: /usr/bin/python3 scripts/make_grouping_goldens.py
"""
import json
import math
import os

import torch

torch.manual_seed(20261129)
OUT = os.path.join(os.path.dirname(__file__), '..', 'tests', 'golden', 'grouping.json')

M32 = 0xFFFFFFFF


def imul(x, y):
    return (x * y) & M32


def mulberry32(seed):
    """Bit-for-bit port of
    function mulberry32(seed) { let a = seed >>> 0; return () => { a = (a + 0x6d2b79f5) >>> 0;
      let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296; }; }
    All values are kept as unsigned 32-bit patterns, which give the same bits as JS's int32 ops.
    Seed 1, first 3 outputs (Python here and `node -e` agree):
      0.6270739405881613 0.002735721180215478 0.5274470399599522
    """
    state = [seed & M32]

    def rng():
        state[0] = (state[0] + 0x6D2B79F5) & M32
        t = state[0]
        t = imul(t ^ (t >> 15), t | 1)
        t = (t ^ ((t + imul(t ^ (t >> 7), t | 61)) & M32)) & M32
        return ((t ^ (t >> 14)) & M32) / 4294967296

    return rng


_r = mulberry32(1)
MULBERRY_SEED1 = [_r(), _r(), _r()]
assert MULBERRY_SEED1 == [0.6270739405881613, 0.002735721180215478, 0.5274470399599522], MULBERRY_SEED1


class SpecError(Exception):
    pass


# ---------------------------------------------------------------- attention and helpers

def attention(q, k, v, mapping, causal):
    """q [Hm,N,d], k [G,N,d], v [G,N,dv] (float32) -> weights [Hm,N,N], output [Hm,N,dv] (float64)."""
    Hm, N, d = q.shape
    idx = torch.tensor(mapping, dtype=torch.long)
    kk = k[idx].double()
    vv = v[idx].double()
    logits = torch.matmul(q.double(), kk.transpose(-1, -2)) * (1.0 / math.sqrt(d))
    if causal:
        i = torch.arange(N).unsqueeze(1)
        j = torch.arange(N).unsqueeze(0)
        logits = logits.masked_fill(~(j <= i), float('-inf'))
    w = torch.softmax(logits, dim=-1)  # exp(-inf) = 0 exactly; every row sees j = 0
    return w, torch.matmul(w, vv)


def contiguous(Hm, G):
    g = Hm // G
    return [h // g for h in range(Hm)]


def pool(x, G):
    Hs = x.shape[0]
    if Hs % G != 0:
        raise SpecError(f'Hs={Hs} is not divisible by G={G}')
    r = Hs // G
    return x.reshape(G, r, *x.shape[1:]).mean(dim=1)  # float32


def mapping_of(a):
    m = []
    for g, n in enumerate(a):
        m += [g] * n
    return m


def uniform(H, G):
    return [H // G] * G


def frob(kp):
    return torch.stack([torch.norm(kp[g]) for g in range(kp.shape[0])])  # float32


def check_groups(H, Hs, G):
    if G < 1 or H % G != 0 or Hs % G != 0:
        raise SpecError(f'groups={G} must divide H={H} and Hs={Hs}')


def check_margin(raw):
    """Rounding decisions must not hinge on the last bits of float32 arithmetic, which a port
    may order differently (sums, norms): a share must be an exact .5 (constructed on purpose)
    or at least 1e-4 away from one."""
    for x in raw.tolist():
        f = x - math.floor(x)
        assert f == 0.5 or abs(f - 0.5) > 1e-4, f'share {x} is too close to a rounding tie'


def kdgqa_alloc(n, H, mode):
    G = n.shape[0]
    if mode == 'minmax':
        if float(n.max()) == float(n.min()):
            return uniform(H, G)
        nh = (n - n.min()) / (n.max() - n.min())
    elif mode == 'proportional':
        nh = n
    else:
        raise SpecError(f'unknown mode {mode}')
    if float(nh.sum()) == 0.0:
        return uniform(H, G)
    r = nh / nh.sum() * H  # float32
    check_margin(r)
    a = torch.round(r).to(torch.int64)
    while int(a.sum()) > H:
        a[int(torch.argmax(a))] -= 1
    while int(a.sum()) < H:
        a[int(torch.argmin(a))] += 1
    return [int(x) for x in a]


def dgqa_alloc(m, c, H, variant, beta, rng):
    """Returns (a, w, draws)."""
    G = m.shape[0]
    if variant == 'diff':
        w = (c - m).abs()
    elif variant == 'ema':
        w = beta * m + (1 - beta) * c
    else:
        raise SpecError(f'unknown variant {variant}')
    assert w.dtype == torch.float32
    if float(w.sum()) == 0.0:
        return uniform(H, G), w, 0
    raw = w / w.sum() * H  # float32
    check_margin(raw)
    a = [int(x) for x in torch.round(raw).to(torch.int64)]
    draws = 0
    while sum(a) > H:
        g = math.floor(rng() * G)
        draws += 1
        if a[g] > 0:
            a[g] -= 1
    while sum(a) < H:
        g = math.floor(rng() * G)
        draws += 1
        a[g] += 1
    return a, w, draws


def rnd(x):
    return float(f'{x:.9g}')


def flat(t):
    return [rnd(x) for x in t.reshape(-1).tolist()]


# ---------------------------------------------------------------- methods

def run_method(method, p, steps, H, Hs, causal):
    """Returns a dict with the method's heads, allocation and outputs (everything but metrics)."""
    q, k, v = steps[-1]
    N = q.shape[1]
    res = {'norms': None, 'timeline': None, 'outputClean': None, 'noise': None,
           'slotOf': list(range(H)), 'query': q}
    if method == 'mha':
        G = Hs
        kp, vp, a = k, v, uniform(H, Hs)
    elif method == 'mqa':
        G = 1
        kp, vp, a = pool(k, 1), pool(v, 1), [H]
    elif method == 'gqa':
        G = p['groups']
        check_groups(H, Hs, G)
        kp, vp, a = pool(k, G), pool(v, G), uniform(H, G)
    elif method == 'kdgqa':
        G = p['groups']
        check_groups(H, Hs, G)
        kp, vp = pool(k, G), pool(v, G)
        n = frob(kp)
        a = kdgqa_alloc(n, H, p['mode'])
        res['norms'] = n
    elif method == 'dgqa':
        G = p['groups']
        check_groups(H, Hs, G)
        if len(steps) != p['step'] + 1:
            raise SpecError('dgqa needs step+1 inputs')
        rng = mulberry32(p['seed'])
        c = torch.zeros(G, dtype=torch.float32)
        a = uniform(H, G)
        timeline = []
        for t, (_, kt, _) in enumerate(steps):
            m = frob(pool(kt, G))
            w, draws = None, 0
            if p['phase'] == 'eval':
                a, w, draws = dgqa_alloc(m, c, H, p['variant'], p['beta'], rng)
                c = m.clone()
            elif p['phase'] == 'train':
                if t % p['window'] == 0:
                    a, w, draws = dgqa_alloc(m, c, H, p['variant'], p['beta'], rng)
                    c = (c + m) / p['window']
            else:
                raise SpecError(f"unknown phase {p['phase']}")
            assert sum(a) == H
            timeline.append({'m': flat(m), 'w': None if w is None else flat(w), 'a': list(a),
                             'c': flat(c), 'draws': draws})
        kp, vp = pool(k, G), pool(v, G)
        res['norms'] = m
        res['timeline'] = timeline
    elif method == 'pgqa':
        G = p['groups']
        check_groups(H, Hs, G)
        kp, vp, a = pool(k, G), pool(v, G), uniform(H, G)
    elif method == 'sqa':
        Hq, Hkv = p['queryHeads'], p['kvHeads']
        if Hq < 1 or Hkv < 1 or H % Hq != 0 or Hs % Hkv != 0 or Hq % Hkv != 0:
            raise SpecError(f'sqa needs H % Hq == 0, Hs % Hkv == 0, Hq % Hkv == 0 '
                            f'(H={H}, Hs={Hs}, Hq={Hq}, Hkv={Hkv})')
        G = Hkv
        res['query'] = pool(q, Hq)  # illustrative query pooling, float32
        res['slotOf'] = [h // (H // Hq) for h in range(H)]
        kp, vp, a = pool(k, G), pool(v, G), uniform(Hq, G)
    else:
        raise SpecError(f'unknown method {method}')

    mapping = mapping_of(a)
    Hm = res['query'].shape[0]
    assert len(mapping) == Hm and sum(a) == Hm and len(a) == G
    w, out = attention(res['query'], kp, vp, mapping, causal)

    if method == 'pgqa':
        rng = mulberry32(p['seed'])
        s, dv = H // G, out.shape[2]
        L = N * dv
        noisy = out.clone()
        noise = torch.zeros_like(out)
        for g in range(G):
            R = torch.tensor([rng() for _ in range(s * L)], dtype=torch.float32).reshape(s, L)
            for i in range(min(s, L)):
                R[i, i] = 0.0
            R = R.double()
            sd = R.std(dim=1, keepdim=True)  # unbiased
            sd = torch.where(sd == 0, torch.ones_like(sd), sd)
            Rt = (R - R.mean(dim=1, keepdim=True)) / sd
            O = out[g * s:(g + 1) * s].reshape(s, L)  # token-major flatten of [N, dv]
            Nt = Rt * O.std(dim=1, keepdim=True) + O.mean(dim=1, keepdim=True)
            noise[g * s:(g + 1) * s] = Nt.reshape(s, N, dv)
            noisy[g * s:(g + 1) * s] = (O - Nt).reshape(s, N, dv)
        tol = 1e-5 * float(out.abs().max())
        row_means = noisy.reshape(H, -1).mean(dim=1)
        assert float(row_means.abs().max()) <= tol, row_means
        res['outputClean'], res['noise'] = out, noise
        out = noisy

    res.update({'G': G, 'Hm': Hm, 'a': a, 'mapping': mapping, 'weights': w, 'output': out})
    return res


# ---------------------------------------------------------------- cases

def metrics(out_m, slot_of, ref_out):
    om = out_m[torch.tensor(slot_of, dtype=torch.long)]  # [H,N,dv]
    rel = float(torch.norm(om - ref_out) / torch.norm(ref_out))
    N = ref_out.shape[1]
    a = om.permute(1, 0, 2).reshape(N, -1)
    b = ref_out.permute(1, 0, 2).reshape(N, -1)
    cos = []
    for i in range(N):
        na, nb = float(torch.norm(a[i])), float(torch.norm(b[i]))
        if na == 0 and nb == 0:
            cos.append(1.0)
        elif na == 0 or nb == 0:
            cos.append(0.0)
        else:
            cos.append(float(torch.dot(a[i], b[i]) / (na * nb)))
    return rel, cos


def rand_step(H, Hs, N, d, dv, kscale=None):
    q = torch.randn(H, N, d).float()
    k = torch.randn(Hs, N, d).float()
    if kscale is not None:
        k = (k * torch.tensor(kscale, dtype=torch.float32).reshape(Hs, 1, 1)).float()
    v = torch.randn(Hs, N, dv).float()
    return (q, k, v)


def build(name, method, params, causal, H, Hs, N, d, dv, steps, expect_error=False):
    for (q, k, v) in steps:
        assert q.shape == (H, N, d) and k.shape == (Hs, N, d) and v.shape == (Hs, N, dv)
        assert q.dtype == k.dtype == v.dtype == torch.float32
    case = {'name': name, 'method': method, 'params': params, 'causal': causal,
            'H': H, 'Hs': Hs, 'N': N, 'd': d, 'dv': dv,
            'steps': [{'q': flat(q), 'k': flat(k), 'v': flat(v)} for (q, k, v) in steps]}
    try:
        r = run_method(method, params, steps, H, Hs, causal)
    except SpecError as e:
        assert expect_error, f'{name}: unexpected error {e}'
        case.update({'expectError': True, 'expect': None})
        print(f'  {name}: error as expected ({e})')
        return case, None
    assert not expect_error, f'{name}: expected an error'
    q, k, v = steps[-1]
    ref_w, ref_out = attention(q, k, v, contiguous(H, Hs), causal)
    rel, cos = metrics(r['output'], r['slotOf'], ref_out)
    P = N * (N + 1) // 2 if causal else N * N
    case.update({'expectError': False, 'expect': {
        'kvHeads': r['G'], 'queryHeads': r['Hm'], 'allocation': r['a'], 'mapping': r['mapping'],
        'slotOf': r['slotOf'],
        'norms': None if r['norms'] is None else flat(r['norms']),
        'weights': flat(r['weights']), 'output': flat(r['output']),
        'refWeights': flat(ref_w), 'refOutput': flat(ref_out),
        'outputClean': None if r['outputClean'] is None else flat(r['outputClean']),
        'noise': None if r['noise'] is None else flat(r['noise']),
        'relFrob': rnd(rel), 'cosine': [rnd(x) for x in cos],
        'kvBytes': N * r['G'] * (d + dv) * 4, 'kvBytesRef': N * Hs * (d + dv) * 4,
        'flops': r['Hm'] * (2 * d + 2 * dv) * P, 'flopsRef': H * (2 * d + 2 * dv) * P,
        'timeline': r['timeline'],
    }})
    print(f"  {name}: G={r['G']} Hm={r['Hm']} a={r['a']} relFrob={rel:.4g}")
    return case, r


cases = []


def add(*args, **kw):
    c, r = build(*args, **kw)
    cases.append(c)
    return c, r


# 1-2. MHA and MQA on an MHA source
src = [rand_step(4, 4, 6, 4, 4)]
c, r = add('mha on MHA source (H=4, N=6, causal)', 'mha', {}, True, 4, 4, 6, 4, 4, src)
assert c['expect']['relFrob'] == 0.0
add('mqa on MHA source (H=4, N=6, causal)', 'mqa', {}, True, 4, 4, 6, 4, 4, src)

# 3. GQA
add('gqa G=2 on MHA source (H=4, N=6, causal)', 'gqa', {'groups': 2}, True, 4, 4, 6, 4, 4,
    [rand_step(4, 4, 6, 4, 4)])
add('gqa G=2 on GQA source (H=8, Hs=4, N=5, dv=3, bidirectional)', 'gqa', {'groups': 2}, False,
    8, 4, 5, 4, 3, [rand_step(8, 4, 5, 4, 3)])

# 4. KDGQA minmax and proportional on the same MHA source
src = [rand_step(8, 8, 7, 4, 4)]
add('kdgqa minmax G=4 (H=8 MHA source, N=7, bidirectional)', 'kdgqa',
    {'groups': 4, 'mode': 'minmax'}, False, 8, 8, 7, 4, 4, src)
add('kdgqa proportional G=4 (H=8 MHA source, N=7, bidirectional)', 'kdgqa',
    {'groups': 4, 'mode': 'proportional'}, False, 8, 8, 7, 4, 4, src)

# 5. KDGQA half-to-even: norms exactly [5, 1, 2, 4]
q, _, v = rand_step(4, 4, 4, 4, 4)
k = torch.zeros(4, 4, 4, dtype=torch.float32)
k[0, 0, 0], k[0, 1, 1], k[0, 2, 2], k[0, 3, 3] = 1.0, 2.0, -2.0, 4.0   # sqrt(1+4+4+16) = 5
k[1, 2, 1] = -1.0                                                      # 1
k[2, 0, 3], k[2, 1, 0], k[2, 2, 1], k[2, 3, 2] = 1.0, -1.0, 1.0, 1.0   # sqrt(4) = 2
k[3, :, :] = 0.0
k[3, 0, :] = torch.tensor([2.0, -2.0, 2.0, 2.0])                       # sqrt(16) = 4
c, r = add('kdgqa minmax half-to-even (norms [5,1,2,4], H=4, G=4)', 'kdgqa',
           {'groups': 4, 'mode': 'minmax'}, True, 4, 4, 4, 4, 4, [(q, k, v)])
assert c['expect']['norms'] == [5.0, 1.0, 2.0, 4.0], c['expect']['norms']
assert c['expect']['allocation'] == [2, 0, 0, 2], c['expect']['allocation']  # Math.round: (1,0,1,2)

# 6. KDGQA uniform fallbacks
q, _, v = rand_step(8, 8, 5, 4, 4)
base = torch.randn(5, 4).float()
heads = []
for g in range(4):
    sign = torch.where(torch.rand(5, 4) < 0.5, -1.0, 1.0).float()
    heads += [base * sign] * 2   # pooled pair mean (x + x)/2 = x exactly; equal squares -> equal norms
k = torch.stack(heads).float()
c, r = add('kdgqa minmax equal norms -> uniform (H=8, Hs=8, G=4)', 'kdgqa',
           {'groups': 4, 'mode': 'minmax'}, False, 8, 8, 5, 4, 4, [(q, k, v)])
assert len(set(c['expect']['norms'])) == 1 and c['expect']['allocation'] == [2, 2, 2, 2]
c, r = add('kdgqa minmax G=1 -> all heads on KV head 0 (H=4)', 'kdgqa',
           {'groups': 1, 'mode': 'minmax'}, True, 4, 4, 5, 4, 4, [rand_step(4, 4, 5, 4, 4)])
assert c['expect']['allocation'] == [4] and c['expect']['mapping'] == [0, 0, 0, 0]

# 7. errors
add('error: gqa groups=4 with H=Hs=6', 'gqa', {'groups': 4}, True, 6, 6, 4, 4, 4,
    [rand_step(6, 6, 4, 4, 4)], expect_error=True)
add('error: sqa queryHeads=3 does not divide H=8', 'sqa', {'queryHeads': 3, 'kvHeads': 1}, True,
    8, 8, 4, 4, 4, [rand_step(8, 8, 4, 4, 4)], expect_error=True)

# 8. DGQA: 5 step inputs (t = 0..4, step = 4), H=8 MHA source, G=4, seed 3, bidirectional.
# Key heads get per-step scales so that norms move between steps.
def dgqa_steps():
    return [rand_step(8, 8, 5, 4, 4, kscale=(0.25 + 2.0 * torch.rand(8)).tolist()) for _ in range(5)]


fired = []
for name, variant, phase in [('dgqa diff eval, 5 steps (G=4, H=8, seed 3)', 'diff', 'eval'),
                             ('dgqa ema eval, 5 steps (G=4, H=8, beta 0.9, seed 3)', 'ema', 'eval'),
                             ('dgqa diff train window 2, 5 steps (G=4, H=8, seed 3)', 'diff', 'train')]:
    params = {'groups': 4, 'variant': variant, 'beta': 0.9, 'phase': phase,
              'window': 2 if phase == 'train' else 10, 'seed': 3, 'step': 4}
    c, r = add(name, 'dgqa', params, False, 8, 8, 5, 4, 4, dgqa_steps())
    draws = [e['draws'] for e in c['expect']['timeline']]
    print(f'    draws per step {draws}; a per step {[e["a"] for e in c["expect"]["timeline"]]}')
    if sum(draws) > 0:
        fired.append((name, draws))
assert fired, 'no DGQA case fired a random fix-up'

# 9. PGQA
add('pgqa G=2 (H=4, N=5, dv=3, seed 11, bidirectional)', 'pgqa', {'groups': 2, 'seed': 11}, False,
    4, 4, 5, 4, 3, [rand_step(4, 4, 5, 4, 3)])

# 10. SQA
add('sqa Hq=4 Hkv=2 on MHA source (H=8, N=6, causal)', 'sqa', {'queryHeads': 4, 'kvHeads': 2}, True,
    8, 8, 6, 4, 4, [rand_step(8, 8, 6, 4, 4)])
add('xSMQA: sqa Hq=2 Hkv=1 on MHA source (H=8, N=6, causal)', 'sqa',
    {'queryHeads': 2, 'kvHeads': 1}, True, 8, 8, 6, 4, 4, [rand_step(8, 8, 6, 4, 4)])

os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, 'w') as f:
    json.dump({'generator': 'scripts/make_grouping_goldens.py', 'torch': torch.__version__,
               'cases': cases}, f)
print(f'mulberry32(1) first 3: {MULBERRY_SEED1}')
print(f'DGQA cases with fix-up draws: {fired}')
print(f'wrote {len(cases)} cases to {os.path.relpath(OUT)} ({os.path.getsize(OUT)} bytes)')

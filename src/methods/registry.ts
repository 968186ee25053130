import { logitHistograms, qkNorm } from './positional/qknorm';
import { applyRope, mergeLockQkv } from './positional/qkTransforms';
import type { AKind } from './positional/mergelock';
import { ShapeError, type QKV } from '../core/tensor';
import { divisorsOf } from '../core/numeric';
import { mulberry32 } from '../core/prng';
import { allocationOf, contiguousMapping, frobeniusNorms, groupDisagreement, mappingFromAllocation, poolHeads } from './heads';
import { dgqaTimeline, kdgqaAllocation, type DgqaVariant, type KdgqaMode } from './allocation';
import { pgqaPerturb } from './pgqa';
import type { MethodDescriptor, MethodDims, MethodPlan, ParamSpec, Params } from './types';

const KEY_DRIVEN = 'Khan et al. 2024, "Beyond Uniform Query Distribution: Key-Driven Grouped Query Attention", arXiv 2408.08454';
const KEY_DRIVEN_CODE = 'zohaib-khan5040/key-driven-gqa @8fee9d607c';

/** The group-count parameter: a divisor of the source's KV heads; the code's default is half the heads. */
const groupsParam = (help: string): ParamSpec => ({
  kind: 'int',
  key: 'groups',
  label: 'KV heads (groups) G',
  help,
  default: (d: MethodDims) => (d.Hs % 2 === 0 ? d.Hs / 2 : d.Hs),
  choices: (d: MethodDims) => divisorsOf(d.Hs),
});

const seedParam: ParamSpec = { kind: 'seed', key: 'seed', label: 'Seed', default: 1, help: 'seeds the random numbers (mulberry32): the same seed gives the same result' };

function num(p: Params, k: string): number {
  return Number(p[k]);
}

/** Uptraining the app cannot do, said once per kind of paper. */
const NO_UPTRAINING = 'Converted by mean pooling without uptraining: the paper uptrains for 5% of the pre-training steps afterwards, which this app cannot do.';
const NO_UPTRAINING_VIT = 'Converted by mean pooling without uptraining (the paper uptrains ViTs afterwards).';

/**
 * The plan every grouping shares: `src`'s K/V heads mean-pooled into G, query heads `q` read
 * them through `mapping`; `extra` adds or overrides what a method knows more about.
 */
function basePlan(src: QKV, q: QKV['q'], G: number, mapping: number[], extra: Partial<MethodPlan> = {}): MethodPlan {
  const { detail, ...rest } = extra;
  return {
    q,
    k: poolHeads(src.k, G),
    v: poolHeads(src.v, G),
    mapping,
    allocation: allocationOf(mapping, G),
    slotOf: Array.from({ length: src.q.shape[0] }, (_, h) => h),
    detail: { disagreement: groupDisagreement(src.k, G), ...detail },
    caveats: [],
    step: 0,
    kvKey: `pool${G}`,
    ...rest,
  };
}

function checkGroups(H: number, G: number): void {
  if (H % G !== 0) throw new ShapeError(`${H} query heads cannot be split into ${G} equal groups: the group count must divide ${H} (try ${divisorsOf(H).join(', ')})`);
}

const mha: MethodDescriptor = {
  id: 'mha',
  family: 'grouping',
  label: 'MHA (the source as it is)',
  summary: 'Every query head reads the key and value heads the source gives it: with as many KV heads as query heads this is multi-head attention, the reference the other methods are measured against.',
  citation: { paper: 'Vaswani et al. 2017, "Attention Is All You Need"' },
  verified: 'paper',
  params: [],
  plan: (x) => basePlan(x.input, x.input.q, x.dims.Hs, contiguousMapping(x.dims.H, x.dims.Hs), { kvKey: 'source' }),
};

const mqa: MethodDescriptor = {
  id: 'mqa',
  family: 'grouping',
  label: 'MQA (one KV head)',
  summary: 'All query heads share one key and value head, the mean of the source\'s KV heads (GQA\'s conversion recipe with G = 1), shown without the uptraining the paper does afterwards.',
  citation: { paper: 'Shazeer 2019, "Fast Transformer Decoding: One Write-Head is All You Need"; conversion: Ainslie et al. 2023, arXiv 2305.13245', code: KEY_DRIVEN_CODE + ' modules/attention/gqa.py' },
  verified: 'code',
  params: [],
  plan: (x) => basePlan(x.input, x.input.q, 1, contiguousMapping(x.dims.H, 1), { caveats: [NO_UPTRAINING] }),
};

const gqa: MethodDescriptor = {
  id: 'gqa',
  family: 'grouping',
  label: 'GQA (mean-pooled groups)',
  summary: 'Consecutive query heads share one KV head; each KV head is the mean of its group\'s original key and value heads (the MHA → GQA conversion recipe), shown without uptraining.',
  citation: { paper: 'Ainslie et al. 2023, "GQA: Training Generalized Multi-Query Transformer Models from Multi-Head Checkpoints", arXiv 2305.13245', code: KEY_DRIVEN_CODE + ' modules/attention/gqa.py' },
  verified: 'code',
  params: [groupsParam('how many KV heads the query heads share; each is the mean of its group of original heads')],
  plan: (x, p) => {
    const G = num(p, 'groups');
    checkGroups(x.dims.H, G);
    return basePlan(x.input, x.input.q, G, contiguousMapping(x.dims.H, G), { caveats: [NO_UPTRAINING] });
  },
};

const kdgqa: MethodDescriptor = {
  id: 'kdgqa',
  family: 'grouping',
  label: 'KDGQA (key-norm allocation)',
  summary: 'On every forward pass, each KV head gets a number of consecutive query heads in proportion to the min-max-scaled Frobenius norm of its keys, so the smallest-norm KV head usually gets none.',
  citation: { paper: KEY_DRIVEN, code: KEY_DRIVEN_CODE + ' modules/attention/kdgqa.py' },
  verified: 'code',
  params: [
    groupsParam('KV heads after mean pooling (the code defaults to half the heads)'),
    {
      kind: 'enum',
      key: 'mode',
      label: 'Allocation',
      default: 'minmax',
      options: [
        { value: 'minmax', label: 'min-max (faithful, as the code)' },
        { value: 'proportional', label: 'proportional to norms (intent, not faithful)', illustrative: true },
      ],
      help: 'the code min-max scales the norms first, so with G = 2 the split is always all-or-nothing',
    },
  ],
  plan: (x, p) => {
    const G = num(p, 'groups');
    checkGroups(x.dims.H, G);
    const k = poolHeads(x.input.k, G);
    const norms = frobeniusNorms(k);
    const mode = String(p.mode) as KdgqaMode;
    const r = kdgqaAllocation(norms, x.dims.H, mode);
    const caveats = [NO_UPTRAINING_VIT];
    if (mode === 'proportional') caveats.push('Proportional mode is not what the code does (it min-max scales the norms first): illustrative.');
    if (r.fallback) caveats.push('All key norms are equal, so the code would divide 0 by 0; a uniform split is shown instead (illustrative, ALGORITHMS.md §2.1).');
    return basePlan(x.input, x.input.q, G, mappingFromAllocation(r.a), {
      detail: { norms, normsLabel: 'key norm ‖K‖_F', raw: r.raw ?? undefined, fallback: r.fallback },
      caveats,
    });
  },
};

const dgqa: MethodDescriptor = {
  id: 'dgqa',
  family: 'grouping',
  label: 'DGQA (allocation from norm changes)',
  summary: 'Allocates query heads from how the key-head norms change between steps (|cache − m|, or an EMA), with random fix-ups when the rounded shares do not add up; stepped through a sequence of inputs.',
  citation: { paper: KEY_DRIVEN, code: KEY_DRIVEN_CODE + ' modules/attention/dgqa.py, train.py, model.py' },
  verified: 'code',
  params: [
    groupsParam('KV heads after mean pooling'),
    {
      kind: 'enum',
      key: 'variant',
      label: 'Weights',
      default: 'diff',
      options: [
        { value: 'diff', label: 'diff: |cache − m|' },
        { value: 'ema', label: 'ema: β·m + (1 − β)·cache' },
      ],
      help: 'in the code\'s "ema", β weights the current magnitudes (Quirk K2)',
    },
    { kind: 'number', key: 'beta', label: 'β (ema)', default: 0.9, min: 0, max: 1, step: 0.05 },
    {
      kind: 'enum',
      key: 'phase',
      label: 'Mode',
      default: 'eval',
      options: [
        { value: 'eval', label: 'inference: reallocate every step' },
        { value: 'train', label: 'training: reallocate every W steps' },
      ],
    },
    { kind: 'int', key: 'window', label: 'Window W (training)', default: 10, min: 1, max: 1000, help: 'the factory default is 10; the README config uses 300' },
    seedParam,
    { kind: 'int', key: 'step', label: 'Step shown', default: (d) => d.steps - 1, min: 0, max: (d) => d.steps - 1, help: 'the allocation and attention after this many steps' },
  ],
  plan: (x, p) => {
    const G = num(p, 'groups');
    checkGroups(x.dims.H, G);
    const step = num(p, 'step');
    // The whole sequence is run so the timeline shows every step; the chosen one is shown.
    const ms = x.steps.map((s) => frobeniusNorms(poolHeads(s.k, G)));
    const timeline = dgqaTimeline(ms, {
      H: x.dims.H,
      variant: String(p.variant) as DgqaVariant,
      beta: num(p, 'beta'),
      phase: p.phase === 'train' ? 'train' : 'eval',
      window: num(p, 'window'),
      rand: mulberry32(num(p, 'seed')),
    });
    const last = timeline[step];
    const shown = x.steps[step];
    const caveats = [NO_UPTRAINING_VIT];
    if (timeline.some((t) => t.fallback)) caveats.push('At a step whose weights sum to zero the code would divide 0 by 0; a uniform split is used there instead (illustrative).');
    return basePlan(shown, shown.q, G, mappingFromAllocation(last.a), {
      detail: { norms: last.m, normsLabel: 'key norm m', change: last.w ?? undefined, timeline, step },
      caveats,
      step,
      kvKey: `pool${G}@step${step}`,
    });
  },
};

const pgqa: MethodDescriptor = {
  id: 'pgqa',
  family: 'grouping',
  label: 'PGQA (perturbed GQA)',
  summary: 'Static GQA whose head outputs get seeded noise subtracted: uniform noise, standardised and rescaled to each head\'s output mean and std. The attention maps are unchanged (the code perturbs outputs, not maps).',
  citation: { paper: KEY_DRIVEN, code: KEY_DRIVEN_CODE + ' modules/attention/pgqa.py' },
  verified: 'code',
  params: [groupsParam('KV heads after mean pooling'), seedParam],
  plan: (x, p) => {
    const G = num(p, 'groups');
    checkGroups(x.dims.H, G);
    const seed = num(p, 'seed');
    const { H } = x.dims;
    return basePlan(x.input, x.input.q, G, contiguousMapping(H, G), {
      caveats: ['The paper\'s abstract says the noise is subtracted from the attention maps; the code subtracts it from the head outputs, which is shown (Quirk K5). The maps equal GQA\'s.', NO_UPTRAINING_VIT],
      post: (output, N, dv) => {
        const r = pgqaPerturb(output, H, G, N, dv, mulberry32(seed));
        return { output: r.out, detail: { pgqa: { clean: output, noise: r.noise, meanBefore: r.meanBefore, stdBefore: r.stdBefore, meanAfter: r.meanAfter, stdAfter: r.stdAfter } } };
      },
    });
  },
};

/** SQA variants (ALGORITHMS.md §3): active query heads and KV heads as fractions of H. */
export const SQA_VARIANTS: Record<string, { label: string; Hq: (H: number) => number; Hkv: (H: number) => number }> = {
  sqa: { label: 'SQA: H/2 query, H/4 KV heads', Hq: (H) => H / 2, Hkv: (H) => H / 4 },
  ssqa: { label: 'sSQA (symmetric): H/2 query, H/2 KV', Hq: (H) => H / 2, Hkv: (H) => H / 2 },
  xsqa: { label: 'xSQA (extreme): H/4 query, H/4 KV', Hq: (H) => H / 4, Hkv: (H) => H / 4 },
  xsmqa: { label: 'xSMQA: H/4 query, 1 KV', Hq: (H) => H / 4, Hkv: () => 1 },
};

const sqa: MethodDescriptor = {
  id: 'sqa',
  family: 'grouping',
  label: 'SQA (fewer query heads)',
  summary: 'Sparse Query Attention keeps fewer query heads than the nominal H, which cuts the attention FLOPs by H/Hq; KV heads are shared among them as in GQA.',
  citation: { paper: 'Filipek 2025, "Sparse Query Attention", arXiv 2510.01817', code: 'RxAI-dev/RxNN @cafcc7de9e SparseQueryAttention' },
  verified: 'code',
  params: [
    {
      kind: 'enum',
      key: 'variant',
      label: 'Variant',
      default: 'sqa',
      defaultFor: (g) => (g.queryHeads !== undefined || g.kvHeads !== undefined ? 'custom' : 'sqa'),
      options: [...Object.entries(SQA_VARIANTS).map(([value, v]) => ({ value, label: v.label })), { value: 'custom', label: 'custom Hq and Hkv' }],
    },
    { kind: 'int', key: 'queryHeads', label: 'Query heads Hq (custom)', default: (d) => Math.max(1, d.H / 2), choices: (d) => divisorsOf(d.H) },
    { kind: 'int', key: 'kvHeads', label: 'KV heads Hkv (custom)', default: (d) => (d.Hs % 4 === 0 ? d.Hs / 4 : 1), choices: (d) => divisorsOf(d.Hs) },
  ],
  plan: (x, p) => {
    const { H, Hs } = x.dims;
    const v = SQA_VARIANTS[String(p.variant)];
    const Hq = v ? v.Hq(H) : num(p, 'queryHeads');
    const Hkv = v ? v.Hkv(H) : num(p, 'kvHeads');
    const name = v ? String(p.variant) : 'custom SQA';
    if (!Number.isInteger(Hq) || Hq < 1 || H % Hq !== 0) throw new ShapeError(`${name} needs ${v ? 'H/2 or H/4' : 'Hq'} query heads dividing H = ${H}; that is not a whole divisor here (pick custom, or a head count divisible by 4)`);
    if (!Number.isInteger(Hkv) || Hkv < 1 || Hs % Hkv !== 0) throw new ShapeError(`${name} needs ${Hkv} KV heads, which must divide the source's ${Hs} KV heads`);
    if (Hq % Hkv !== 0) throw new ShapeError(`${name}: ${Hq} query heads cannot share ${Hkv} KV heads evenly (Hq must be a multiple of Hkv; the RxNN code does not support Hkv > Hq)`);
    const q = poolHeads(x.input.q, Hq, 'query heads');
    const plan = basePlan(x.input, q, Hkv, contiguousMapping(Hq, Hkv), {
      slotOf: Array.from({ length: H }, (_, h) => Math.floor(h / (H / Hq))),
      caveats: [
        'A model trained with SQA has Hq query heads of its own; here each one is the mean of H/Hq of the source\'s query heads (an illustrative conversion, not from the paper), and source head h is compared with the SQA head standing in for it.',
      ],
    });
    plan.detail.activeQueryHeads = Hq;
    return plan;
  },
};

/** Every method, in the order of the picker. */
const qknormMethod: MethodDescriptor = {
  id: 'qknorm',
  family: 'grouping',
  label: 'QK-norm (LayerNorm of q and k)',
  summary: 'Every query and key is normalised per head over its d channels (LayerNorm without weight or bias, ε = 1e−6, as FiTv2 does before RoPE), so |q·k|/√d ≤ √d and no head can become arbitrarily sharp; the heads keep their K/V heads.',
  citation: { paper: 'FiTv2 (Wang et al. 2024, arXiv 2410.13925), QK-norm as in its attention', code: 'whlzy/FiT fit/model/modules.py (Attention.forward), norms.py::create_norm' },
  verified: 'code',
  params: [],
  plan: (x) => {
    const q = qkNorm(x.input.q);
    const k = qkNorm(x.input.k);
    const plan = basePlan({ ...x.input, k }, q, x.dims.Hs, contiguousMapping(x.dims.H, x.dims.Hs), {
      kvKey: 'qknorm',
      caveats: ['Applied to the queries and keys as the source gives them. FiTv2 normalises before RoPE: for a source with RoPE, pick "before RoPE" to compare like with like, since normalising after the rotation is not the same.'],
    });
    plan.detail.qkNorm = logitHistograms(x.input.q, x.input.k, q, k, x.causal ?? true);
    return plan;
  },
};

const ropeMethod: MethodDescriptor = {
  id: 'rope',
  family: 'grouping',
  label: 'RoPE (rotary positions on q and k)',
  summary: 'Rotates every query and key by its position, pair by pair at frequencies base^(−2i/d) (the Hugging Face formulation, half-split or interleaved pairs), so the scores depend on relative position; compare with the source to see what positions do to its attention.',
  citation: { paper: 'Su et al. 2021, "RoFormer: Enhanced Transformer with Rotary Position Embedding", arXiv 2104.09864', code: 'huggingface/transformers models/llama/modeling_llama.py (rotate_half, apply_rotary_pos_emb)' },
  verified: 'code',
  params: [
    { kind: 'enum', key: 'base', label: 'base θ', default: '10000', options: [{ value: '500', label: '500' }, { value: '10000', label: '10 000 (Llama 2)' }, { value: '500000', label: '500 000 (Llama 3)' }], help: 'larger bases turn the slow pairs more slowly: longer reach' },
    { kind: 'enum', key: 'layout', label: 'pairs', default: 'half', options: [{ value: 'half', label: 'half-split (Llama, rotate_half)' }, { value: 'interleaved', label: 'interleaved (GPT-J, RoFormer)' }] },
  ],
  plan: (x, p) => {
    const base = Number(p.base);
    const layout = String(p.layout) as 'half' | 'interleaved';
    const q = applyRope(x.input.q, base, layout);
    const k = applyRope(x.input.k, base, layout);
    return basePlan({ ...x.input, k }, q, x.dims.Hs, contiguousMapping(x.dims.H, x.dims.Hs), {
      kvKey: `rope:${base}:${layout}`,
      caveats: ['Applied to the queries and keys as the source gives them. A model\'s captured queries and keys already carry its RoPE: pick "before RoPE" to apply it (again) to the unrotated ones.'],
    });
  },
};

const mergelockMethod: MethodDescriptor = {
  id: 'mergelock',
  family: 'grouping',
  label: 'MergeLock (scrambled q, k, v; same attention)',
  summary: 'Multiplies each KV group\'s queries by a seeded invertible A, its keys by A^−T and its values by B: every number changes but q·k does not, so the attention maps are unchanged (the difference view shows float32 round-off only).',
  citation: { paper: 'MergeLock, arXiv 2509.01548 (the code is not available; the transform is derived from the algebra, ALGORITHMS.md §12.6)' },
  verified: 'paper',
  params: [
    { kind: 'int', key: 'seed', label: 'seed', default: 1, min: 0, max: 1_000_000 },
    { kind: 'enum', key: 'kind', label: 'A', default: 'general', options: [{ value: 'general', label: 'general (Gaussian, cond < 100)' }, { value: 'orthogonal', label: 'orthogonal' }, { value: 'rope-commuting', label: 'a scaled rotation per RoPE pair' }] },
  ],
  plan: (x, p) => {
    const locked = mergeLockQkv(x.input.q, x.input.k, x.input.v, Number(p.seed), String(p.kind) as AKind);
    const plan = basePlan({ ...x.input, k: locked.k, v: locked.v }, locked.q, x.dims.Hs, contiguousMapping(x.dims.H, x.dims.Hs), {
      kvKey: `mergelock:${p.seed}:${p.kind}`,
      caveats: ['The outputs are the source\'s times B; in a model the output projection absorbs B^−1 (the MergeLock panel runs a whole locked model). A general A keeps q·k here, where no RoPE follows; in a RoPE model only a rotation per pair commutes with the positions.'],
    });
    return plan;
  },
};

export const METHODS: MethodDescriptor[] = [mha, mqa, gqa, kdgqa, dgqa, pgqa, sqa, qknormMethod, ropeMethod, mergelockMethod];
export const METHOD_IDS = METHODS.map((m) => m.id);

export function getMethod(id: string): MethodDescriptor | undefined {
  return METHODS.find((m) => m.id === id);
}

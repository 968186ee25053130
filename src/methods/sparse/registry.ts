import { normalizeParams } from '../params';
import { blockCount } from './selection';
import { mobaOverheadFlops, mobaSelect } from './moba';
import { windowSelect } from './window';
import { flexPrefillSelect } from './flexprefill';
import { sparsedSchedule, sparsedSelect } from './sparsed';
import { thinkPrune } from './think';
import { saleSelect } from './sale';
import { nalaAttention } from './nalaformer';
import { emptySelection, reasonCode, allowedBy } from './selection';
import { invertPerm, type VideoGrid } from './videoGrid';
import { causalOnly, type SparseDescriptor, type SparsePlan } from './descriptor';
import { DRAFT, TOKENSELECT, VMOBA } from './videoMethods';
import type { MethodDims, ParamSpec, Params } from '../types';
import type { QKV } from '../../core/tensor';

export type { SparseDescriptor, SparsePlan } from './descriptor';

const mobaParams = (defaultBlock: (d: MethodDims) => number): ParamSpec[] => [
  { kind: 'int', key: 'block', label: 'Block size B', help: 'keys are pooled per block of B tokens; the visualiser default is N/8 (B ≥ N is dense causal)', default: defaultBlock, min: 1, max: 65536 },
  { kind: 'int', key: 'topk', label: 'Top-k blocks (incl. own)', help: 'blocks each query attends to, counting its own block', default: 3, min: 1, max: 64 },
];

/**
 * The token rule of a plan in the ORIGINAL token order: its selection (permuted for VMoBA and
 * DraftAttention) read through the permutation, the token rule and the causal mask.
 */
export function planAllowed(plan: Pick<SparsePlan, 'selection' | 'rule' | 'perm'>, causal: boolean): (h: number, i: number, j: number) => boolean {
  const inner = allowedBy(plan.selection, plan.rule, causal);
  if (!plan.perm) return inner;
  const inv = invertPerm(plan.perm);
  return (h, i, j) => inner(h, inv[i], inv[j]);
}


export const SPARSE_METHODS: SparseDescriptor[] = [
  {
    id: 'moba',
    family: 'sparse',
    label: 'MoBA (mixture of block attention)',
    summary: 'Each query attends to its own block and the top-k − 1 earlier blocks whose mean key scores highest against it (the gate has no 1/√d).',
    citation: { paper: 'Lu et al. 2025, "MoBA: Mixture of Block Attention for Long-Context LLMs", arXiv 2502.13189', code: 'MoonshotAI/MoBA @61e456b moba/moba_naive.py' },
    verified: 'code',
    params: mobaParams((d) => Math.max(1, Math.ceil(d.N / 8))),
    select: (x, p) => {
      causalOnly('MoBA', x.causal);
      const [H, N, d] = x.q.shape;
      const m = mobaSelect(x, { block: Number(p.block), topk: Number(p.topk) });
      return { selection: m.selection, rule: null, gate: m.gate, overhead: mobaOverheadFlops(H, x.k.shape[0], N, d, Number(p.block)), illustrative: [] };
    },
  },
  {
    id: 'flashmoba',
    family: 'sparse',
    label: 'FlashMoBA (small blocks, key convolution)',
    summary: 'MoBA routing with small blocks and a short causal convolution on the routing keys, as "Optimizing Mixture of Block Attention" proposes; the convolution here is a box filter.',
    citation: { paper: 'arXiv 2511.11571, "Optimizing Mixture of Block Attention"', code: 'mit-han-lab/flash-moba @39d9ac0' },
    verified: 'code',
    params: [
      ...mobaParams((d) => Math.max(1, Math.ceil(d.N / 16))),
      { kind: 'int', key: 'conv', label: 'Key convolution width W', help: 'causal box filter k̃[t] = mean of k[t−W+1 … t] (zeros before the start); 1 = none', default: 3, min: 1, max: 9 },
      {
        kind: 'enum',
        key: 'convKeys',
        label: 'Convolved keys used for',
        default: 'routing',
        options: [
          { value: 'routing', label: 'routing only' },
          { value: 'attention', label: 'routing and attention', illustrative: true },
        ],
      },
    ],
    select: (x, p) => {
      causalOnly('FlashMoBA', x.causal);
      const [H, N, d] = x.q.shape;
      const W = Number(p.conv);
      const m = mobaSelect(x, { block: Number(p.block), topk: Number(p.topk), convWidth: W });
      const attentionKeys = p.convKeys === 'attention' && W > 1 ? { shape: x.k.shape, data: m.routingKeys } : undefined;
      const illustrative = W > 1 ? ['The key convolution (width, box weights, routing-only) is illustrative: the paper learns it and its details were not verified (ALGORITHMS.md §4.2).'] : [];
      return { selection: m.selection, rule: null, gate: m.gate, attentionKeys, overhead: mobaOverheadFlops(H, x.k.shape[0], N, d, Number(p.block), W), illustrative };
    },
  },
  {
    id: 'flexprefill',
    family: 'sparse',
    label: 'FlexPrefill (query-aware or vertical-slash)',
    summary: 'Per head, the last block of queries measures which key columns and diagonals hold γ of the attention; heads whose pooled estimate is close (JS distance < τ) are query-aware and add a global γ-cover of block scores.',
    citation: { paper: 'Lai et al. 2025, "FlexPrefill: A Context-Aware Sparse Attention Mechanism for Efficient Long-Sequence Inference", ICLR 2025', code: 'bytedance/FlexPrefill @a24b27b flex_prefill/ops/flex_prefill_attention.py' },
    verified: 'code',
    params: [
      {
        kind: 'int',
        key: 'block',
        label: 'Block size b',
        help: 'the official kernel takes 32, 64 or 128 (code default 128); smaller blocks are an extension for short texts',
        default: (d) => (d.N >= 1024 ? 128 : Math.max(4, 2 ** Math.round(Math.log2(Math.max(1, d.N) / 8)))),
        choices: () => [4, 8, 16, 32, 64, 128],
      },
      { kind: 'number', key: 'gamma', label: 'γ (attention to cover)', help: 'README 0.9; RULER scripts 0.95', default: 0.9, min: 0.5, max: 0.99, step: 0.01 },
      { kind: 'number', key: 'tau', label: 'τ (query-aware threshold)', help: 'a head is query-aware when its JS distance is below τ; 0 disables it', default: 0.1, min: 0, max: 1, step: 0.01 },
      { kind: 'int', key: 'minBudget', label: 'Minimum budget (tokens)', help: 'code default 1; README 512, scripts 1024', default: 1, min: 1, max: 65536 },
      { kind: 'int', key: 'maxBudget', label: 'Maximum budget (tokens, 0 = none)', help: 'code default: none', default: 0, min: 0, max: 65536 },
      {
        kind: 'enum',
        key: 'divisor',
        label: 'Token budget → blocks',
        default: '128',
        options: [
          { value: '128', label: 'divide by 128, as the code (Quirk F1)' },
          { value: 'b', label: 'divide by b (intent)' },
        ],
      },
      {
        kind: 'enum',
        key: 'js',
        label: 'JS distance at exact zeros',
        default: 'faithful',
        options: [
          { value: 'faithful', label: '0·ln 0 = NaN → vertical-slash, as the code (Quirk F2)' },
          { value: 'intent', label: '0·ln 0 = 0 (intent)' },
        ],
      },
    ],
    select: (x, p) => {
      causalOnly('FlexPrefill', x.causal);
      const b = Number(p.block);
      const r = flexPrefillSelect(x, { block: b, gamma: Number(p.gamma), tau: Number(p.tau), minBudget: Number(p.minBudget), maxBudget: Number(p.maxBudget) > 0 ? Number(p.maxBudget) : null, divisor: p.divisor === 'b' ? 'b' : '128', js: p.js === 'intent' ? 'intent' : 'faithful' });
      const illustrative = [32, 64, 128].includes(b) ? [] : [`Block size ${b} is outside the official kernel's sizes (32, 64, 128): the selection follows the same rules, but the code would not run it.`];
      const { selection, overhead, ...flex } = r;
      return { selection, rule: null, overhead, illustrative, flex };
    },
  },
  {
    id: 'sale',
    family: 'sparse',
    label: 'SALE (4-bit estimation)',
    summary: 'Centred queries and keys quantised to 4 bits estimate every logit; a block outside the sink and the local window is computed when some estimated weight, relative to the exact sink-and-local softmax, exceeds τ.',
    citation: { paper: 'arXiv 2505.24179, "SALE: Low-bit Estimation for Efficient Sparse Attention in Long-context LLM Prefilling"', code: 'BirdChristopher/SALE @39d380c csrc/flash_attn/src/flash_fwd_int4_sparse_kernel_v2.h' },
    verified: 'code',
    params: [
      { kind: 'int', key: 'bq', label: 'Query block rows', help: '64 in the code (it must be 64); smaller here for short texts', default: (d) => (d.N >= 512 ? 64 : Math.max(2, 2 ** Math.round(Math.log2(Math.max(1, d.N) / 8)))), choices: () => [2, 4, 8, 16, 32, 64] },
      { kind: 'int', key: 'bk', label: 'Key block columns', help: '32 in the code', default: (d) => (d.N >= 512 ? 32 : Math.max(1, 2 ** Math.round(Math.log2(Math.max(1, d.N) / 16)))), choices: () => [1, 2, 4, 8, 16, 32] },
      { kind: 'number', key: 'tau', label: 'τ (relative score threshold)', help: 'README example 0.004; calibration starts at 0.008; below 1e−5 the head is dense', default: 0.004, min: 0, max: 0.5, step: 0.001 },
    ],
    select: (x, p) => {
      causalOnly('SALE', x.causal);
      const bq = Number(p.bq);
      const bk = Number(p.bk);
      const r = saleSelect(x, { bq, bk, tau: Number(p.tau) });
      const illustrative = ['The local window is the spec\'s simplified range (the key blocks covering one query block back and its own; the kernel widens it to whole segments) [U-simplified, ALGORITHMS.md §7].'];
      if (bq !== 64 || bk !== 32) illustrative.push(`Blocks of ${bq} × ${bk} instead of the code's 64 × 32 (and a local window of ${2 * bq} keys instead of 128), for short texts.`);
      return { selection: r.selection, rule: null, overhead: r.overhead, illustrative };
    },
  },
  {
    id: 'sparsed',
    family: 'sparse',
    label: 'SparseD (diffusion LMs)',
    summary: 'For a bidirectional diffusion LM: dense attention for the first steps, then at one step a per-head block pattern (top tiles of every query block, with the generation keys selected separately) reused for every later step.',
    citation: { paper: 'Wang et al. 2025, "SparseD: Sparse Attention for Diffusion Language Models", arXiv 2509.24014', code: 'INV-WZQ/SparseD @52155b4 models/LLaDA/SparseD_utils.py' },
    verified: 'code',
    params: [
      { kind: 'int', key: 'block', label: 'Block size b', help: '128 by default, 32 for short contexts; smaller here for short texts', default: (d) => (d.N >= 1024 ? 128 : d.N >= 256 ? 32 : Math.max(2, 2 ** Math.round(Math.log2(Math.max(1, d.N) / 8)))), min: 1, max: 65536 },
      { kind: 'number', key: 'select', label: 'Selection ratio ρ', help: '0.3 by default, 0.5 for short contexts; keeps ⌊n·ρ⌋ + 1 tiles (Quirk D2)', default: 0.3, min: 0.01, max: 1, step: 0.01 },
      { kind: 'int', key: 'gen', label: 'Generation tokens', help: 'the masked tokens being generated, at the end of the sequence', default: (d) => Math.floor(d.N / 2), min: 0, max: (d) => Math.max(0, d.N) },
      { kind: 'int', key: 'steps', label: 'Denoising steps T', help: 'for the schedule: dense before ⌊T·skip⌋ + 1, the pattern at that step, then sparse', default: 128, min: 1, max: 4096 },
      { kind: 'number', key: 'skip', label: 'skip (share of dense steps)', default: 0.2, min: 0, max: 0.99, step: 0.01 },
    ],
    mask: 'bidirectional',
    select: (x, p) => {
      if (x.causal) throw new Error('SparseD is for bidirectional diffusion LMs; switch the causal mask off');
      const b = Number(p.block);
      const nGen = Number(p.gen);
      const r = sparsedSelect(x, { block: b, select: Number(p.select), nGen });
      const steps = Number(p.steps);
      const skip = Number(p.skip);
      return { selection: r.selection, rule: null, overhead: r.overhead, illustrative: [], sparsed: { L: r.L, k1: r.k1, k2: r.k2, nGen, block: b, steps, skip, schedule: sparsedSchedule(steps, skip) } };
    },
  },
  {
    id: 'think',
    family: 'sparse',
    label: 'ThinK (key-channel pruning)',
    summary: 'Prunes the key channels that matter least to the last queries (score = Σq² · Σk² per channel) for all but the most recent keys: every token is kept, each key is thinner.',
    citation: { paper: 'Xu et al. 2025, "ThinK: Thinner Key Cache by Query-Driven Pruning", ICLR 2025', code: 'SalesforceAIResearch/ThinK @d200577 ThinK_eager/src/kv_pruning_utils.py' },
    verified: 'code',
    mask: 'either',
    params: [
      { kind: 'number', key: 'lambda', label: 'Pruning ratio λ', help: 'share of key channels pruned per head (default 0.4; 0.5 also used)', default: 0.4, min: 0, max: 0.95, step: 0.05 },
      { kind: 'int', key: 'recent', label: 'Recent keys kept whole', help: 'recent_size: the most recent keys keep every channel (default 32)', default: (d) => Math.min(32, Math.max(0, Math.floor(d.N / 4))), min: 0, max: 65536 },
      { kind: 'int', key: 'obs', label: 'Observation window', help: 'the last queries whose squares score the channels (default 32)', default: (d) => Math.max(1, Math.min(32, d.N)), min: 1, max: 65536 },
    ],
    select: (x, p) => {
      const [H, N] = x.q.shape;
      const lambda = Number(p.lambda);
      const recent = Number(p.recent);
      const obs = Number(p.obs);
      const r = thinkPrune(x, { lambda, recent, obs });
      // Every key is kept: one block over the whole map, so the grid does not pretend to select.
      const selection = emptySelection(H, N, N, N, N);
      selection.codes.fill(reasonCode('forced'));
      return { selection, rule: null, overhead: r.overhead, illustrative: [], gridless: true, denseInputs: { k: r.k, v: r.v }, think: { scores: r.scores, pruned: r.pruned, cacheSaving: r.cacheSaving, lambda, recent, obs } };
    },
  },
  {
    id: 'nalaformer',
    family: 'sparse',
    label: 'NaLaFormer (norm-aware linear attention)',
    summary: 'Linear attention whose query features are powered by a norm-dependent exponent (spikier for longer queries) and whose features keep only same-sign channel products; compared here with softmax attention.',
    citation: { paper: 'Meng et al., "NaLaFormer: Norm-Aware Linear Attention", arXiv 2506.21137', code: 'ZacharyMeng/NaLaFormer @1f1c10a NaLaformer/NALA.py' },
    verified: 'code',
    params: [],
    mask: 'bidirectional',
    select: (x) => {
      if (x.causal) throw new Error('NaLaFormer is the non-causal attention of a vision backbone (its causal variants are unverified); switch the causal mask off');
      const [H, N, d] = x.q.shape;
      const selection = emptySelection(H, N, N, N, N);
      selection.codes.fill(reasonCode('forced'));
      const direct = nalaAttention(x);
      return {
        selection,
        rule: null,
        gridless: true,
        direct,
        overhead: H * N * 2 * d * 4,
        illustrative: ["The no-RoPE view: the code's numerator uses 2-D RoPE features (so its weights can be negative and need not sum to 1); that view, LePE and the output gate are not drawn here."],
      };
    },
  },
  VMOBA,
  DRAFT,
  TOKENSELECT,
  {
    id: 'window',
    family: 'sparse',
    label: 'Sliding window + sinks (StreamingLLM)',
    summary: 'Each query sees the last w tokens (itself included) and the first few "sink" tokens: the baseline pattern of StreamingLLM and of local attention.',
    citation: { paper: 'Xiao et al. 2023, "Efficient Streaming Language Models with Attention Sinks", arXiv 2309.17453', code: 'mit-han-lab/streaming-llm @2e50426; FlexPrefill streaming_llm_attention.py' },
    verified: 'code',
    params: [
      { kind: 'int', key: 'window', label: 'Window w (tokens)', help: 'keys within w positions, the query itself included', default: (d) => Math.max(1, Math.ceil(d.N / 4)), min: 1, max: (d) => Math.max(1, d.N) },
      { kind: 'int', key: 'sinks', label: 'Sink tokens', help: 'the first tokens every query keeps (StreamingLLM start_size = 4)', default: 4, min: 0, max: (d) => Math.max(0, d.N) },
      { kind: 'int', key: 'block', label: 'Block size of the grid', help: 'tiles of the block grid and the kernel; the mask itself is per token', default: (d) => Math.max(1, Math.ceil(d.N / 8)), min: 1, max: (d) => Math.max(1, d.N) },
    ],
    select: (x, p) => {
      causalOnly('The sliding window', x.causal);
      const [H, N] = x.q.shape;
      const w = windowSelect(H, N, { window: Number(p.window), sinks: Number(p.sinks), block: Number(p.block) });
      return { selection: w.selection, rule: w.rule, overhead: 0, illustrative: [] };
    },
  },
];

/** A sparse method by id. */
export function getSparseMethod(id: string): SparseDescriptor | undefined {
  return SPARSE_METHODS.find((m) => m.id === id);
}

/** Parameters of a sparse method for an input, defaults filled (strict: a bad value throws). */
export function sparseParams(m: SparseDescriptor, x: QKV & { grid?: VideoGrid }, given: Record<string, unknown>, strict: boolean): { params: Params; messages: string[] } {
  const [H, N, d] = x.q.shape;
  const dims: MethodDims = { H, Hs: x.k.shape[0], N, d, dv: x.v.shape[2], steps: 1, grid: x.grid };
  const r = normalizeParams(m, dims, given, strict);
  if (r.params.topk !== undefined && r.params.block !== undefined) {
    const nb = blockCount(N, Number(r.params.block));
    if (Number(r.params.topk) > nb) r.messages.push(`top-k ${r.params.topk} is more than the ${nb} blocks: every query keeps every earlier block (dense causal)`);
  }
  return r;
}

import { reasonCode } from './selection';
import { partitionOfLayer, vmobaSelect, type Partition, type VmobaScope } from './vmoba';
import { draftSelect } from './draft';
import { tokenSelect } from './tokenselect';
import { guessGrid, type VideoGrid } from './videoGrid';
import { causalOnly, type SparseDescriptor } from './descriptor';
import { divisorsOf } from '../../core/numeric';
import type { MethodDims, ParamSpec, Params } from '../types';

/**
 * The sparse methods of video transformers (VMoBA, DraftAttention, ALGORITHMS.md §5, §9), which
 * read the tokens as a frames × height × width grid, and TokenSelect (§10).
 */

/** The grid a source is read as: its own, or one frame as square as N allows. */
function gridOf(d: MethodDims): VideoGrid {
  return d.grid ?? guessGrid(d.N);
}

/** The divisor of n closest to n / 2 (1 for n = 1): a chunk that cuts the grid in two. */
function halfDivisor(n: number): number {
  const ds = divisorsOf(Math.max(1, n)).filter((x) => x < n || n === 1);
  return ds.reduce((a, b) => (Math.abs(b - n / 2) < Math.abs(a - n / 2) ? b : a), 1);
}

/** Frames, height and width of a video-like input (defaults: the source's grid). */
function gridParams(help = 'tokens are read as frames × height × width, time slowest'): ParamSpec[] {
  return [
    { kind: 'int', key: 'frames', label: 'Frames T', help, default: (d) => gridOf(d).T, min: 1, max: (d) => Math.max(1, d.N) },
    { kind: 'int', key: 'height', label: 'Grid height', default: (d) => gridOf(d).Hp, min: 1, max: (d) => Math.max(1, d.N) },
    { kind: 'int', key: 'width', label: 'Grid width', default: (d) => gridOf(d).Wp, min: 1, max: (d) => Math.max(1, d.N) },
  ];
}

function gridParam(p: Params, N: number, upTo = false): VideoGrid {
  const g = { T: Number(p.frames), Hp: Number(p.height), Wp: Number(p.width) };
  const n = g.T * g.Hp * g.Wp;
  if (upTo ? n > N : n !== N) throw new Error(`the grid ${g.T} × ${g.Hp} × ${g.Wp} holds ${n} tokens; this input has ${N}${upTo ? ' (the grid may leave text tokens after it, not more)' : ''}: set frames × height × width to match`);
  return g;
}

export const VMOBA: SparseDescriptor = {
  id: 'vmoba',
  family: 'sparse',
  label: 'VMoBA (video MoBA)',
  summary: 'For a video DiT: tokens of a frames × height × width grid are cut into 1D (frames), 2D (spatial patches) or 3D (spatio-temporal) chunks that change with the layer; each query keeps its own chunk and the chunks whose mean key scores highest, by top-k or until a share τ of the gate mass is covered.',
  citation: { paper: 'Wu et al. 2025, "VMoBA: Mixture-of-Block Attention for Video Diffusion Models", arXiv 2506.23858', code: 'KwaiVGI/VMoBA @4da72ff src/vmoba.py' },
  verified: 'code',
  mask: 'bidirectional',
  params: [
    ...gridParams(),
    {
      kind: 'enum',
      key: 'partition',
      label: 'Partition',
      help: 'the chunking; "by layer" follows the cyclic 1D → 2D → 3D schedule (its order and offset are unverified)',
      default: 'layer',
      options: [
        { value: 'layer', label: 'by layer: 1D, 2D, 3D for l mod 3 = 0, 1, 2', illustrative: true },
        { value: '1d', label: '1D temporal (frames)' },
        { value: '2d', label: '2D spatial (patches across all frames)' },
        { value: '3d', label: '3D spatio-temporal' },
      ],
    },
    { kind: 'int', key: 'layer', label: 'Layer l', help: 'picks the partition when it goes by layer', default: 0, min: 0, max: 999 },
    { kind: 'number', key: 'ct1', label: '1D chunk (frames)', help: 'B = int(frames × height × width) tokens; a partial last chunk is allowed', default: 1, min: 0.05, max: 64, step: 0.05 },
    { kind: 'int', key: 'ch', label: '2D/3D chunk height', help: 'a divisor of the grid height', default: (d) => halfDivisor(gridOf(d).Hp), min: 1, max: (d) => Math.max(1, d.N) },
    { kind: 'int', key: 'cw', label: '2D/3D chunk width', help: 'a divisor of the grid width', default: (d) => halfDivisor(gridOf(d).Wp), min: 1, max: (d) => Math.max(1, d.N) },
    { kind: 'int', key: 'ct3', label: '3D chunk frames', help: 'a divisor of the frame count', default: (d) => halfDivisor(gridOf(d).T), min: 1, max: (d) => Math.max(1, d.N) },
    {
      kind: 'enum',
      key: 'mode',
      label: 'Selection',
      default: 'threshold',
      options: [
        { value: 'threshold', label: 'threshold: cover τ of the gate mass (code default)' },
        { value: 'topk', label: 'top-k chunks (including its own)' },
      ],
    },
    {
      kind: 'enum',
      key: 'scope',
      label: 'Threshold scope',
      help: 'over what the gate is normalised and τ counted; the code defaults to per query and head',
      default: 'head_global',
      options: [
        { value: 'head_global', label: 'per head, all queries (the paper\'s global selection)', illustrative: true },
        { value: 'query_head', label: 'per query and head (code default)' },
        { value: 'block', label: 'per chunk, all queries and heads' },
        { value: 'overall', label: 'everything at once' },
      ],
    },
    { kind: 'number', key: 'tau', label: 'τ (gate mass to cover)', help: 'simsum_threshold, 0.25 in the code', default: 0.25, min: 0, max: 1, step: 0.01 },
    { kind: 'int', key: 'topk', label: 'Top-k chunks', help: 'in top-k mode, counting the own chunk', default: 3, min: 1, max: 4096 },
  ],
  select: (x, p) => {
    if (x.causal) throw new Error('VMoBA is the bidirectional attention of a video diffusion transformer; switch the causal mask off');
    const N = x.q.shape[1];
    const grid = gridParam(p, N);
    const byLayer = p.partition === 'layer';
    const layer = Number(p.layer);
    const partition = byLayer ? partitionOfLayer(layer) : (p.partition as Partition);
    const mode = p.mode === 'topk' ? 'topk' : 'threshold';
    const scope = String(p.scope) as VmobaScope;
    const r = vmobaSelect(x, { grid, partition, ct: partition === '3d' ? Number(p.ct3) : Number(p.ct1), ch: Number(p.ch), cw: Number(p.cw), mode, topk: Number(p.topk), scope, tau: Number(p.tau) });
    const illustrative: string[] = [];
    if (byLayer) illustrative.push(`Layer ${layer} uses the ${partition.toUpperCase()} partition by the cyclic schedule l mod 3 → 1D, 2D, 3D; the paper describes a cycle, but its order and offset are our assumption [U, ALGORITHMS.md §5.1].`);
    if (mode === 'threshold' && scope === 'head_global') illustrative.push('The paper\'s "global block selection" read as the per-head scope over all queries (head_global) [U mapping, §5.3]; the code defaults to per query and head.');
    illustrative.push('Chunk sizes are inputs here: the paper\'s were not verified [U, §5.1].');
    const selection = r.selection;
    if (r.denseFallback) selection.codes.fill(reasonCode('forced'));
    return {
      selection,
      rule: null,
      perm: r.perm,
      gate: r.gate,
      overhead: r.overhead,
      illustrative,
      vmoba: { grid, partition, byLayer, layer, block: r.block, nchunks: r.nchunks, denseFallback: r.denseFallback, mode, scope },
    };
  },
};

export const DRAFT: SparseDescriptor = {
  id: 'draft',
  family: 'sparse',
  label: 'DraftAttention (low-resolution guide)',
  summary: 'For a video DiT: each frame\'s queries and keys are average-pooled over cells; the softmax of the pooled scores (the draft map) keeps its largest cell pairs, which become the blocks computed after a reorder that makes each cell contiguous; text tokens stay dense.',
  citation: { paper: 'Shen et al. 2025, "DraftAttention: Fast Video Diffusion via Low-Resolution Attention Guidance", arXiv 2505.14708', code: 'shawnricecake/draft-attention @f3c81d5 draft_attention.py' },
  verified: 'code',
  mask: 'bidirectional',
  params: [
    ...gridParams('visual tokens; any tokens after the grid are text, kept dense'),
    { kind: 'int', key: 'ph', label: 'Pool height', help: '8 in the code (8 × 16 = 128 tokens per cell); a divisor of the grid height', default: (d) => halfDivisor(gridOf(d).Hp), min: 1, max: (d) => Math.max(1, d.N) },
    { kind: 'int', key: 'pw', label: 'Pool width', help: '16 in the code; a divisor of the grid width', default: (d) => halfDivisor(gridOf(d).Wp), min: 1, max: (d) => Math.max(1, d.N) },
    { kind: 'number', key: 'sparsity', label: 'Sparsity σ', help: '0.9 in the code: keeps the top 1 − σ of the draft map (plus one, Quirk R1)', default: 0.9, min: 0, max: 1, step: 0.01 },
  ],
  select: (x, p) => {
    if (x.causal) throw new Error('DraftAttention is the bidirectional attention of a video diffusion transformer; switch the causal mask off');
    const [, N] = x.q.shape;
    const grid = gridParam(p, N, true);
    const ph = Number(p.ph);
    const pw = Number(p.pw);
    const sparsity = Number(p.sparsity);
    const r = draftSelect(x, { grid, ph, pw, sparsity });
    const illustrative = ph === 8 && pw === 16 ? [] : [`Cells of ${ph} × ${pw} = ${ph * pw} tokens instead of the code's 8 × 16 = 128 (its block-sparse kernel's tile), for a small grid.`];
    return {
      selection: r.selection,
      rule: null,
      perm: r.perm,
      overhead: r.overhead,
      illustrative,
      draft: { grid, ph, pw, S: r.S, block: r.block, draft: r.draft, keep: r.keep, theta: r.theta, text: r.text, sparsity },
    };
  },
};

export const TOKENSELECT: SparseDescriptor = {
  id: 'tokenselect',
  family: 'sparse',
  label: 'TokenSelect (token-level voting)',
  summary: 'Per query chunk, a fingerprint query (the chunk\'s queries rotated to n_local + r and averaged) scores every middle key; each head\'s softmax is one vote, and the top-k tokens by summed vote join the sink and recent tokens, shared by every head.',
  citation: { paper: 'Wu et al. 2025, "TokenSelect: Efficient Long-Context Inference and Length Extrapolation for LLMs via Dynamic Token-Level KV Cache Selection", EMNLP 2025', code: 'pzs19/TokenSelect @8e1e97f patcher/token_retrieval.py' },
  verified: 'code',
  params: [
    { kind: 'int', key: 'nInit', label: 'Sink tokens n_init', help: '1 in patch(); 128 in the Llama-3 config', default: 1, min: 0, max: 65536 },
    { kind: 'int', key: 'nLocal', label: 'Recent tokens n_local', help: '16 in patch(); 512 in the Llama-3 config', default: 16, min: 0, max: 65536 },
    { kind: 'int', key: 'topk', label: 'Selected tokens k', help: '16 in patch(); 2048 in the Llama-3 config', default: 16, min: 1, max: 65536 },
    { kind: 'int', key: 'chunk', label: 'Query chunk (prefill)', help: 'PREFILL_CHUNK_SIZE = 512: each chunk of queries gets its own selection', default: 512, min: 1, max: 65536 },
    {
      kind: 'enum',
      key: 'rotate',
      label: 'QUERY_ROTATE',
      default: 'on',
      options: [
        { value: 'on', label: 'rotate queries to n_local + r (code)' },
        { value: 'off', label: 'plain mean of the queries' },
      ],
    },
    { kind: 'int', key: 'base', label: 'RoPE base θ', help: '500000 for Llama-3', default: 500000, min: 2, max: 100000000 },
    { kind: 'int', key: 'kernel', label: 'Vote smoothing (max-pool)', help: 'KERNEL_SIZE per dataset, 0 = off; odd sizes here', default: 0, choices: () => [0, 3, 5, 7, 9, 11, 13] },
    {
      kind: 'enum',
      key: 'mapping',
      label: 'Query head → KV head',
      default: 'interleaved',
      options: [
        { value: 'interleaved', label: 'h mod Hkv, as the kernel (Quirk T1)' },
        { value: 'contiguous', label: '⌊h / g⌋, as Hugging Face GQA (intent)' },
      ],
    },
  ],
  select: (x, p) => {
    causalOnly('TokenSelect', x.causal);
    const nInit = Number(p.nInit);
    const nLocal = Number(p.nLocal);
    const topk = Number(p.topk);
    const chunk = Number(p.chunk);
    const r = tokenSelect(x, { nInit, nLocal, topk, chunk, rotate: p.rotate !== 'off', base: Number(p.base), kernel: Number(p.kernel), mapping: p.mapping === 'contiguous' ? 'contiguous' : 'interleaved' });
    const illustrative = [
      'Attention over the kept tokens uses the source\'s own queries and keys. The code re-applies RoPE inside FlashInfer on the gathered keys, probably at compact positions within the kept set [U, ALGORITHMS.md §10 step 9]; that step is not drawn.',
      'The votes treat the source\'s keys as un-rotated (the code stores keys before RoPE); for a dump with pre-RoPE copies pick "before RoPE" in the source panel.',
    ];
    return { selection: r.selection, rule: null, overhead: r.overhead, illustrative, tokenselect: { chunks: r.chunks, nInit, nLocal, topk, chunk } };
  },
};

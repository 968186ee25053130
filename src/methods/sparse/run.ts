import { attentionDims, type QKV } from '../../core/tensor';
import { type BlockSelection, type TokenRule } from './selection';
import { getSparseMethod, planAllowed, sparseParams, type SparsePlan } from './registry';
import { permuteRows, unpermuteRows, unpermuteSquare, type VideoGrid } from './videoGrid';
import { draftCellOf, draftCorrelation } from './draft';
import { sparseMetrics, type SparseMetrics } from './sparseMetrics';
import type { Params } from '../types';

/** The kernel the method runs on: block-sparse attention over a selection (the app's worker, or a backend). */
export type AttendSparse = (inputs: QKV, options: { causal: boolean; scale: number | null }, sel: BlockSelection, rule: TokenRule | null) => Promise<{ weights: Float32Array; output: Float32Array; pairs: number; computed: number }>;
/** Dense attention of the source (the reference every metric compares with). */
export type AttendDense = (inputs: QKV, options: { causal: boolean; scale: number | null }) => Promise<{ weights: Float32Array; output: Float32Array }>;

/** A sparse method's result: its choice, its attention, the dense reference and the §0.7 metrics. */
export interface SparseRun extends SparsePlan {
  id: string;
  params: Params;
  weights: Float32Array;
  output: Float32Array;
  refWeights: Float32Array;
  refOutput: Float32Array;
  metrics: SparseMetrics;
  /** Pairs the kernel computed (the union of a tile's blocks, so ≥ the allowed pairs). */
  computedPairs: number;
  messages: string[];
  /** DraftAttention: Pearson's r between the draft map and the dense attention pooled to cells, per head. */
  draftCorr?: number[];
}

/**
 * Runs sparse method `id` on `input`: its selection (plain TypeScript), the block-sparse
 * attention over it, the dense reference, and density, recall, output error and FLOPs.
 * `strict` makes a bad parameter throw (the library); otherwise it is replaced and explained.
 */
export async function runSparse(id: string, input: QKV & { causal?: boolean; scale?: number | null; grid?: VideoGrid }, given: Record<string, unknown>, attend: AttendSparse, dense: AttendDense, opts: { strict?: boolean; reference?: { weights: Float32Array; output: Float32Array } } = {}): Promise<SparseRun> {
  const m = getSparseMethod(id);
  if (!m) throw new Error(`there is no sparse method "${String(id).slice(0, 40)}"`);
  const { H, Nq, Nk, d, dv } = attentionDims(input);
  if (Nq !== Nk) throw new Error(`${m.label} selects for self-attention prefill; this input has ${Nq} queries and ${Nk} keys`);
  const causal = input.causal ?? true;
  const scale = input.scale ?? null;
  const { params, messages } = sparseParams(m, input, given, opts.strict ?? false);
  const plan = m.select({ q: input.q, k: input.k, v: input.v, causal }, params);
  const inputs = { q: input.q, k: plan.attentionKeys ?? input.k, v: input.v };
  const run = plan.direct
    ? Promise.resolve({ ...plan.direct, pairs: -1, computed: -1 })
    : plan.denseInputs
    ? dense({ q: input.q, ...plan.denseInputs }, { causal, scale }).then((r) => ({ ...r, pairs: -1, computed: -1 }))
    : plan.perm
    ? attendPermuted(attend, inputs, { causal, scale }, plan as SparsePlan & { perm: Int32Array })
    : attend(inputs, { causal, scale }, plan.selection, plan.rule);
  const [sparse, ref] = await Promise.all([run, opts.reference ?? dense({ q: input.q, k: input.k, v: input.v }, { causal, scale })]);
  const allowed = planAllowed(plan, causal);
  const metrics = sparseMetrics({ allowed, H, Nq, Nk, d, dv, causal, denseWeights: ref.weights, output: sparse.output, denseOutput: ref.output, overhead: plan.overhead });
  if (plan.direct) {
    // Linear attention: 4·d per pair for the 2d-wide feature dot product and the value sum.
    metrics.flops.attention = 2 * (2 * d + dv) * (metrics.flops.dense / (2 * (d + dv)));
    sparse.pairs = sparse.computed = metrics.flops.dense / (2 * (d + dv));
  }
  if (plan.think) {
    // Every pair is kept; a key outside the recent window costs only its kept channels in q·k.
    const firstRecent = Math.max(0, Nk - plan.think.recent);
    let fl = 0;
    for (let h = 0; h < H; h++)
      for (let i = 0; i < Nq; i++) {
        const last = causal ? Math.min(Nk - 1, i + Nk - Nq) : Nk - 1;
        const old = Math.max(0, Math.min(last + 1, firstRecent));
        fl += 2 * (d - plan.think.pruned[h].length) * old + 2 * d * (last + 1 - old) + 2 * dv * (last + 1);
      }
    metrics.flops.attention = fl;
    sparse.pairs = sparse.computed = metrics.flops.dense / (2 * (d + dv));
  }
  let draftCorr: number[] | undefined;
  if (plan.draft) {
    const { grid, ph, pw, S, draft } = plan.draft;
    draftCorr = draftCorrelation(ref.weights, draft, H, Nq, S, draftCellOf(grid, ph, pw), grid.T * grid.Hp * grid.Wp);
  }
  return { ...plan, id, params, draftCorr, weights: sparse.weights, output: sparse.output, refWeights: ref.weights, refOutput: ref.output, metrics, computedPairs: sparse.computed, messages };
}

/**
 * Block-sparse attention of a method that reorders tokens (VMoBA, DraftAttention): the inputs go
 * to the kernel in permuted order, where each chunk is a contiguous block, and the weights and
 * outputs come back in the original order. (Both methods are bidirectional, so the order does
 * not change which pairs are causal.)
 */
async function attendPermuted(attend: AttendSparse, x: QKV, o: { causal: boolean; scale: number | null }, plan: SparsePlan & { perm: Int32Array }) {
  const { perm } = plan;
  const [H, N, d] = x.q.shape;
  const [Hkv, , dv] = x.v.shape;
  const permuted = {
    q: { shape: x.q.shape, data: permuteRows(x.q.data, H, N, d, perm) },
    k: { shape: x.k.shape, data: permuteRows(x.k.data, Hkv, N, x.k.shape[2], perm) },
    v: { shape: x.v.shape, data: permuteRows(x.v.data, Hkv, N, dv, perm) },
  };
  const r = await attend(permuted, o, plan.selection, plan.rule);
  return { ...r, weights: unpermuteSquare(r.weights, H, N, perm), output: unpermuteRows(r.output, H, N, dv, perm) };
}

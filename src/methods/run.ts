import { attentionDims, fmtShape, ShapeError, type QKV } from '../core/tensor';
import { gatherHeads, isContiguousUniform } from './heads';
import { costs, outputError } from './metrics';
import { normalizeParams } from './params';
import { getMethod, METHOD_IDS } from './registry';
import type { GroupingResult, MethodInput, Params } from './types';
import type { HeadCache } from './headCache';

/** Per-head statistics as the compute layer returns them. */
export interface HeadStatsArrays {
  entropy: Float32Array;
  distance: Float32Array;
  sinkMass: Float32Array;
}

/** One attention computation a method asks for (MHA/GQA shapes, contiguous mapping). */
export interface AttendRequest {
  inputs: QKV;
  causal: boolean;
  scale: number | null;
  /** A deterministic name of these inputs, for caches (absent: do not cache). */
  key?: string;
  scores?: boolean;
}

export interface AttendResult {
  weights: Float32Array;
  output: Float32Array;
  scores?: Float32Array;
  stats?: HeadStatsArrays;
}

/** Computes dense attention: the compute layer in the library, the worker client in the app. */
export type Attend = (r: AttendRequest) => Promise<AttendResult>;

export interface RunOptions {
  /** Throw on a bad parameter (library) instead of replacing it by its default with a message (app). */
  strict?: boolean;
  /** The source's attention of `input` when the caller already has it (saves one computation). */
  reference?: AttendResult;
  /** A deterministic name of the input, so that `attend` may cache by it. */
  cacheKey?: string;
  /** Also return the method's pre-softmax scores. */
  scores?: boolean;
  /**
   * Per-head results kept between runs (needs `cacheKey`): only query heads whose (query, KV)
   * pair is new are computed, in one request.
   */
  headCache?: HeadCache;
}

/** A method's result with the parameters it ran with. */
export interface MethodRun extends GroupingResult {
  params: Params;
  /** Replaced parameters (non-strict runs). */
  messages: string[];
  /** Per-head statistics of the method's maps, when the compute layer gave them. */
  stats?: HeadStatsArrays;
  refStats?: HeadStatsArrays;
  /** Index of the step whose input is shown (DGQA); 0 otherwise. */
  step: number;
  /** Query heads whose attention was computed in this run (the others came from the head cache). */
  computedHeads: number;
}

function sameShape(a: QKV, b: QKV): boolean {
  return (['q', 'k', 'v'] as const).every((n) => a[n].shape.length === b[n].shape.length && a[n].shape.every((x, i) => x === b[n].shape[i]));
}

/**
 * Runs a grouping method (ALGORITHMS.md §1–§3) on `input`: the pure part (pooling, allocation,
 * noise) in TypeScript, the attention through `attend`, then the metrics of §0.7 against the
 * source's own attention. Throws a clear error for an unknown method, bad shapes or a group
 * count that does not divide the heads.
 */
export async function runGrouping(id: string, input: MethodInput, given: Record<string, unknown>, attend: Attend, opts: RunOptions = {}): Promise<MethodRun> {
  const m = getMethod(id);
  if (!m) throw new Error(`unknown method "${String(id).slice(0, 40)}"; expected one of ${METHOD_IDS.join(', ')}`);
  const dimsQ = attentionDims(input);
  const steps = input.steps && input.steps.length ? input.steps : [input];
  steps.forEach((s, i) => {
    attentionDims(s);
    if (!sameShape(s, input)) throw new ShapeError(`step ${i} has q ${fmtShape(s.q.shape)}, k ${fmtShape(s.k.shape)}; every step must have the shapes of the input (q ${fmtShape(input.q.shape)}, k ${fmtShape(input.k.shape)})`);
  });
  if (dimsQ.Nq !== dimsQ.Nk) throw new ShapeError(`grouping methods need self-attention (Nq = Nk); got Nq = ${dimsQ.Nq}, Nk = ${dimsQ.Nk}`);
  const dims = { H: dimsQ.H, Hs: dimsQ.Hkv, N: dimsQ.Nq, d: dimsQ.d, dv: dimsQ.dv, steps: steps.length };
  const { params, messages } = normalizeParams(m, dims, given, opts.strict);
  const causal = input.causal ?? true;
  const scale = input.scale ?? null;
  const plan = m.plan({ input, steps, dims, causal }, params);
  const shown = id === 'dgqa' ? steps[plan.step] : input;
  const base = opts.cacheKey;

  // The reference: the source's own attention of the shown input.
  const ref =
    shown === input && opts.reference
      ? opts.reference
      : await attend({ inputs: shown, causal, scale, key: base === undefined ? undefined : `${base}|ref@${plan.step}`, scores: false });

  const Hm = plan.q.shape[0];
  const G = plan.k.shape[0];
  let got: AttendResult;
  let computed = 0;
  let byHeadMaps: { headWeights: Float32Array[]; headScores?: Float32Array[] } | null = null;
  const identity = id === 'mha' && shown === input;
  if (identity && (!opts.scores || ref.scores)) got = ref;
  else {
    const qName = Hm === dims.H ? 'q' : `qpool${Hm}`;
    if (opts.headCache && base !== undefined) {
      const byHead = await attendByHead(plan.q, plan.k, plan.v, plan.mapping, `${base}|${qName}@${plan.step}|${plan.kvKey}|${opts.scores ? 's' : ''}`, opts.headCache, (inputs) => attend({ inputs, causal, scale, scores: opts.scores }));
      byHeadMaps = byHead;
      got = { weights: new Float32Array(0), output: byHead.output, stats: byHead.stats };
      computed = byHead.computed;
    } else {
      const uniform = isContiguousUniform(plan.mapping, G);
      const inputs: QKV = uniform ? { q: plan.q, k: plan.k, v: plan.v } : { q: plan.q, k: gatherHeads(plan.k, plan.mapping), v: gatherHeads(plan.v, plan.mapping) };
      const key = base === undefined ? undefined : `${base}|${qName}@${plan.step}|${plan.kvKey}|${plan.mapping.join(',')}|${opts.scores ? 's' : ''}`;
      got = await attend({ inputs, causal, scale, key, scores: opts.scores });
      computed = Hm;
    }
  }
  let output = got.output;
  const detail = { ...plan.detail };
  if (plan.post) {
    const p = plan.post(got.output, dims.N, dims.dv);
    output = p.output;
    Object.assign(detail, p.detail);
  }
  const err = outputError(output, ref.output, plan.slotOf, dims.N, dims.dv);
  const cost = costs({ H: dims.H, Hs: dims.Hs, N: dims.N, d: dims.d, dv: dims.dv, causal, Hm, G, dm: input.dm });
  const res: MethodRun = {
    id,
    params,
    messages,
    queryHeads: Hm,
    kvHeads: G,
    mapping: plan.mapping,
    allocation: plan.allocation,
    slotOf: plan.slotOf,
    weights: got.weights,
    output,
    scores: got.scores,
    refWeights: ref.weights,
    refOutput: ref.output,
    stats: got.stats,
    refStats: ref.stats,
    metrics: { ...err, ...cost },
    detail,
    caveats: plan.caveats,
    step: plan.step,
    computedHeads: computed,
  };
  if (byHeadMaps) {
    const { headWeights, headScores } = byHeadMaps;
    res.headWeights = headWeights;
    res.headScores = headScores;
    lazyJoin(res, 'weights', headWeights);
    if (headScores) lazyJoin(res, 'scores', headScores);
    else delete res.scores;
  }
  return res;
}

/** Defines `obj[name]` as the per-head arrays joined into one, built on first read. */
function lazyJoin(obj: MethodRun, name: 'weights' | 'scores', heads: Float32Array[]): void {
  let joined: Float32Array | null = null;
  Object.defineProperty(obj, name, {
    enumerable: true,
    configurable: true,
    get: () => {
      if (!joined) {
        const n = heads[0]?.length ?? 0;
        joined = new Float32Array(heads.length * n);
        heads.forEach((a, h) => joined!.set(a, h * n));
      }
      return joined;
    },
  });
}

/**
 * The attention of every method query head, taking the heads already in `cache` from it and
 * computing the others in one request (their query heads against the KV heads they read, as
 * MHA shapes). Returns one map per head (not joined: see `headWeights`) and the joined outputs.
 */
async function attendByHead(
  q: QKV['q'],
  k: QKV['k'],
  v: QKV['v'],
  mapping: number[],
  prefix: string,
  cache: HeadCache,
  run: (inputs: QKV) => Promise<AttendResult>,
): Promise<{ headWeights: Float32Array[]; headScores?: Float32Array[]; output: Float32Array; stats?: HeadStatsArrays; computed: number }> {
  const Hm = q.shape[0];
  const N = q.shape[1];
  const Nk = k.shape[1];
  const dv = v.shape[2];
  const keyOf = (h: number) => `${prefix}|q${h}>kv${mapping[h]}`;
  const entries = mapping.map((_, h) => cache.get(keyOf(h)));
  const missing = entries.flatMap((e, h) => (e ? [] : [h]));
  if (missing.length) {
    const kvs = missing.map((h) => mapping[h]);
    const r = await run({ q: gatherHeads(q, missing), k: gatherHeads(k, kvs), v: gatherHeads(v, kvs) });
    const n2 = N * Nk;
    missing.forEach((h, i) => {
      const e = {
        weights: r.weights.subarray(i * n2, (i + 1) * n2),
        output: r.output.subarray(i * N * dv, (i + 1) * N * dv),
        scores: r.scores?.subarray(i * n2, (i + 1) * n2),
        entropy: r.stats?.entropy[i] ?? NaN,
        distance: r.stats?.distance[i] ?? NaN,
        sinkMass: r.stats?.sinkMass[i] ?? NaN,
      };
      entries[h] = e;
      cache.set(keyOf(h), e);
    });
  }
  const all = entries as NonNullable<(typeof entries)[number]>[];
  const output = new Float32Array(Hm * N * dv);
  all.forEach((e, h) => output.set(e.output, h * N * dv));
  const headScores = all.every((e) => e.scores) ? all.map((e) => e.scores!) : undefined;
  const stat = (f: (e: (typeof all)[number]) => number) => Float32Array.from(all, f);
  const stats = all.every((e) => Number.isFinite(e.entropy)) ? { entropy: stat((e) => e.entropy), distance: stat((e) => e.distance), sinkMass: stat((e) => e.sinkMass) } : undefined;
  return { headWeights: all.map((e) => e.weights), headScores, output, stats, computed: missing.length };
}


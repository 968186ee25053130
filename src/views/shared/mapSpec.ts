import { finiteRange, type MapSpec } from '../../core/raster';
import type { SequentialMap } from '../../core/colormap';
import { methodActive, sparseActive, type MethodView, type SparseView, type ViewResult, methodName } from '../../state/result';
import type { Compare, MapMode } from '../../state/types';

export type { MapSpec };

const ranges = new WeakMap<Float32Array, Map<number, [number, number]>>();

/** Finite range of head `h`'s map, memoised per result array. */
export function headRange(data: Float32Array, h: number, n2: number): [number, number] {
  let m = ranges.get(data);
  if (!m) ranges.set(data, (m = new Map()));
  let r = m.get(h);
  if (!r) m.set(h, (r = finiteRange(data, h * n2, n2)));
  return r;
}

/** Range over all heads. */
export function allRange(data: Float32Array, H: number, n2: number): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let h = 0; h < H; h++) {
    const [a, b] = headRange(data, h, n2);
    lo = Math.min(lo, a);
    hi = Math.max(hi, b);
  }
  return [lo, hi];
}

const robust = new WeakMap<Float32Array, Map<string, number>>();

/**
 * The 90th percentile of the row maxima of `rows` consecutive rows of `cols` values starting at
 * `offset` (memoised). Weights use it as the top of the colour scale: each row's peak is what a
 * reader looks for, and a few one-hot rows (the first query always puts weight 1 on itself)
 * must not wash out the rest of the map. Brighter cells saturate, and the legend says so.
 */
export function rowPeakScale(data: Float32Array, offset: number, rows: number, cols: number): number {
  let m = robust.get(data);
  if (!m) robust.set(data, (m = new Map()));
  const key = `${offset}:${rows}:${cols}`;
  const hit = m.get(key);
  if (hit !== undefined) return hit;
  const peaks = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let p = 0;
    const base = offset + r * cols;
    for (let c = 0; c < cols; c++) if (data[base + c] > p) p = data[base + c];
    peaks[r] = p;
  }
  peaks.sort();
  const v = peaks[Math.min(rows - 1, Math.floor(0.9 * rows))];
  const out = v > 0 ? v : 1;
  m.set(key, out);
  return out;
}

const diffs = new WeakMap<MethodView, Map<number, Float32Array>>();

/** Where method head j's map lives: its own array when the method kept maps per head. */
export function methodHead(m: MethodView, j: number, n2: number, scores = false): { data: Float32Array; offset: number } | null {
  const per = scores ? m.headScores : m.headWeights;
  if (per) return { data: per[j], offset: 0 };
  const flat = scores ? m.scores : m.weights;
  return flat ? { data: flat, offset: j * n2 } : null;
}

/** Method weights of source head h minus the reference weights of h `[N, Nk]` (memoised per result). */
export function diffHead(m: MethodView, h: number, n2: number): Float32Array {
  let cache = diffs.get(m);
  if (!cache) diffs.set(m, (cache = new Map()));
  let d = cache.get(h);
  if (!d) {
    d = new Float32Array(n2);
    const { data, offset: a } = methodHead(m, m.slotOf[h], n2)!;
    const b = h * n2;
    for (let i = 0; i < n2; i++) d[i] = data[a + i] - m.refWeights[b + i];
    cache.set(h, d);
  }
  return d;
}

/** Largest |difference| over all heads (shared grid scale). */
function diffRangeAll(m: MethodView, H: number, n2: number): [number, number] {
  let lo = 0;
  let hi = 0;
  for (let h = 0; h < H; h++) {
    const [a, b] = headRange(diffHead(m, h, n2), 0, n2);
    lo = Math.min(lo, a);
    hi = Math.max(hi, b);
  }
  return [lo, hi];
}

const sparseDiffs = new WeakMap<SparseView, Map<number, Float32Array>>();

/** Sparse weights of head h minus the dense weights `[N, Nk]` (memoised per result). */
export function sparseDiffHead(s: SparseView, h: number, n2: number): Float32Array {
  let cache = sparseDiffs.get(s);
  if (!cache) sparseDiffs.set(s, (cache = new Map()));
  let d = cache.get(h);
  if (!d) {
    d = new Float32Array(n2);
    for (let i = 0; i < n2; i++) d[i] = s.weights[h * n2 + i] - s.refWeights[h * n2 + i];
    cache.set(h, d);
  }
  return d;
}

/** The map of head h with a sparse method active: its weights, the dense reference, or their difference. */
function sparseSpec(r: ViewResult & { sparse: SparseView }, h: number, mode: MapMode, seq: SequentialMap, range: 'head' | 'all', compare: Compare): MapSpec {
  const s = r.sparse;
  const n2 = r.N * r.Nk;
  const name = methodName(s);
  if (compare === 'diff') {
    const d = sparseDiffHead(s, h, n2);
    let [lo, hi] = headRange(d, 0, n2);
    if (range === 'all')
      for (let g = 0; g < r.H; g++) {
        const [a, b] = headRange(sparseDiffHead(s, g, n2), 0, n2);
        lo = Math.min(lo, a);
        hi = Math.max(hi, b);
      }
    const m = Math.max(Math.abs(lo), Math.abs(hi));
    return { data: d, offset: 0, rows: r.N, cols: r.Nk, scale: { kind: 'diverging', lo: -m || -1e-9, hi: m || 1e-9 }, colormap: 'PuOr', causalOffset: r.causal ? r.Nk - r.N : null, label: `weight difference: ${name} − dense (largest |Δ| ${+m.toPrecision(3)})` };
  }
  if (compare === 'reference') {
    const spec = mapSpec(r, h, mode, seq, range);
    return { ...spec, label: `dense: ${spec.label}` };
  }
  const spec = mapSpec({ ...r, weights: s.weights, scores: null }, h, mode === 'scores' ? 'weights' : mode, seq, range);
  return { ...spec, label: `${name}: ${spec.label}${mode === 'scores' ? ' — the sparse map keeps weights only' : ''}` };
}

/** KV head read by source head h in what is shown (the method's grouping, or the source's). */
export function kvShown(r: ViewResult, h: number, compare: Compare): number {
  return methodActive(r) && compare !== 'reference' ? r.method.mapping[r.method.slotOf[h]] : r.mapping[h];
}

/** Per-head statistics of what is shown, indexed by source head. */
export function statsShown(r: ViewResult, compare: Compare): { entropy: ArrayLike<number>; distance: ArrayLike<number>; sinkMass: ArrayLike<number> } {
  if (!methodActive(r) || compare === 'diff') return r.stats;
  const m = r.method;
  const src = compare === 'method' ? m.stats : m.refStats ?? (m.refWeights === r.weights ? r.stats : undefined);
  if (!src) return r.stats;
  const at = (a: Float32Array) => (compare === 'method' ? Array.from({ length: r.H }, (_, h) => a[m.slotOf[h]]) : a);
  return { entropy: at(src.entropy), distance: at(src.distance), sinkMass: at(src.sinkMass) };
}

/** Which arrays a compare mode shows: the values of source head h start at `offset` of `weights`. */
export function shownArrays(r: ViewResult, h: number, compare: Compare): { weights: Float32Array; scores: Float32Array | null; offset: number; which: 'reference' | 'method' } {
  const n2 = r.N * r.Nk;
  if (sparseActive(r)) return compare === 'method' ? { weights: r.sparse.weights, scores: null, offset: h * n2, which: 'method' } : { weights: r.weights, scores: r.scores, offset: h * n2, which: 'reference' };
  if (!methodActive(r) || compare === 'diff') return { weights: r.weights, scores: r.scores, offset: h * n2, which: 'reference' };
  const m = r.method;
  if (compare === 'reference') {
    // DGQA may show a later step, whose reference is not the source's first input.
    const same = m.refWeights === r.weights;
    return { weights: m.refWeights, scores: same ? r.scores : null, offset: h * n2, which: 'reference' };
  }
  const w = methodHead(m, m.slotOf[h], n2)!;
  const sc = methodHead(m, m.slotOf[h], n2, true);
  // Per-head maps start at 0 of their own array; the scores, when kept, are laid out the same way.
  return { weights: w.data, scores: sc?.data ?? null, offset: w.offset, which: 'method' };
}

/**
 * The map of source head `h` under a compare mode: the method's maps, the reference's, or their
 * difference (method − reference weights) on a diverging scale centred on zero.
 */
export function compareSpec(r: ViewResult, h: number, mode: MapMode, seq: SequentialMap, range: 'head' | 'all', compare: Compare): MapSpec {
  if (sparseActive(r)) return sparseSpec(r, h, mode, seq, range, compare);
  const n2 = r.N * r.Nk;
  if (methodActive(r) && compare === 'diff') {
    const d = diffHead(r.method, h, n2);
    const [lo, hi] = range === 'head' ? headRange(d, 0, n2) : diffRangeAll(r.method, r.H, n2);
    const m = Math.max(Math.abs(lo), Math.abs(hi));
    return { data: d, offset: 0, rows: r.N, cols: r.Nk, scale: { kind: 'diverging', lo: -m || -1e-9, hi: m || 1e-9 }, colormap: 'PuOr', causalOffset: r.causal ? r.Nk - r.N : null, label: `weight difference: ${methodName(r.method)} − reference (largest |Δ| ${+m.toPrecision(3)})` };
  }
  const shown = shownArrays(r, h, compare);
  if (shown.which === 'reference' && !methodActive(r)) return mapSpec(r, h, mode, seq, range);
  // One head's own array is a one-head result; a shared scale needs every head, so it reads the joined maps.
  const perHead = shown.which === 'method' && !!r.method!.headWeights;
  const joined = perHead && range === 'all';
  const weights = joined ? r.method!.weights : shown.weights;
  const scores = joined ? (r.method!.scores ?? null) : shown.scores;
  const H = shown.which === 'method' ? (perHead && !joined ? 1 : r.method!.queryHeads) : r.H;
  const view: ViewResult = { ...r, H, weights, scores: scores ?? weights };
  const headOf = joined ? r.method!.slotOf[h] : shown.offset / n2;
  const effMode = mode === 'scores' && !scores ? 'weights' : mode;
  const spec = mapSpec(view, headOf, effMode, seq, range);
  const who = shown.which === 'method' ? methodName(r.method!) : 'reference';
  const note = mode === 'scores' && !scores ? ' — scores are not available for this map, weights shown' : '';
  return { ...spec, label: `${who}: ${spec.label}${note}` };
}

/**
 * Colour scale of a mode: weights run from 0 to the 90th percentile of the row peaks (brighter
 * cells saturate); log-weights over decades
 * from 10^−(⌈log10 N⌉+2) to 1; scores on a diverging map centred on zero.
 */
export function mapSpec(r: Pick<ViewResult, 'N' | 'Nk' | 'H' | 'causal' | 'weights' | 'scores'>, h: number, mode: MapMode, seq: SequentialMap, range: 'head' | 'all' = 'head'): MapSpec {
  const n2 = r.N * r.Nk;
  const causalOffset = r.causal ? r.Nk - r.N : null;
  if (mode === 'scores' && r.scores) {
    const [lo, hi] = range === 'head' ? headRange(r.scores, h, n2) : allRange(r.scores, r.H, n2);
    return { data: r.scores, offset: h * n2, rows: r.N, cols: r.Nk, scale: { kind: 'diverging', lo, hi }, colormap: 'RdBu', causalOffset, label: 'score (scaled logit)' };
  }
  if (mode === 'scores') {
    const spec = mapSpec(r, h, 'weights', seq, range);
    return { ...spec, label: `${spec.label} — the source has no scores (it gave weights only), weights shown` };
  }
  if (mode === 'logWeights') {
    const lo = -(Math.ceil(Math.log10(Math.max(r.N, 2))) + 2);
    return { data: r.weights, offset: h * n2, rows: r.N, cols: r.Nk, scale: { kind: 'log', lo, hi: 0 }, colormap: seq, causalOffset, label: 'log₁₀ weight' };
  }
  const hi = range === 'head' ? rowPeakScale(r.weights, h * n2, r.N, r.Nk) : rowPeakScale(r.weights, 0, r.H * r.N, r.Nk);
  const max = range === 'head' ? headRange(r.weights, h, n2)[1] : allRange(r.weights, r.H, n2)[1];
  const label = hi < max ? `attention weight (colour saturates at ${+hi.toPrecision(3)}, the 90th percentile of row peaks; max ${+max.toPrecision(3)})` : 'attention weight';
  return { data: r.weights, offset: h * n2, rows: r.N, cols: r.Nk, scale: { kind: 'linear', lo: 0, hi }, colormap: seq, causalOffset, label };
}

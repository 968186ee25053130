import { finiteRange, type ValueScale } from '../../core/raster';
import type { ColorMapName, SequentialMap } from '../../core/colormap';
import type { ViewResult } from '../../state/result';
import type { MapMode } from '../../state/types';

/** What one head's map needs to be drawn: its values, their colour scale and the masking rule. */
export interface MapSpec {
  data: Float32Array;
  offset: number;
  rows: number;
  cols: number;
  scale: ValueScale;
  colormap: ColorMapName;
  causalOffset: number | null;
  /** Legend title. */
  label: string;
}

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

/**
 * Colour scale of a mode: weights run from 0 to the 90th percentile of the row peaks (brighter
 * cells saturate); log-weights over decades
 * from 10^−(⌈log10 N⌉+2) to 1; scores on a diverging map centred on zero.
 */
export function mapSpec(r: ViewResult, h: number, mode: MapMode, seq: SequentialMap, range: 'head' | 'all' = 'head'): MapSpec {
  const n2 = r.N * r.N;
  const causalOffset = r.causal ? 0 : null;
  if (mode === 'scores') {
    const [lo, hi] = range === 'head' ? headRange(r.scores, h, n2) : allRange(r.scores, r.H, n2);
    return { data: r.scores, offset: h * n2, rows: r.N, cols: r.N, scale: { kind: 'diverging', lo, hi }, colormap: 'RdBu', causalOffset, label: 'score (scaled logit)' };
  }
  if (mode === 'logWeights') {
    const lo = -(Math.ceil(Math.log10(Math.max(r.N, 2))) + 2);
    return { data: r.weights, offset: h * n2, rows: r.N, cols: r.N, scale: { kind: 'log', lo, hi: 0 }, colormap: seq, causalOffset, label: 'log₁₀ weight' };
  }
  const hi = range === 'head' ? rowPeakScale(r.weights, h * n2, r.N, r.N) : rowPeakScale(r.weights, 0, r.H * r.N, r.N);
  const max = range === 'head' ? headRange(r.weights, h, n2)[1] : allRange(r.weights, r.H, n2)[1];
  const label = hi < max ? `attention weight (colour saturates at ${+hi.toPrecision(3)}, the 90th percentile of row peaks; max ${+max.toPrecision(3)})` : 'attention weight';
  return { data: r.weights, offset: h * n2, rows: r.N, cols: r.N, scale: { kind: 'linear', lo: 0, hi }, colormap: seq, causalOffset, label };
}

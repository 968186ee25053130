import { blockCount } from './selection';
import { planAllowed, SPARSE_METHODS, sparseParams } from './registry';
import type { VideoGrid } from './videoGrid';
import type { QKV } from '../../core/tensor';

/** One point of a sweep: the parameter value, the mean density and the mean mass kept over heads. */
export interface SweepPoint {
  value: number;
  density: number;
  recall: number;
  /** The smallest mass any query keeps (over all heads). */
  recallMin: number;
}

/** One method's curve: which parameter it varies and the points, in the order of the values. */
export interface SweepCurve {
  id: string;
  label: string;
  param: string;
  paramLabel: string;
  points: SweepPoint[];
}

/** The parameter each method's curve varies, and its values for this input (ALGORITHMS.md: top-k, γ, window). */
function plan(id: string, N: number, block: number): { param: string; label: string; values: number[] } | null {
  const nb = blockCount(N, block);
  const upto = (n: number) => Array.from({ length: Math.max(1, Math.min(n, 10)) }, (_, i) => i + 1);
  switch (id) {
    case 'moba':
    case 'flashmoba':
      return { param: 'topk', label: 'top-k', values: upto(nb) };
    case 'flexprefill':
      return { param: 'gamma', label: 'γ', values: [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99] };
    case 'sale':
      return { param: 'tau', label: 'τ', values: [0.5, 0.1, 0.05, 0.02, 0.01, 0.004, 0.001, 0.0002] };
    case 'sparsed':
      return { param: 'select', label: 'ρ', values: [0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9] };
    case 'vmoba':
      return { param: 'tau', label: 'τ', values: [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99] };
    case 'draft':
      return { param: 'sparsity', label: 'σ', values: [0.98, 0.95, 0.9, 0.8, 0.7, 0.5, 0.3] }; // denser to the right
    case 'tokenselect':
      return { param: 'topk', label: 'k', values: [...new Set([1 / 32, 1 / 16, 1 / 8, 1 / 4, 3 / 8, 1 / 2, 3 / 4].map((f) => Math.max(1, Math.round(f * N))))] };
    case 'window':
      return { param: 'window', label: 'window', values: [...new Set([1 / 16, 1 / 8, 1 / 4, 3 / 8, 1 / 2, 3 / 4, 1].map((f) => Math.max(1, Math.round(f * N))))] };
    default:
      return null;
  }
}

/** Density and mass kept of a selection against the dense weights `[H, N, N]` (causal set). */
function densityRecall(allowed: (h: number, i: number, j: number) => boolean, H: number, N: number, causal: boolean, dense: Float32Array): Omit<SweepPoint, 'value'> {
  let pairs = 0;
  let recall = 0;
  let recallMin = Infinity;
  for (let h = 0; h < H; h++)
    for (let i = 0; i < N; i++) {
      const last = causal ? i : N - 1;
      let r = 0;
      const base = (h * N + i) * N;
      for (let j = 0; j <= last; j++)
        if (allowed(h, i, j)) {
          pairs++;
          r += dense[base + j];
        }
      recall += r;
      recallMin = Math.min(recallMin, r);
    }
  const C = causal ? (N * (N + 1)) / 2 : N * N;
  return { density: pairs / (H * C), recall: recall / (H * N), recallMin };
}

/**
 * Mass kept against density for every sparse method on one input, each method varying its main
 * parameter (top-k, γ, window) with the others at `given[id]` or their defaults: methods compared
 * at equal cost. Only selections and the dense weights are needed (no sparse attention).
 * `yieldEvery` lets a caller keep the page responsive between points.
 */
export async function sweepMethods(x: QKV & { causal: boolean; grid?: VideoGrid }, dense: Float32Array, given: Record<string, Record<string, unknown>> = {}, pause: () => Promise<void> = async () => undefined): Promise<SweepCurve[]> {
  const [H, N] = x.q.shape;
  const curves: SweepCurve[] = [];
  for (const m of SPARSE_METHODS) {
    const mask = m.mask ?? 'causal';
    if (mask !== 'either' && x.causal !== (mask === 'causal')) continue; // each method on the mask it is defined for
    const base = sparseParams(m, x, given[m.id] ?? {}, false).params;
    const p = plan(m.id, N, Number(base.block ?? 1));
    if (!p) continue;
    const points: SweepPoint[] = [];
    for (const value of p.values) {
      const params = { ...base, [p.param]: value };
      let s;
      try {
        s = m.select(x, params);
      } catch {
        break; // the input does not fit this method (e.g. no grid for VMoBA): no curve
      }
      points.push({ value, ...densityRecall(planAllowed(s, x.causal), H, N, x.causal, dense) });
      await pause();
    }
    if (points.length) curves.push({ id: m.id, label: m.label.split(' (')[0], param: p.param, paramLabel: p.label, points });
  }
  return curves;
}

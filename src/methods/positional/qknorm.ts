/**
 * QK-normalisation as in FiTv2 (ALGORITHMS.md §12.2): per head and token, q and k are
 * normalised over the head dimension by LayerNorm with no affine weight and no bias,
 * `LN(x) = (x − mean(x)) / sqrt(var(x) + eps)` (biased variance, eps = 1e−6), right after the
 * projections and before RoPE. Then ‖LN(x)‖ ≈ √d, so |logit| ≤ √d after the 1/√d scale.
 */
import type { Tensor } from '../../core/tensor';

export const QK_NORM_EPS = 1e-6;

/** LayerNorm of every `d`-vector of `x` (last axis), computed in float64, stored as float32. */
export function qkNorm(x: Tensor, eps = QK_NORM_EPS): Tensor {
  const d = x.shape[x.shape.length - 1];
  const out = new Float32Array(x.data.length);
  for (let o = 0; o < x.data.length; o += d) {
    let mean = 0;
    for (let c = 0; c < d; c++) mean += x.data[o + c];
    mean /= d;
    let v = 0;
    for (let c = 0; c < d; c++) v += (x.data[o + c] - mean) ** 2;
    const inv = 1 / Math.sqrt(v / d + eps);
    for (let c = 0; c < d; c++) out[o + c] = (x.data[o + c] - mean) * inv;
  }
  return { shape: x.shape.slice(), data: out };
}

/** Histogram of values in `bins` equal bins over [lo, hi] (values outside are clamped into the end bins). */
export function histogram(values: ArrayLike<number>, lo: number, hi: number, bins: number): number[] {
  const h = new Array<number>(bins).fill(0);
  const w = (hi - lo) / bins || 1;
  for (let i = 0; i < values.length; i++) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor((values[i] - lo) / w)));
    h[b]++;
  }
  return h;
}

/**
 * The scaled logits q·k/√d of the causal pairs of every head, before and after QK-norm, as two
 * histograms on one range (up to 256 query rows, evenly spaced, so long inputs stay quick).
 */
export function logitHistograms(q: Tensor, k: Tensor, qn: Tensor, kn: Tensor, causal: boolean, bins = 40): { maxBefore: number; maxAfter: number; sqrtD: number; range: number; before: number[]; after: number[]; rowsSampled: number; rows: number } {
  const [H, N, d] = q.shape;
  const Hkv = k.shape[0];
  const g = H / Hkv;
  const s = 1 / Math.sqrt(d);
  const step = Math.max(1, Math.ceil(N / 256));
  const rows: number[] = [];
  for (let i = 0; i < N; i += step) rows.push(i);
  const collect = (qq: Tensor, kk: Tensor) => {
    const out: number[] = [];
    for (let h = 0; h < H; h++) {
      const kv = Math.floor(h / g);
      for (const i of rows)
        for (let j = 0; j <= (causal ? i : N - 1); j++) {
          let x = 0;
          for (let c = 0; c < d; c++) x += qq.data[(h * N + i) * d + c] * kk.data[(kv * N + j) * d + c];
          out.push(x * s);
        }
    }
    return out;
  };
  const a = collect(q, k);
  const b = collect(qn, kn);
  const maxAbs = (xs: number[]) => xs.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  const maxBefore = maxAbs(a);
  const maxAfter = maxAbs(b);
  const range = Math.max(maxBefore, maxAfter, 1e-9);
  return { maxBefore, maxAfter, sqrtD: Math.sqrt(d), range, before: histogram(a, -range, range, bins), after: histogram(b, -range, range, bins), rowsSampled: rows.length, rows: N };
}

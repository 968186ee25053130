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

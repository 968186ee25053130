import { attentionDims, type QKV } from './tensor';
import { kvHeadOf, type HeadLayout } from './headMap';

/** Options shared by every dense attention implementation. */
export interface AttentionOptions {
  /** Causal mask `j ≤ i + (Nk − Nq)` (bottom-right aligned, ALGORITHMS.md §0.3). Default true. */
  causal?: boolean;
  /** Logit scale σ; default `1/√d`. */
  scale?: number | null;
  /** Query → KV head mapping; default contiguous. */
  layout?: HeadLayout;
}

/**
 * A sparse pattern's token rule, on top of the causal mask: whether query `i` of head `h` may
 * attend to key `j` (ALGORITHMS.md §0.3: softmax over the allowed set).
 */
export type AllowedFn = (h: number, i: number, j: number) => boolean;

/** Dense attention results as typed arrays: `scores`, `weights` `[H, Nq, Nk]`, `output` `[H, Nq, dv]`. */
export interface AttentionArrays {
  /** Scaled pre-softmax logits; masked pairs are `-Infinity`. */
  scores: Float32Array;
  weights: Float32Array;
  output: Float32Array;
}

/** Whether key `j` is visible to query `i` under the causal rule (bottom-right aligned). */
export function causalAllowed(i: number, j: number, Nq: number, Nk: number): boolean {
  return j <= i + (Nk - Nq);
}

/**
 * Plain-JavaScript dense attention: the reference loop the benchmark compares tfjs against,
 * and the fallback used where no tfjs backend is wanted. A fully masked row gives zero weights
 * and a zero output (ALGORITHMS.md §0.3).
 */
export function referenceAttention(inputs: QKV, opts: AttentionOptions & { allowed?: AllowedFn } = {}): AttentionArrays {
  const allowed = opts.allowed;
  const { H, Hkv, Nq, Nk, d, dv } = attentionDims(inputs);
  const causal = opts.causal ?? true;
  const scale = opts.scale ?? 1 / Math.sqrt(d);
  const layout = opts.layout ?? 'contiguous';
  const q = inputs.q.data;
  const k = inputs.k.data;
  const v = inputs.v.data;
  const scores = new Float32Array(H * Nq * Nk);
  const weights = new Float32Array(H * Nq * Nk);
  const output = new Float32Array(H * Nq * dv);
  const row = new Float64Array(Nk);
  for (let h = 0; h < H; h++) {
    const kh = kvHeadOf(h, H, Hkv, layout);
    const kBase = kh * Nk * d;
    const vBase = kh * Nk * dv;
    for (let i = 0; i < Nq; i++) {
      const qOff = (h * Nq + i) * d;
      const rOff = (h * Nq + i) * Nk;
      const last = causal ? Math.min(Nk - 1, i + (Nk - Nq)) : Nk - 1;
      let max = -Infinity;
      for (let j = 0; j <= last; j++) {
        if (allowed && !allowed(h, i, j)) {
          row[j] = scores[rOff + j] = -Infinity;
          continue;
        }
        let s = 0;
        const kOff = kBase + j * d;
        for (let c = 0; c < d; c++) s += q[qOff + c] * k[kOff + c];
        s *= scale;
        row[j] = s;
        scores[rOff + j] = s;
        if (s > max) max = s;
      }
      for (let j = Math.max(0, last + 1); j < Nk; j++) scores[rOff + j] = -Infinity;
      if (last < 0 || max === -Infinity) continue; // fully masked row: zero weights and zero output
      let sum = 0;
      for (let j = 0; j <= last; j++) {
        const e = row[j] === -Infinity ? 0 : Math.exp(row[j] - max);
        row[j] = e;
        sum += e;
      }
      const oOff = (h * Nq + i) * dv;
      for (let j = 0; j <= last; j++) {
        const w = row[j] / sum;
        weights[rOff + j] = w;
        const vOff = vBase + j * dv;
        for (let c = 0; c < dv; c++) output[oOff + c] += w * v[vOff + c];
      }
    }
  }
  return { scores, weights, output };
}

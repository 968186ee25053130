import { kvHeadOf } from '../../core/headMap';
import { roundHalfEven } from '../../core/numeric';
import { emptySelection, reasonCode, type BlockSelection } from './selection';
import type { QKV } from '../../core/tensor';

/** SALE's parameters (ALGORITHMS.md §7). */
export interface SaleParams {
  /** Query rows and key columns of a selection block (64 × 32 in the code). */
  bq: number;
  bk: number;
  /** τ: a block is computed when some estimated relative score exceeds it; below 1e−5 the head is dense. */
  tau: number;
}

/** INT4 symmetric per-token quantisation: `s = max|x|/7` (1 when all zero), `x̂ = rint(x/s)` in [−7, 7]. */
export function quantInt4(x: Float32Array, off: number, d: number, out: Int8Array, outOff: number): number {
  let m = 0;
  for (let c = 0; c < d; c++) m = Math.max(m, Math.abs(x[off + c]));
  const s = m > 0 ? Math.fround(m / 7) : 1;
  for (let c = 0; c < d; c++) out[outOff + c] = Math.max(-7, Math.min(7, roundHalfEven(Math.fround(x[off + c] / s))));
  return s;
}

/** `r = exp(σ(ŝ − m)) / l`: an estimated weight relative to the sink-and-local softmax mass. */
export function relativeScore(est: number, m: number, l: number, sigma: number): number {
  return Math.exp(sigma * (est - m)) / l;
}

/**
 * SALE's block selection (§7), causal prefill: queries and keys are centred by their means,
 * quantised to INT4 per token, and the estimated logits `ŝ = s_q s_k (Q̂·K̂) + q̄·K'` of every
 * block outside the sink (key block 0) and the local window (the `2·bq/bk` key blocks ending at
 * the diagonal — the spec's simplified range) are compared with the exact sink-and-local softmax
 * of each query row: a block is computed when some `exp(σ(ŝ − m_i))/l_i > τ`.
 */
export function saleSelect({ q, k }: Pick<QKV, 'q' | 'k'>, p: SaleParams): { selection: BlockSelection; overhead: number } {
  const [H, N, d] = q.shape;
  const Hkv = k.shape[0];
  const { bq, bk } = p;
  const sigma = 1 / Math.sqrt(d);
  const sel = emptySelection(H, N, N, bq, bk);
  const nqb = sel.nRows;
  const nkb = sel.nkb;
  const code = { sink: reasonCode('sink'), local: reasonCode('local'), threshold: reasonCode('threshold'), forced: reasonCode('forced') };
  // Centred keys per KV head, and their INT4 codes and scales.
  const kc = new Float32Array(Hkv * N * d);
  const kq = new Int8Array(Hkv * N * d);
  const ks = new Float32Array(Hkv * N);
  for (let g = 0; g < Hkv; g++) {
    const mean = new Float64Array(d);
    for (let t = 0; t < N; t++) for (let c = 0; c < d; c++) mean[c] += k.data[(g * N + t) * d + c] / N;
    for (let t = 0; t < N; t++) {
      for (let c = 0; c < d; c++) kc[(g * N + t) * d + c] = k.data[(g * N + t) * d + c] - mean[c];
      ks[g * N + t] = quantInt4(kc, (g * N + t) * d, d, kq, (g * N + t) * d);
    }
  }
  const qc = new Float32Array(N * d);
  const qq = new Int8Array(N * d);
  const qs = new Float32Array(N);
  const localBlocks = Math.max(1, Math.ceil((2 * bq) / bk));
  let overhead = 0;
  for (let h = 0; h < H; h++) {
    const g = kvHeadOf(h, H, Hkv, 'contiguous');
    if (p.tau < 1e-5) {
      for (let I = 0; I < nqb; I++) for (let J = 0; J < nkb && J * bk <= Math.min(N, (I + 1) * bq) - 1; J++) sel.codes[(h * nqb + I) * nkb + J] = code.forced;
      continue;
    }
    const qm = new Float64Array(d);
    for (let t = 0; t < N; t++) for (let c = 0; c < d; c++) qm[c] += q.data[(h * N + t) * d + c] / N;
    for (let t = 0; t < N; t++) {
      for (let c = 0; c < d; c++) qc[t * d + c] = q.data[(h * N + t) * d + c] - qm[c];
      qs[t] = quantInt4(qc, t * d, d, qq, t * d);
    }
    // q̄·K'[j], the term that restores the subtracted query mean.
    const bias = new Float32Array(N);
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += qm[c] * kc[(g * N + j) * d + c];
      bias[j] = s;
    }
    for (let I = 0; I < nqb; I++) {
      const i0 = I * bq;
      const i1 = Math.min(N, i0 + bq) - 1;
      const lastBlock = Math.floor(i1 / bk);
      const firstLocal = Math.max(0, Math.floor((i0 + bq - 1) / bk) - localBlocks + 1);
      const isLocal = (J: number) => J >= firstLocal && J <= lastBlock;
      const row = (h * nqb + I) * nkb;
      for (let J = 0; J <= lastBlock; J++) sel.codes[row + J] = J === 0 ? code.sink : isLocal(J) ? code.local : 0;
      for (let i = i0; i <= i1; i++) {
        // Exact sink-and-local statistics of row i (causal).
        let m = -Infinity;
        const xs: number[] = [];
        for (let J = 0; J <= lastBlock; J++) {
          if (J !== 0 && !isLocal(J)) continue;
          for (let j = J * bk; j < Math.min(N, (J + 1) * bk) && j <= i; j++) {
            let s = 0;
            for (let c = 0; c < d; c++) s += q.data[(h * N + i) * d + c] * kc[(g * N + j) * d + c];
            xs.push(s);
            if (s > m) m = s;
          }
        }
        let l = 0;
        for (const x of xs) l += Math.exp(sigma * (x - m));
        for (let J = 1; J <= lastBlock; J++) {
          if (isLocal(J) || sel.codes[row + J]) continue;
          for (let j = J * bk; j < Math.min(N, (J + 1) * bk) && j <= i; j++) {
            let dot = 0;
            for (let c = 0; c < d; c++) dot += qq[i * d + c] * kq[(g * N + j) * d + c];
            const est = Math.fround(qs[i] * ks[g * N + j] * dot + bias[j]);
            if (relativeScore(est, m, l, sigma) > p.tau) {
              sel.codes[row + J] = code.threshold;
              break;
            }
          }
        }
      }
    }
    overhead += N * d + Math.floor((N * (N + 1)) / 2) * 2 * d; // quantisation, and the INT4 estimate over the causal pairs
  }
  return { selection: sel, overhead };
}

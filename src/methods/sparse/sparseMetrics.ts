import { allowedPairs, outputError } from '../metrics';

/** The §0.7 panel of a sparse method against dense attention. */
export interface SparseMetrics {
  /** Allowed pairs per head inside the causal set, over the causal set: `ρ_h`. */
  density: Float32Array;
  /** Mass of the dense attention kept, per head and query `[H, Nq]`. */
  recall: Float32Array;
  recallMean: Float32Array;
  recallMin: Float32Array;
  /** 20-bin histogram of the recall over [0, 1] per head `[H, 20]`. */
  recallHist: Uint32Array;
  /** Relative Frobenius error and per-token cosine of the head outputs. */
  relFrob: number;
  cosine: Float32Array;
  /** FLOPs: the sparse attention core, the dense core, and the method's own estimation. */
  flops: { attention: number; dense: number; overhead: number };
}

export const RECALL_BINS = 20;

/**
 * Density, recall, output error and FLOPs (ALGORITHMS.md §0.7) from the token rule `allowed`
 * (already including the causal mask), the dense weights `[H, Nq, Nk]` and both outputs.
 */
export function sparseMetrics(a: {
  allowed: (h: number, i: number, j: number) => boolean;
  H: number;
  Nq: number;
  Nk: number;
  d: number;
  dv: number;
  causal: boolean;
  denseWeights: Float32Array;
  output: Float32Array;
  denseOutput: Float32Array;
  overhead: number;
}): SparseMetrics {
  const { H, Nq, Nk, d, dv } = a;
  const density = new Float32Array(H);
  const recall = new Float32Array(H * Nq);
  const recallMean = new Float32Array(H);
  const recallMin = new Float32Array(H);
  const recallHist = new Uint32Array(H * RECALL_BINS);
  const off = Nk - Nq;
  const C = a.causal ? (Nq === Nk ? allowedPairs(Nq, true) : countCausal(Nq, Nk)) : Nq * Nk;
  let pairs = 0;
  for (let h = 0; h < H; h++) {
    let P = 0;
    let sum = 0;
    let min = Infinity;
    for (let i = 0; i < Nq; i++) {
      const last = a.causal ? Math.min(Nk - 1, i + off) : Nk - 1;
      let r = 0;
      const base = (h * Nq + i) * Nk;
      for (let j = 0; j <= last; j++) {
        if (!a.allowed(h, i, j)) continue;
        P++;
        r += a.denseWeights[base + j];
      }
      recall[h * Nq + i] = r;
      sum += r;
      min = Math.min(min, r);
      recallHist[h * RECALL_BINS + Math.min(RECALL_BINS - 1, Math.max(0, Math.floor(r * RECALL_BINS)))]++;
    }
    density[h] = C > 0 ? P / C : 0;
    recallMean[h] = Nq ? sum / Nq : 0;
    recallMin[h] = Nq ? min : 0;
    pairs += P;
  }
  const { relFrob, cosine } = outputError(a.output, a.denseOutput, Array.from({ length: H }, (_, h) => h), Nq, dv);
  return { density, recall, recallMean, recallMin, recallHist, relFrob, cosine, flops: { attention: 2 * (d + dv) * pairs, dense: 2 * (d + dv) * C * H, overhead: a.overhead } };
}

/** Causal pairs `j ≤ i + (Nk − Nq)` of an `Nq × Nk` map. */
function countCausal(Nq: number, Nk: number): number {
  let n = 0;
  for (let i = 0; i < Nq; i++) n += Math.max(0, Math.min(Nk, i + Nk - Nq + 1));
  return n;
}

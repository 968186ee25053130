/**
 * Per-head statistics of attention weights `[H, Nq, Nk]`, each averaged over query rows
 * that attend to at least one key.
 * - `entropy`: mean of −Σ_j w ln w (nats); 0 for one-hot rows, ln(n) for uniform over n keys.
 * - `distance`: mean of Σ_j w·|i' − j| where i' = i + (Nk − Nq) is the query's key position.
 * - `sinkMass`: mean weight on the first `sinkTokens` keys (attention-sink mass).
 */
export interface HeadStats {
  entropy: Float32Array;
  distance: Float32Array;
  sinkMass: Float32Array;
}

/** Computes {@link HeadStats} for every head. `sinkTokens` defaults to 1. */
export function headStats(weights: Float32Array, H: number, Nq: number, Nk: number, sinkTokens = 1): HeadStats {
  const entropy = new Float32Array(H);
  const distance = new Float32Array(H);
  const sinkMass = new Float32Array(H);
  const off = Nk - Nq;
  const sink = Math.min(sinkTokens, Nk);
  for (let h = 0; h < H; h++) {
    let eSum = 0;
    let dSum = 0;
    let sSum = 0;
    let rows = 0;
    for (let i = 0; i < Nq; i++) {
      const base = (h * Nq + i) * Nk;
      let rowMass = 0;
      let e = 0;
      let dist = 0;
      let s = 0;
      const qi = i + off;
      for (let j = 0; j < Nk; j++) {
        const w = weights[base + j];
        if (w > 0) {
          e -= w * Math.log(w);
          dist += w * Math.abs(qi - j);
          rowMass += w;
        }
        if (j < sink) s += w;
      }
      if (rowMass === 0) continue;
      eSum += e;
      dSum += dist;
      sSum += s;
      rows++;
    }
    entropy[h] = rows ? eSum / rows : 0;
    distance[h] = rows ? dSum / rows : 0;
    sinkMass[h] = rows ? sSum / rows : 0;
  }
  return { entropy, distance, sinkMass };
}

import type { GroupingMetrics } from './types';

export interface CostDims {
  H: number;
  Hs: number;
  N: number;
  d: number;
  dv: number;
  causal: boolean;
  /** Method query heads and KV heads. */
  Hm: number;
  G: number;
  dm?: number;
}

/** Allowed (query, key) pairs per head: N(N+1)/2 under the causal mask, N² without. */
export function allowedPairs(N: number, causal: boolean): number {
  return causal ? (N * (N + 1)) / 2 : N * N;
}

/**
 * Error of the method's head outputs against the reference (ALGORITHMS.md §0.7), on the
 * concatenated head outputs before W_O (sources without W_O have nothing else to compare):
 * relative Frobenius error and per-token cosine. Source head h is compared with method head
 * `slotOf[h]`. Both zero → cosine 1; one zero → 0.
 */
export function outputError(out: Float32Array, ref: Float32Array, slotOf: number[], N: number, dv: number): { relFrob: number; cosine: Float32Array } {
  let num = 0;
  let den = 0;
  const dot = new Float64Array(N);
  const na = new Float64Array(N);
  const nb = new Float64Array(N);
  slotOf.forEach((m, h) => {
    for (let i = 0; i < N; i++) {
      const a = (m * N + i) * dv;
      const b = (h * N + i) * dv;
      for (let c = 0; c < dv; c++) {
        const x = out[a + c];
        const y = ref[b + c];
        num += (x - y) ** 2;
        den += y * y;
        dot[i] += x * y;
        na[i] += x * x;
        nb[i] += y * y;
      }
    }
  });
  const cosine = new Float32Array(N);
  for (let i = 0; i < N; i++) cosine[i] = na[i] > 0 && nb[i] > 0 ? dot[i] / Math.sqrt(na[i] * nb[i]) : na[i] === 0 && nb[i] === 0 ? 1 : 0;
  return { relFrob: den > 0 ? Math.sqrt(num / den) : num > 0 ? Infinity : 0, cosine };
}

/** KV-cache bytes, attention FLOPs, projection FLOPs and parameters of method and reference (§0.7, §3). */
export function costs(c: CostDims): Omit<GroupingMetrics, 'relFrob' | 'cosine'> {
  const P = allowedPairs(c.N, c.causal);
  const dm = c.dm ?? c.H * c.d;
  const proj = (Hq: number, Hkv: number) => 2 * c.N * dm * (Hq * c.d + Hkv * c.d + Hkv * c.dv) + 2 * c.N * Hq * c.dv * dm;
  const params = (Hq: number, Hkv: number) => dm * Hq * c.d + dm * Hkv * (c.d + c.dv) + Hq * c.dv * dm;
  return {
    kvBytes: c.N * c.G * (c.d + c.dv) * 4,
    kvBytesRef: c.N * c.Hs * (c.d + c.dv) * 4,
    flops: c.Hm * (2 * c.d + 2 * c.dv) * P,
    flopsRef: c.H * (2 * c.d + 2 * c.dv) * P,
    projFlops: proj(c.Hm, c.G),
    projFlopsRef: proj(c.H, c.Hs),
    dm,
    dmAssumed: c.dm === undefined,
    params: params(c.Hm, c.G),
    paramsRef: params(c.H, c.Hs),
  };
}

import { kvHeadOf } from '../../core/headMap';
import type { QKV } from '../../core/tensor';

/** NaLaFormer's query feature map (§12.3): `[(ReLU(q)/‖q‖)^p, (ReLU(−q)/‖q‖)^p]`, `p = 3(0.5 + tanh‖q‖)`. */
export function phiQ(q: ArrayLike<number>): Float64Array {
  const d = q.length;
  let n = 0;
  for (let c = 0; c < d; c++) n += q[c] * q[c];
  n = Math.sqrt(n);
  const p = 3 * (0.5 + Math.tanh(n));
  const out = new Float64Array(2 * d);
  if (n === 0) return out;
  for (let c = 0; c < d; c++) {
    out[c] = q[c] > 0 ? (q[c] / n) ** p : 0;
    out[d + c] = q[c] < 0 ? (-q[c] / n) ** p : 0;
  }
  return out;
}

/** NaLaFormer's key feature map: the elementwise cube, split by sign `[ReLU(k³), ReLU(−k³)]`. */
export function phiK(k: ArrayLike<number>): Float64Array {
  const d = k.length;
  const out = new Float64Array(2 * d);
  for (let c = 0; c < d; c++) {
    const x = k[c] ** 3;
    out[c] = Math.max(0, x);
    out[d + c] = Math.max(0, -x);
  }
  return out;
}

/**
 * NaLaFormer's implicit attention without RoPE (§12.3, the no-RoPE view), non-causal:
 * `A_ij = φ_q(q_i)·φ_k(k_j) / (Σ_j' φ_q(q_i)·φ_k(k_j') + N·1e−6)` and `o_i = Σ_j A_ij v_j`.
 * Only same-sign channel products count; a larger ‖q‖ gives a spikier row.
 */
export function nalaAttention({ q, k, v }: QKV): { weights: Float32Array; output: Float32Array } {
  const [H, N, d] = q.shape;
  const Hkv = k.shape[0];
  const dv = v.shape[2];
  const weights = new Float32Array(H * N * N);
  const output = new Float32Array(H * N * dv);
  const fk = Array.from({ length: Hkv }, (_, g) => Array.from({ length: N }, (_, j) => phiK(k.data.subarray((g * N + j) * d, (g * N + j + 1) * d))));
  const row = new Float64Array(N);
  for (let h = 0; h < H; h++) {
    const g = kvHeadOf(h, H, Hkv, 'contiguous');
    for (let i = 0; i < N; i++) {
      const fq = phiQ(q.data.subarray((h * N + i) * d, (h * N + i + 1) * d));
      let z = N * 1e-6;
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let c = 0; c < 2 * d; c++) s += fq[c] * fk[g][j][c];
        row[j] = s;
        z += s;
      }
      for (let j = 0; j < N; j++) {
        const w = row[j] / z;
        weights[(h * N + i) * N + j] = w;
        for (let c = 0; c < dv; c++) output[(h * N + i) * dv + c] += w * v.data[(g * N + j) * dv + c];
      }
    }
  }
  return { weights, output };
}

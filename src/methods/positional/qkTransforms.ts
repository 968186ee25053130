import type { Tensor } from '../../core/tensor';
import { ropeInvFreq, ropeRotate, type RopeLayout } from '../../core/rope';
import { inverse, sampleMergeLock, transpose, type AKind, type Mat } from './mergelock';

/**
 * RoPE applied to every head of `[H, N, d]` at positions 0..N−1 (ALGORITHMS.md §12.1, the
 * Hugging Face formulation; `layout` pairs dimension i with i + d/2 or with i + 1).
 */
export function applyRope(x: Tensor, base: number, layout: RopeLayout): Tensor {
  const [H, N, d] = x.shape;
  if (d % 2 !== 0) throw new Error(`RoPE needs an even head dimension; this one is ${d}`);
  const inv = ropeInvFreq(d, base);
  const out = new Float32Array(x.data.length);
  for (let h = 0; h < H; h++) for (let i = 0; i < N; i++) ropeRotate(x.data, (h * N + i) * d, d, i, inv, out, (h * N + i) * d, layout);
  return { shape: [H, N, d], data: out };
}

/** Every row of head h of `[H, N, d]` times the d × d matrix of its group, `M[⌊h / (H/G)⌋]` (row vector × M). */
export function timesPerGroup(x: Tensor, M: Mat[]): Tensor {
  const [H, N, d] = x.shape;
  const G = M.length;
  const out = new Float32Array(x.data.length);
  for (let h = 0; h < H; h++) {
    const m = M[Math.floor(h / (H / G))].a;
    for (let i = 0; i < N; i++) {
      const o = (h * N + i) * d;
      for (let c = 0; c < d; c++) {
        let s = 0;
        for (let r = 0; r < d; r++) s += x.data[o + r] * m[r * d + c];
        out[o + c] = s;
      }
    }
  }
  return { shape: [H, N, d], data: out };
}

/**
 * MergeLock on queries, keys and values directly (§12.6): with one seeded A and B per KV group,
 * q' = q A, k' = k A^{−T}, v' = v B. Then q'k'ᵀ = qkᵀ, so the attention is unchanged; the
 * outputs are those of the source times B (in a model, W_O absorbs B^{−1}).
 */
export function mergeLockQkv(q: Tensor, k: Tensor, v: Tensor, seed: number, aKind: AKind, layout: RopeLayout = 'half'): { q: Tensor; k: Tensor; v: Tensor; A: Mat[]; B: Mat[] } {
  const d = q.shape[2];
  if (v.shape[2] !== d) throw new Error(`MergeLock here needs values as wide as queries and keys (d = ${d}, dv = ${v.shape[2]})`);
  const keys = sampleMergeLock({ layers: 1, kvHeads: k.shape[0], headDim: d }, seed, aKind, layout);
  const A = keys.A[0];
  const B = keys.B[0];
  const invT = A.map((a) => transpose(inverse(a)));
  return { q: timesPerGroup(q, A), k: timesPerGroup(k, invT), v: timesPerGroup(v, B), A, B };
}

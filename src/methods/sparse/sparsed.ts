import { kvHeadOf } from '../../core/headMap';
import { blockCount, emptySelection, reasonCode, topkStable, type BlockSelection } from './selection';
import type { QKV } from '../../core/tensor';

/** SparseD's parameters (ALGORITHMS.md §8). */
export interface SparseDParams {
  block: number;
  /** ρ, the selection ratio. */
  select: number;
  /** Masked generation tokens at the end of the sequence. */
  nGen: number;
}

/** Tiles kept per query block: `max(1, ⌊n·ρ⌋ + 1)` (the +1 of Quirk D2), at most n (D3, a clamp). */
export function sparsedKeep(n: number, rho: number): number {
  return Math.min(n, Math.max(1, Math.floor(n * rho) + 1));
}

/** The schedule over `T` denoising steps: dense before `tEnd`, the pattern computed at `tEnd`, sparse after. */
export function sparsedSchedule(T: number, skip: number): { tEnd: number; dense: number; sparse: number } {
  const tEnd = Math.floor(T * skip) + 1;
  const dense = Math.min(T, tEnd + 1);
  return { tEnd, dense, sparse: Math.max(0, T - dense) };
}

/**
 * SparseD's block mask (§8), bidirectional: pass 1 keeps, for each query block, the top
 * `k1 = max(1, ⌊nkb·ρ⌋ + 1)` key tiles by mean attention (a partial tile divides by b²), then
 * clears the generation columns J ≥ L; pass 2 recomputes the softmax over the generation keys only
 * and ORs its top `k2` tiles into those columns. Softmax in float32, logits scaled by 1/√d (Quirk
 * D1 intent). `L` is the first query block that starts inside the generation region.
 */
export function sparsedSelect({ q, k }: Pick<QKV, 'q' | 'k'>, p: SparseDParams): { selection: BlockSelection; L: number; k1: number; k2: number; overhead: number } {
  const [H, N, d] = q.shape;
  const Hkv = k.shape[0];
  const b = p.block;
  const nb = blockCount(N, b);
  let L = nb - 1;
  for (let I = 0; I < nb; I++)
    if (N - I * b <= p.nGen) {
      L = I;
      break;
    }
  const ngb = blockCount(N - L * b, b);
  const k1 = sparsedKeep(nb, p.select);
  const k2 = sparsedKeep(ngb, p.select);
  const sel = emptySelection(H, N, N, b, b);
  const top = reasonCode('topk');
  const scale = 1 / Math.sqrt(d);
  const P = new Float32Array(N);
  const row = new Float64Array(N);
  /** Mean attention of query block I's rows over key tiles, keys [j0, N): `imp[J']` for tiles from j0. */
  const importance = (h: number, I: number, j0: number): Float64Array => {
    const g = kvHeadOf(h, H, Hkv, 'contiguous');
    const tiles = blockCount(N - j0, b);
    const imp = new Float64Array(tiles);
    for (let i = I * b; i < Math.min(N, (I + 1) * b); i++) {
      let max = -Infinity;
      for (let j = j0; j < N; j++) {
        let s = 0;
        for (let c = 0; c < d; c++) s += q.data[(h * N + i) * d + c] * k.data[(g * N + j) * d + c];
        row[j] = Math.fround(s * scale);
        if (row[j] > max) max = row[j];
      }
      let z = 0;
      for (let j = j0; j < N; j++) z += row[j] = Math.exp(row[j] - max);
      for (let j = j0; j < N; j++) P[j] = row[j] / z; // float32, as the reference's fp32 softmax
      for (let j = j0; j < N; j++) imp[Math.floor((j - j0) / b)] += P[j];
    }
    for (let J = 0; J < tiles; J++) imp[J] /= b * b;
    return imp;
  };
  for (let h = 0; h < H; h++)
    for (let I = 0; I < nb; I++) {
      const base = (h * nb + I) * nb;
      for (const J of topkStable(importance(h, I, 0), k1)) if (J < L) sel.codes[base + J] = top;
      for (const J of topkStable(importance(h, I, L * b), k2)) sel.codes[base + L + J] = top;
    }
  const overhead = H * (2 * d * N * N + 2 * d * N * (N - L * b));
  return { selection: sel, L, k1, k2, overhead };
}

/**
 * Token layouts of video-like inputs (ALGORITHMS.md §0.1: tokens flattened `(t, h, w)` row-major,
 * time slowest) and the permutations that VMoBA (§5.1) and DraftAttention (§9, step 5) apply so
 * that each of their blocks is contiguous. A permutation `perm` lists, for each position of the
 * permuted order, the original token placed there.
 */

/** A latent grid of `T` frames of `Hp × Wp` tokens (plus, for DraftAttention, text tokens after it). */
export interface VideoGrid {
  T: number;
  Hp: number;
  Wp: number;
}

/** The grid a source of `N` tokens is read as when it names none: one frame, as square as N allows. */
export function guessGrid(N: number): VideoGrid {
  let Hp = 1;
  for (let a = 1; a * a <= N; a++) if (N % a === 0) Hp = a;
  return { T: 1, Hp, Wp: Math.max(1, Math.floor(N / Math.max(1, Hp))) };
}

/** Checks that a grid covers `visual` tokens; throws a message naming both. */
export function checkGrid(g: VideoGrid, visual: number, what: string): void {
  if (g.T * g.Hp * g.Wp !== visual) throw new Error(`the grid ${g.T} × ${g.Hp} × ${g.Wp} holds ${g.T * g.Hp * g.Wp} tokens, but ${what} has ${visual}; set frames × height × width to match`);
}

export { invertPerm } from '../../core/blockSelection';

/** Gathers rows of `[G, N, c]` into permuted order: `out[g, p] = x[g, perm[p]]`. */
export function permuteRows(x: Float32Array, G: number, N: number, c: number, perm: Int32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let g = 0; g < G; g++)
    for (let p = 0; p < N; p++) out.set(x.subarray((g * N + perm[p]) * c, (g * N + perm[p] + 1) * c), (g * N + p) * c);
  return out;
}

/** Scatters rows of `[G, N, c]` back to the original order: `out[g, perm[p]] = x[g, p]`. */
export function unpermuteRows(x: Float32Array, G: number, N: number, c: number, perm: Int32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let g = 0; g < G; g++)
    for (let p = 0; p < N; p++) out.set(x.subarray((g * N + p) * c, (g * N + p + 1) * c), (g * N + perm[p]) * c);
  return out;
}

/** Maps `[H, N, N]` weights of the permuted order back to the original order (rows and columns). */
export function unpermuteSquare(w: Float32Array, H: number, N: number, perm: Int32Array): Float32Array {
  const out = new Float32Array(w.length);
  for (let h = 0; h < H; h++) {
    const o = h * N * N;
    for (let p = 0; p < N; p++) {
      const src = o + p * N;
      const dst = o + perm[p] * N;
      for (let p2 = 0; p2 < N; p2++) out[dst + perm[p2]] = w[src + p2];
    }
  }
  return out;
}

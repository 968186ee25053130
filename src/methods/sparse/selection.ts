/**
 * The sparse-attention data model shared by every selection method (ALGORITHMS.md §0.4, §0.7):
 * which key blocks each query row (or query block) may attend to, and why each was chosen.
 */

import { allowedBy } from '../../core/blockSelection';
import type { BlockSelection, TokenRule } from '../../core/blockSelection';

export { REASONS, reasonCode, reasonOf, allowedBy, type Reason, type BlockSelection, type TokenRule } from '../../core/blockSelection';

/** `ceil(n / b)` blocks of size `b` (§0.4). */
export function blockCount(n: number, b: number): number {
  return Math.ceil(n / b);
}

/** An empty selection of the given geometry. */
export function emptySelection(H: number, Nq: number, Nk: number, rowsPer: number, block: number): BlockSelection {
  const nRows = blockCount(Nq, rowsPer);
  const nkb = blockCount(Nk, block);
  return { H, Nq, Nk, rowsPer, nRows, block, nkb, codes: new Uint8Array(H * nRows * nkb) };
}

/** The token mask `[H, Nq, Nk]` of a selection (1 = allowed), for small maps and tests. */
export function tokenMask(sel: BlockSelection, rule: TokenRule | null, causal: boolean): Uint8Array {
  const ok = allowedBy(sel, rule, causal);
  const m = new Uint8Array(sel.H * sel.Nq * sel.Nk);
  for (let h = 0; h < sel.H; h++) for (let i = 0; i < sel.Nq; i++) for (let j = 0; j < sel.Nk; j++) m[(h * sel.Nq + i) * sel.Nk + j] = ok(h, i, j) ? 1 : 0;
  return m;
}

/**
 * Indices of the `min(k, n)` largest values, largest first; on equal values the lower index
 * wins (ALGORITHMS.md §0.5 — never rely on a library top-k's tie order). ±∞ sort as numbers.
 */
export function topkStable(x: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: x.length }, (_, i) => i);
  idx.sort((a, b) => (x[b] > x[a] ? 1 : x[b] < x[a] ? -1 : a - b));
  return idx.slice(0, Math.max(0, Math.min(k, x.length)));
}

/**
 * Block means of one head's keys `[N, d]` starting at `offset`: `[nb, d]`, each the mean over
 * the block's real tokens (a partial last block divides by its own size, §0.6).
 */
export function meanPoolBlocks(k: Float32Array, offset: number, N: number, d: number, b: number): Float32Array {
  const nb = blockCount(N, b);
  const out = new Float32Array(nb * d);
  const acc = new Float64Array(d);
  for (let J = 0; J < nb; J++) {
    acc.fill(0);
    const t1 = Math.min(N, (J + 1) * b);
    for (let t = J * b; t < t1; t++) for (let c = 0; c < d; c++) acc[c] += k[offset + t * d + c];
    const n = t1 - J * b;
    for (let c = 0; c < d; c++) out[J * d + c] = acc[c] / n;
  }
  return out;
}

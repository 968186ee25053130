import { blockCount, emptySelection, reasonCode, type BlockSelection, type TokenRule } from './selection';

/** Sliding window with attention sinks (StreamingLLM; ALGORITHMS.md §12.7). */
export interface WindowParams {
  /** Keys within `window` positions, counting the query itself. */
  window: number;
  /** The first `sinks` tokens are always kept. */
  sinks: number;
  /** Block size of the block grid (display, and the block-sparse kernel's tiles). */
  block: number;
}

/**
 * The prefill mask `allowed(i, j) ⇔ j ≤ i ∧ (j < n_sink ∨ i − j < w)` as a block selection
 * (query blocks × key blocks that hold at least one allowed pair; `sink` for blocks reached
 * only through sinks, `local` otherwise) plus the token rule that restricts it exactly.
 */
export function windowSelect(H: number, N: number, p: WindowParams): { selection: BlockSelection; rule: TokenRule } {
  const b = p.block;
  const sel = emptySelection(H, N, N, b, b);
  const nb = blockCount(N, b);
  const local = reasonCode('local');
  const sink = reasonCode('sink');
  for (let I = 0; I < nb; I++) {
    const i0 = I * b;
    const i1 = Math.min(N, i0 + b) - 1;
    for (let J = 0; J <= I; J++) {
      const j0 = J * b;
      const j1 = Math.min(N, j0 + b) - 1;
      // Some pair with j ≤ i and i − j < w: the closest pair is (i0, min(j1, i0)) … (i1, j1).
      const nearest = Math.max(0, i0 - j1);
      const inWindow = p.window > 0 && nearest < p.window && j0 <= i1;
      const inSink = p.sinks > j0;
      const code = inWindow ? local : inSink ? sink : 0;
      if (code) for (let h = 0; h < H; h++) sel.codes[(h * nb + I) * nb + J] = code;
    }
  }
  return { selection: sel, rule: { window: p.window, sinks: p.sinks } };
}

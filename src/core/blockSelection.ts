/**
 * The sparse-attention data contract (DESIGN.md §3, ALGORITHMS.md §0.4, §0.7): which key blocks
 * each query row may attend to, and why each was chosen. Pure data, shared by the methods that
 * choose, the kernel that computes and the views that draw.
 */

/** Why a block was selected: the colours of the block grid (§0.7). */
export const REASONS = ['forced', 'sink', 'local', 'vertical', 'slash', 'topk', 'threshold', 'query-aware'] as const;
export type Reason = (typeof REASONS)[number];

/** Code stored in a selection for a reason (0 means "not selected"). */
export const reasonCode = (r: Reason): number => REASONS.indexOf(r) + 1;
/** The reason of a non-zero code. */
export const reasonOf = (code: number): Reason => REASONS[code - 1];

/**
 * Selected key blocks per head and query row. Block-level methods (FlexPrefill, SALE, …) have
 * one row per query block (`rowsPer` = the query block size); MoBA-style methods choose per
 * query token (`rowsPer` = 1), giving `[H, Nq, nkb]` as in §0.4.
 */
export interface BlockSelection {
  H: number;
  Nq: number;
  Nk: number;
  /** Query tokens per row of `codes` (1, or the query block size). */
  rowsPer: number;
  nRows: number;
  /** Key block size and count: `nkb = ceil(Nk / block)`. */
  block: number;
  nkb: number;
  /** `[H, nRows, nkb]`: 0 = not selected, otherwise `reasonCode(reason)`. */
  codes: Uint8Array;
}

/** A token-level restriction inside the selected blocks (a sliding window with sinks, §12.7). */
export interface TokenRule {
  /** Keys within `window` positions of the query (counting the query itself). */
  window?: number;
  /** The first `sinks` keys are always allowed. */
  sinks?: number;
}

/**
 * Whether query `i` of head `h` may attend to key `j`: its key block is selected for the
 * query's row, the token rule allows the pair, and (when causal) `j ≤ i + (Nk − Nq)` (§0.3).
 */
export function allowedBy(sel: Pick<BlockSelection, 'Nq' | 'Nk' | 'nRows' | 'nkb' | 'rowsPer' | 'block' | 'codes'>, rule: TokenRule | null, causal: boolean): (h: number, i: number, j: number) => boolean {
  const { nRows, nkb, rowsPer, block, codes, Nq, Nk } = sel;
  const off = Nk - Nq;
  return (h, i, j) => {
    if (j >= Nk || (causal && j > i + off)) return false;
    if (codes[(h * nRows + Math.floor(i / rowsPer)) * nkb + Math.floor(j / block)] === 0) return false;
    if (rule) {
      const qi = i + off;
      const inSink = rule.sinks !== undefined && j < rule.sinks;
      const inWindow = rule.window !== undefined && qi - j < rule.window && qi - j >= 0;
      if (rule.window !== undefined || rule.sinks !== undefined) return inSink || inWindow;
    }
    return true;
  };
}

/**
 * The inverse of a token permutation (VMoBA and DraftAttention select in a reordered token
 * order where position p holds original token `perm[p]`): `inv[perm[p]] = p`.
 */
export function invertPerm(perm: Int32Array): Int32Array {
  const inv = new Int32Array(perm.length);
  for (let p = 0; p < perm.length; p++) inv[perm[p]] = p;
  return inv;
}

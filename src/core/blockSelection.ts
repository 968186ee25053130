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

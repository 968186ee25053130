import type { BlockSelection, TokenRule } from './selection';
import type { FlexResult } from './flexprefill';
import type { Partition, VmobaScope } from './vmoba';
import type { TokenSelectChunk } from './tokenselect';
import type { VideoGrid } from './videoGrid';
import type { ParamSpec, Params, Verification } from '../types';
import type { QKV, Tensor } from '../../core/tensor';

/** What a sparse method decided: the blocks, the token rule, and what the views show about the choice. */
export interface SparsePlan {
  selection: BlockSelection;
  rule: TokenRule | null;
  /** Keys the attention uses when the method changes them (FlashMoBA's convolved keys, on request). */
  attentionKeys?: Tensor;
  /** MoBA-style gate scores after causal routing `[H, N, nb]` (+∞ current block, −∞ future). */
  gate?: Float32Array;
  /** The method's own estimation FLOPs (§0.7, a separate bar). */
  overhead: number;
  /** Parts of this run that ALGORITHMS.md marks unverified: shown as "illustrative". */
  illustrative: string[];
  /** FlexPrefill's per-head decisions (pattern, JS distance, budgets, statistics). */
  flex?: Omit<FlexResult, 'selection' | 'overhead'>;
  /**
   * A method that keeps every key but changes the inputs (ThinK's pruned key channels): its
   * attention is dense attention on these keys and values `[H, N, ·]`, not a block selection.
   */
  denseInputs?: { k: Tensor; v: Tensor };
  /** Attention the method computes itself (linear attention): its weights `[H, N, N]` and outputs. */
  direct?: { weights: Float32Array; output: Float32Array };
  /** The method keeps every key: no block grid to draw. */
  gridless?: boolean;
  /** ThinK: channel scores `[H, d]`, the pruned channels per head and the key-cache saving. */
  think?: { scores: Float32Array; pruned: number[][]; cacheSaving: number; lambda: number; recent: number; obs: number };
  /**
   * VMoBA and DraftAttention reorder the tokens so that each block is contiguous: position p of
   * the permuted order holds original token `perm[p]`. `selection` (and `gate`) are in that order.
   */
  perm?: Int32Array;
  /** VMoBA: the grid, its partition, the chunks and whether Quirk V2 (dense fallback) fired. */
  vmoba?: { grid: VideoGrid; partition: Partition; byLayer: boolean; layer: number; block: number; nchunks: number; denseFallback: boolean; mode: 'topk' | 'threshold'; scope: VmobaScope };
  /** DraftAttention: the grid, the pooled draft map `[H, S, S]`, its keep mask and thresholds. */
  draft?: { grid: VideoGrid; ph: number; pw: number; S: number; block: number; draft: Float32Array; keep: Uint8Array; theta: (number | null)[]; text: number; sparsity: number };
  /** TokenSelect: each query chunk's votes and selected tokens. */
  tokenselect?: { chunks: TokenSelectChunk[]; nInit: number; nLocal: number; topk: number; chunk: number };
  /** SparseD: the generation region, the keep counts and the step schedule. */
  sparsed?: { L: number; k1: number; k2: number; nGen: number; block: number; steps: number; skip: number; schedule: { tEnd: number; dense: number; sparse: number } };
}

/** A sparse-attention method (ALGORITHMS.md §4–§10, §12.3, §12.4, §12.7). */
export interface SparseDescriptor {
  id: string;
  family: 'sparse';
  label: string;
  summary: string;
  citation: { paper: string; code?: string };
  verified: Verification;
  params: ParamSpec[];
  /** The mask the method is defined for (the sweep runs it only there); causal unless stated. */
  mask?: 'causal' | 'bidirectional' | 'either';
  /** Pure selection in plain TypeScript (Appendix C); throws a clear error when the input does not fit. */
  select: (input: QKV & { causal: boolean }, params: Params) => SparsePlan;
}

/** Refuses a non-causal input for a method defined for causal prefill. */
export function causalOnly(id: string, causal: boolean): void {
  if (!causal) throw new Error(`${id} is defined for causal prefill (a decoder's own block is always routed); switch the causal mask on`);
}

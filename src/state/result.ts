import type { BackendFailure, BackendName } from '../compute/backends';
import type { MethodRun } from '../methods/run';
import type { MethodDescriptor } from '../methods/types';
import type { SparseRun } from '../methods/sparse/run';
import type { SparseDescriptor } from '../methods/sparse/registry';

/** A computed result as the views see it (typed arrays; tfjs never leaves compute/). */
export interface ViewResult {
  key: string;
  /** Query tokens (rows). */
  tokens: string[];
  /** Key tokens (columns): the same array as `tokens` for self-attention, the encoder's for cross-attention. */
  keyTokens: string[];
  H: number;
  Hkv: number;
  /** Queries (rows of each map). */
  N: number;
  /** Keys (columns of each map); `N` for self-attention. */
  Nk: number;
  /** Head dimension; 0 when the maps were read from a file without Q/K. */
  d: number;
  causal: boolean;
  /** Query head → KV head. */
  mapping: number[];
  /** Scaled logits `[H, N, Nk]`; null when the source gave weights only (an imported attention file). */
  scores: Float32Array | null;
  weights: Float32Array;
  stats: { entropy: Float32Array; distance: Float32Array; sinkMass: Float32Array };
  /** The tfjs backend that computed it; null when the maps were read from a file. */
  backend: BackendName | null;
  fallbacks: BackendFailure[];
  ms: number;
  /** Where tfjs ran: the worker or the main thread. */
  where: string;
  /** The active grouping method's result (absent while none is active or it failed). */
  method?: MethodView;
  /** The active sparse method's result (issue 6). */
  sparse?: SparseView;
  /** A second sparse method on the same input, shown side by side. */
  sparse2?: SparseView;
  /** The token grid (frames × height × width) of a video-like source. */
  grid?: { T: number; Hp: number; Wp: number };
}

/** A sparse method's result as the views see it. */
export interface SparseView extends SparseRun {
  label: string;
  verified: SparseDescriptor['verified'];
  citation: SparseDescriptor['citation'];
  /** Wall time of selection, sparse attention and metrics, ms. */
  ms: number;
}

/** Whether a sparse method's result is shown. */
export function sparseActive(r: ViewResult | null): r is ViewResult & { sparse: SparseView } {
  return !!r?.sparse;
}

/** A method result as the views see it. */
export interface MethodView extends MethodRun {
  label: string;
  verified: MethodDescriptor['verified'];
  citation: MethodDescriptor['citation'];
  /** Wall time of the method (planning, attention and metrics), ms. */
  ms: number;
}

/** Whether the method changes anything (MHA on the source is the source itself). */
export function methodActive(r: ViewResult | null): r is ViewResult & { method: MethodView } {
  return !!r?.method && r.method.id !== 'mha';
}

/** A method's short name for view titles and legends (its label without the parenthesis). */
export function methodName(m: { label: string }): string {
  return m.label.split(' (')[0];
}

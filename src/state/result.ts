import type { BackendFailure, BackendName } from '../compute/backends';

/** A computed result as the views see it (typed arrays; tfjs never leaves compute/). */
export interface ViewResult {
  key: string;
  tokens: string[];
  H: number;
  Hkv: number;
  N: number;
  d: number;
  causal: boolean;
  /** Query head → KV head. */
  mapping: number[];
  scores: Float32Array;
  weights: Float32Array;
  stats: { entropy: Float32Array; distance: Float32Array; sinkMass: Float32Array };
  backend: BackendName;
  fallbacks: BackendFailure[];
  ms: number;
  /** Where tfjs ran: the worker or the main thread. */
  where: string;
}

import type { BackendFailure, BackendName } from '../compute/backends';
import type { MethodRun } from '../methods/run';
import type { MethodDescriptor } from '../methods/types';

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
  /** The active method's result (absent while none is active or it failed). */
  method?: MethodView;
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

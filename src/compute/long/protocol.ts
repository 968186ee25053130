import type { RowStats } from './kernel';
import type { SyntheticSpec } from '../../core/synthetic';

/** The long-context inputs: every head's queries and keys (values are not needed for maps). */
export interface LongInputs {
  /** `[H, Nq, d]` */
  q: Float32Array;
  /** `[Hkv, Nk, d]` */
  k: Float32Array;
  H: number;
  Hkv: number;
  Nq: number;
  Nk: number;
  d: number;
  /** Query head → KV head. */
  kvOf: number[];
  scale: number;
}

/** What computes a long map: QK Scope's WebAssembly kernel (in every worker), or a tfjs backend (in one). */
export type LongBackend = 'kernel' | 'webgpu' | 'webgl' | 'wasm' | 'cpu';

/** Which keys each query sees: causal or not, and a sliding window with optional sink keys. */
export interface LongMask {
  causal: boolean;
  window?: number;
  sinks?: number;
}

/** Pooled rows of one head computed by one worker: row `rows[i]` is `map[i·Pc … (i+1)·Pc)`. */
export interface PooledPart {
  head: number;
  f: number;
  rows: Int32Array;
  map: Float32Array;
  /** Stats of the query rows those pooled rows cover, in the same order. */
  qrows: Int32Array;
  stats: RowStats;
}

export type ToLongWorker =
  | { id: number; kind: 'inputs'; inputs: LongInputs; module?: WebAssembly.Module; variant?: 'fma' | 'simd' }
  | { id: number; kind: 'memory' }
  | { id: number; kind: 'synthetic'; spec: SyntheticSpec; kvOf: number[]; scale: number; module?: WebAssembly.Module; variant?: 'fma' | 'simd' }
  | { id: number; kind: 'pooled'; heads: number[]; f: number; mask: LongMask; part: number; parts: number; chunk: number; backend?: LongBackend }
  | { id: number; kind: 'window'; head: number; mask: LongMask; r0: number; r1: number; c0: number; c1: number; max: Float32Array; sum: Float32Array };

export type FromLongWorker =
  | { id: number; kind: 'progress'; rows: number }
  | { id: number; kind: 'done'; parts?: PooledPart[]; window?: Float32Array; inputs?: LongInputs; variant: string; ms: number; memory: number; backend?: string; tensors?: number }
  | { id: number; kind: 'error'; error: string };

/**
 * QK Scope's library entry. The app itself uses it; later features add to it. Tensors are
 * `{ shape, data: Float32Array }` row-major, with `q [H, Nq, d]`, `k [Hkv, Nk, d]`,
 * `v [Hkv, Nk, dv]`; query head h reads KV head ⌊h / (H/Hkv)⌋ unless `layout` says otherwise.
 * Works in the browser (WebGPU, WebGL, WASM, CPU) and in Node (CPU).
 *
 * @example
 * const r = await computeAttention({ q, k, v }, { causal: true });
 * r.weights; // Float32Array [H, Nq, Nk]
 */
// Nothing here imports tfjs statically: a page that only needs the worker client (the app's
// entry) does not download tfjs on its main thread; computeAttention loads it on first use.
import type { BackendChoice, BackendFailure, BackendName } from './core/backendNames';
import type { QKV } from './core/tensor';
import { inBrowser } from './core/runtime';
import type { HeadLayout } from './core/headMap';

export type { Tensor, QKV, AttentionDims } from './core/tensor';
export { attentionDims, ShapeError } from './core/tensor';
export type { HeadLayout } from './core/headMap';
export { headMapping, kvHeadOf } from './core/headMap';
export { referenceAttention } from './core/referenceAttention';
export { headStats, type HeadStats } from './core/headStats';
export { syntheticQKV, PATTERNS, PATTERN_INFO, type Pattern, type SyntheticSpec } from './core/synthetic';
export { tokenize, type Token } from './core/tokenize';
export { BACKENDS, type BackendChoice, type BackendName, type BackendFailure } from './core/backendNames';
export { ComputeClient, type Outcome } from './compute/client';
export type { EngineResult, ProbeResult } from './compute/engine';

/** Options of {@link computeAttention}. */
export interface ComputeOptions {
  /** Causal mask `j ≤ i + (Nk − Nq)`; default true. */
  causal?: boolean;
  /** Logit scale; default `1/√d`. */
  scale?: number | null;
  /** tfjs backend; default `auto` in a browser (fastest measured) and `cpu` in Node. */
  backend?: BackendChoice;
  /** Query → KV head mapping; default `contiguous`. */
  layout?: HeadLayout;
}

/** Result of {@link computeAttention}. */
export interface AttentionResult {
  /** Scaled logits `[H, Nq, Nk]`; masked pairs are `-Infinity`. */
  scores: Float32Array;
  /** Softmax weights `[H, Nq, Nk]`; a row with no visible key is all zero. */
  weights: Float32Array;
  /** Head outputs `[H, Nq, dv]`. */
  output: Float32Array;
  /** Per-head entropy (nats), mean attention distance (tokens) and sink mass (weight on key 0), each `[H]`. */
  stats: { entropy: Float32Array; distance: Float32Array; sinkMass: Float32Array };
  /** The backend that computed it. */
  backend: BackendName;
  /** Backends tried before it, and why each failed. */
  fallbacks: BackendFailure[];
}

/**
 * Dense multi-head (MHA/GQA/MQA) attention with tfjs. Throws a `ShapeError` naming the wrong
 * tensor and the expected shape when inputs do not fit; falls back to the next backend when
 * one fails, listing it in `fallbacks`.
 */
export async function computeAttention(inputs: QKV, opts: ComputeOptions = {}): Promise<AttentionResult> {
  const { runAttention } = await import('./compute/engine');
  const r = await runAttention({
    inputs,
    options: { causal: opts.causal ?? true, scale: opts.scale ?? null, layout: opts.layout ?? 'contiguous' },
    backend: opts.backend ?? (inBrowser() ? 'auto' : 'cpu'),
  });
  return {
    scores: r.scores!,
    weights: r.weights!,
    output: r.output!,
    stats: r.stats!,
    backend: r.backend,
    fallbacks: r.fallbacks,
  };
}

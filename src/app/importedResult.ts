import { headStats } from '../core/headStats';
import { headMapping } from '../core/headMap';
import { referenceAttention } from '../core/referenceAttention';
import type { ImportedLayer } from '../io/types';
import type { ViewResult } from '../state/result';

const stats = new WeakMap<ImportedLayer, ViewResult['stats']>();

/**
 * The view result of an imported layer that holds attention weights only: the maps are shown as
 * read (no computation, no scores); per-head statistics are computed once per layer.
 */
export function weightsOnlyResult(layer: ImportedLayer, key: string): ViewResult {
  const w = layer.weights;
  if (!w) throw new Error(`${layer.label} holds Q/K/V, not weights: its attention is computed`);
  const [H, N, Nk] = w.shape;
  let s = stats.get(layer);
  if (!s) stats.set(layer, (s = headStats(w.data, H, N, Nk)));
  return { key, tokens: layer.queryTokens, keyTokens: layer.keyTokens, H, Hkv: H, N, Nk, d: 0, causal: layer.causal, mapping: headMapping(H, H), scores: null, weights: w.data, stats: s, backend: null, fallbacks: [], ms: 0, where: 'the file' };
}

/**
 * The view result of an imported Q/K/V layer computed in plain JavaScript (the reference
 * attention, float64 sums): for figures embedded in other pages, which load no tfjs.
 */
export function referenceResult(layer: ImportedLayer, key: string, opts: { causal: boolean; scale: number | null; preRope?: boolean }): ViewResult {
  const x = layer.qkv;
  if (!x) return weightsOnlyResult(layer, key);
  const q = opts.preRope && x.qPre ? x.qPre : x.q;
  const k = opts.preRope && x.kPre ? x.kPre : x.k;
  const t0 = typeof performance !== 'undefined' ? performance.now() : 0;
  const r = referenceAttention({ q, k, v: x.v ?? k }, { causal: opts.causal, scale: opts.scale });
  const [H, N, d] = q.shape;
  const [Hkv, Nk] = k.shape;
  return { key, tokens: layer.queryTokens, keyTokens: layer.keyTokens, H, Hkv, N, Nk, d, causal: opts.causal, mapping: headMapping(H, Hkv), scores: r.scores, weights: r.weights, stats: headStats(r.weights, H, N, Nk), backend: null, fallbacks: [], ms: (typeof performance !== 'undefined' ? performance.now() : 0) - t0, where: 'plain JavaScript (reference attention)' };
}

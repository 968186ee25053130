import { headStats } from '../core/headStats';
import { headMapping } from '../core/headMap';
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

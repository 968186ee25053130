import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mobaSelect, mobaOverheadFlops } from '../../src/methods/sparse/moba';
import { windowSelect } from '../../src/methods/sparse/window';
import { flexPrefillSelect, type FlexResult } from '../../src/methods/sparse/flexprefill';
import type { BlockSelection, TokenRule } from '../../src/methods/sparse/selection';
import type { Tensor } from '../../src/core/tensor';

// Written by scripts/make_sparse_goldens.py: an independent PyTorch implementation of
// ALGORITHMS.md §4.1 (MoBA), §4.2 (FlashMoBA routing with the illustrative key convolution)
// and §12.7 (sliding window with sinks), including the spec's own test vectors.
export interface SparseCase {
  name: string;
  method: 'moba' | 'flashmoba' | 'window' | 'flexprefill';
  params: { block?: number; topk?: number; convWidth?: number; convInAttention?: boolean; window?: number; sinks?: number; gamma?: number; tau?: number; minBudget?: number; maxBudget?: number | null; divisor?: '128' | 'b'; jsIntent?: boolean };
  flex?: { dense_fallback: boolean; computational_ratio: number; heads: { type: string; djs: number | null; djs_nan: boolean; nV: number | null; nS: number | null; Vb: number[] | null; blocks: [number, number, string][] }[] };
  H: number;
  Hkv: number;
  N: number;
  d: number;
  dv: number;
  causal: boolean;
  q: number[];
  k: number[];
  v: number[];
  routing_keys: number[] | null;
  selected: number[][][] | null;
  gate: (number | 'inf' | '-inf')[] | null;
  mask: string[][];
  weights: number[];
  output: number[];
  dense_weights: number[];
  dense_output: number[];
  density: number[];
  recall_mean: number[];
  recall_min: number[];
  rel_frob: number;
  flops: { attention: number; dense: number; overhead: number };
}
export const G = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'golden', 'sparse.json'), 'utf8')) as { cases: SparseCase[] };

/** A golden case's selection as the app makes it, with the keys its attention uses (FlashMoBA may convolve them). */
export function run(c: SparseCase): { sel: BlockSelection; rule: TokenRule | null; gate?: Float32Array; routing?: Float32Array; overhead: number; flex?: FlexResult; attnK: Tensor } {
  const q = { shape: [c.H, c.N, c.d], data: Float32Array.from(c.q) };
  const k = { shape: [c.Hkv, c.N, c.d], data: Float32Array.from(c.k) };
  if (c.method === 'flexprefill') {
    const p = c.params;
    const f = flexPrefillSelect({ q, k }, { block: p.block!, gamma: p.gamma!, tau: p.tau!, minBudget: p.minBudget!, maxBudget: p.maxBudget ?? null, divisor: p.divisor!, js: p.jsIntent ? 'intent' : 'faithful' });
    return { sel: f.selection, rule: null, overhead: f.overhead, flex: f, attnK: k };
  }
  if (c.method === 'window') {
    const w = windowSelect(c.H, c.N, { window: c.params.window!, sinks: c.params.sinks!, block: 4 });
    return { sel: w.selection, rule: w.rule, overhead: 0, attnK: k };
  }
  const m = mobaSelect({ q, k }, { block: c.params.block!, topk: c.params.topk!, convWidth: c.params.convWidth });
  return { sel: m.selection, rule: null, gate: m.gate, routing: m.routingKeys, overhead: mobaOverheadFlops(c.H, c.Hkv, c.N, c.d, c.params.block!, c.params.convWidth), attnK: c.params.convInAttention ? { shape: k.shape, data: Float32Array.from(m.routingKeys) } : k };
}


/**
 * The library parameters of a golden case of the reordering and token-selection methods, from
 * the PyTorch scripts' parameter names (make_vmoba_goldens.py, make_draft_goldens.py,
 * make_tokenselect_goldens.py).
 */
export function libraryParams(id: 'vmoba' | 'draft' | 'tokenselect', p: Record<string, unknown>): Record<string, unknown> {
  if (id === 'draft') return { frames: p.F, height: p.h, width: p.w, ph: p.ph, pw: p.pw, sparsity: p.sparsity };
  if (id === 'tokenselect') return { nInit: p.n_init, nLocal: p.n_local, topk: p.topk, chunk: p.chunk, rotate: p.rotate ? 'on' : 'off', base: p.base, kernel: p.kernel, mapping: p.mapping === 'modulo' ? 'interleaved' : 'contiguous' };
  const out: Record<string, unknown> = { frames: p.T, height: p.Hp, width: p.Wp, partition: p.partition, mode: p.mode, scope: p.scope ?? 'query_head', tau: p.tau ?? 0.25, topk: p.topk ?? 3 };
  if (p.partition === '1d') out.ct1 = p.ct;
  else {
    out.ch = p.ch;
    out.cw = p.cw;
    if (p.partition === '3d') out.ct3 = p.ct;
  }
  return out;
}

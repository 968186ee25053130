import { tokenize } from '../src/core/tokenize';
import { gridTokens, syntheticQKV, type Pattern } from '../src/core/synthetic';
import { referenceAttention } from '../src/core/referenceAttention';
import { headStats } from '../src/core/headStats';
import { headMapping } from '../src/core/headMap';
import { createQkStore, type QkStore } from '../src/state/store';
import { DEFAULT_INPUTS } from '../src/state/defaults';
import type { ViewResult } from '../src/state/result';
import type { Cell, SourceState, ViewOptions } from '../src/state/types';

/** What a story's store is built from; every field defaults to the app's default example. */
export interface StoryStoreOptions {
  text?: string;
  pattern?: Pattern;
  /** Query heads H. */
  heads?: number;
  /** KV heads Hkv; must divide `heads`. */
  kvHeads?: number;
  headDim?: number;
  temperature?: number;
  seed?: number;
  /** Causal mask; default true. */
  causal?: boolean;
  /** The synthetic video source on this grid (frames × height × width) instead of the text. */
  video?: { T: number; Hp: number; Wp: number };
  /** An initially locked cell (query row, optional key column). */
  locked?: Cell | null;
  /** View options: head shown large, map mode, grid colour scale, sequential colour map. */
  view?: Partial<ViewOptions>;
}

/**
 * Computes the result the views show, synchronously and without tfjs: the teaching tokenizer,
 * the seeded synthetic Q/K/V and the plain-JS reference attention (the same maths the compute
 * layer checks its kernels against). Throws with a clear message on impossible inputs.
 */
export function computeStoryResult(source: SourceState, causal: boolean): ViewResult {
  const grid = source.kind === 'video' ? source.grid : undefined;
  const tokens = grid ? gridTokens(grid) : tokenize(source.text).map((t) => t.text);
  if (tokens.length === 0) throw new Error('story text has no tokens');
  const { heads: H, kvHeads: Hkv, headDim: d } = source;
  if (H % Hkv !== 0) throw new Error(`story: ${H} query heads cannot share ${Hkv} KV heads; pick a divisor of ${H}`);
  const N = tokens.length;
  const qkv = syntheticQKV({ tokens, pattern: source.pattern, heads: H, kvHeads: Hkv, headDim: d, temperature: source.temperature, seed: source.seed, grid });
  const { scores, weights } = referenceAttention(qkv, { causal, scale: null, layout: 'contiguous' });
  return {
    key: JSON.stringify(['story', tokens.length, source.pattern, H, Hkv, d, source.temperature, source.seed, causal]),
    tokens,
    keyTokens: tokens,
    H,
    Hkv,
    N,
    Nk: N,
    d,
    causal,
    mapping: headMapping(H, Hkv),
    scores,
    weights,
    stats: headStats(weights, H, N, N),
    backend: 'cpu',
    fallbacks: [],
    ms: 0,
    where: 'story (plain-JS reference)',
    grid,
  };
}

/** A fresh store for one story, its inputs set from `opts` and `derived.result` already filled. */
export function makeStore(opts: StoryStoreOptions = {}): QkStore {
  const d = DEFAULT_INPUTS;
  const source: SourceState = {
    ...d.source,
    kind: opts.video ? 'video' : 'synthetic',
    grid: opts.video ?? d.source.grid,
    text: opts.text ?? d.source.text,
    pattern: opts.pattern ?? d.source.pattern,
    heads: opts.heads ?? d.source.heads,
    kvHeads: opts.kvHeads ?? opts.heads ?? d.source.kvHeads,
    headDim: opts.headDim ?? d.source.headDim,
    temperature: opts.temperature ?? d.source.temperature,
    seed: opts.seed ?? d.source.seed,
  };
  const causal = opts.causal ?? d.compute.causal;
  const result = computeStoryResult(source, causal);
  const view: ViewOptions = { ...d.view, ...opts.view };
  view.head = Math.max(0, Math.min(source.heads - 1, view.head));
  const locked = opts.locked ? { q: Math.min(opts.locked.q, result.N - 1), k: opts.locked.k === null ? null : Math.min(opts.locked.k, result.N - 1) } : null;
  const store = createQkStore({ source, compute: { backend: 'cpu', causal, scale: null }, view, locked });
  store.getState().setDerived({ status: 'done', result, error: null });
  return store;
}

/** One sentence repeated until the text has at least `minTokens` tokens (for long-sequence stories). */
export function repeatToTokens(sentence: string, minTokens: number): string {
  const per = tokenize(sentence).length;
  if (per === 0) throw new Error('sentence has no tokens');
  return Array.from({ length: Math.ceil(minTokens / per) }, () => sentence).join(' ');
}

/** Text whose tokens look like markup: the views must show them as text, never parse them. */
export const HOSTILE_TEXT = 'Tokens are text: <script>alert(1)</script> and <img src=x onerror=alert(1)> must stay visible & inert, "quoted" too.';

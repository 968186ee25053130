import { tokenize } from '../core/tokenize';
import { gridTokens, type SyntheticSpec } from '../core/synthetic';
import { LIMITS } from './defaults';
import type { AttentionOptions } from '../core/referenceAttention';
import type { BackendChoice } from '../compute/backends';
import { tokenCap } from './caps';
import type { Cell, Inputs } from './types';

/** Everything needed to compute one result, with a deterministic key for the cache. */
export interface ComputePlan {
  key: string;
  tokens: string[];
  spec: SyntheticSpec;
  options: AttentionOptions;
  backend: BackendChoice;
  /** The token grid of the video-like source (frames × height × width). */
  grid?: { T: number; Hp: number; Wp: number };
}

/**
 * Builds the compute plan from the inputs, or explains why it cannot: no tokens, or more
 * tokens than the chosen backend and memory allow (the message names the cap and the reason).
 */
export function planCompute(inputs: Inputs): { plan: ComputePlan; error: null } | { plan: null; error: string } {
  const { source: s, compute: c } = inputs;
  const { cap, why } = tokenCap(c.backend, s.heads);
  const options: AttentionOptions = { causal: c.causal, scale: c.scale, layout: 'contiguous' };
  if (s.kind === 'video') {
    const g = s.grid;
    const n = g.T * g.Hp * g.Wp;
    const most = Math.min(cap, LIMITS.maxVideoTokens);
    if (n > most) return { plan: null, error: `The video grid ${g.T} × ${g.Hp} × ${g.Wp} has ${n} tokens, more than the ${most} it may have here${most === cap ? `: ${why}` : ''}. Use fewer frames or a smaller grid; the last result stays on screen.` };
    const tokens = gridTokens(g);
    const spec: SyntheticSpec = { tokens, pattern: 'mixed', heads: s.heads, kvHeads: s.kvHeads, headDim: s.headDim, temperature: s.temperature, seed: s.seed, grid: { ...g } };
    const key = JSON.stringify(['video', g.T, g.Hp, g.Wp, s.heads, s.kvHeads, s.headDim, s.temperature, s.seed, c.causal, c.scale, c.backend]);
    return { plan: { key, tokens, spec, options, backend: c.backend, grid: { ...g } }, error: null };
  }
  const toks = tokenize(s.text, cap);
  if (toks.length === 0) return { plan: null, error: 'The text has no tokens: type at least one word.' };
  if (toks.length > cap) {
    return {
      plan: null,
      error: `The text has more than ${cap} tokens, the cap for ${s.heads} heads on ${c.backend === 'auto' ? 'this browser' : c.backend}: ${why}. Shorten the text, use fewer heads, or open it in the long-context view (the link under the text box, up to 16384 tokens); the last result stays on screen.`,
    };
  }
  const tokens = toks.map((t) => t.text);
  const spec: SyntheticSpec = {
    tokens,
    pattern: s.pattern,
    heads: s.heads,
    kvHeads: s.kvHeads,
    headDim: s.headDim,
    temperature: s.temperature,
    seed: s.seed,
  };
  const key = JSON.stringify(['synthetic', tokens, s.pattern, s.heads, s.kvHeads, s.headDim, s.temperature, s.seed, c.causal, c.scale, c.backend]);
  return { plan: { key, tokens, spec, options, backend: c.backend }, error: null };
}

/** Clamps a locked cell to `n` queries and `nk` keys (default `n`); null when it cannot point at a token. */
export function clampCell(c: Cell | null, n: number, nk = n): Cell | null {
  if (!c || n < 1 || nk < 1) return null;
  const clamp = (x: number, m: number) => (Number.isFinite(x) ? Math.max(0, Math.min(Math.trunc(x), m - 1)) : 0);
  const q = clamp(c.q, n);
  const k = c.k === null ? null : clamp(c.k, nk);
  return { q, k };
}

import type { Inputs } from './types';

/** The built-in default example the page opens on. */
export const DEFAULT_TEXT =
  'When Mary and John went to the store, John gave a drink to Mary. When Mary and John went to the park, John gave a ball to Mary.';

export const DEFAULT_INPUTS: Inputs = {
  source: { kind: 'synthetic', grid: { T: 4, Hp: 8, Wp: 8 }, layer: 0, positions: 'captured', url: null, model: null, text: DEFAULT_TEXT, pattern: 'mixed', heads: 8, kvHeads: 4, headDim: 32, temperature: 1, seed: 7 },
  compute: { backend: 'auto', causal: true, scale: null },
  method: { id: 'mha', params: {} },
  view: { head: 0, mode: 'weights', gridScale: 'perHead', colormap: 'viridis', compare: 'method' },
};

/** Limits that keep a hand-edited link or a pasted book from hanging the page. */
export const LIMITS = {
  maxHeads: 32,
  maxHeadDim: 256,
  minTemperature: 0.05,
  maxTemperature: 10,
  maxTextChars: 50_000,
  /** Absolute token cap of the foundation views. */
  maxTokens: 4096,
  /** Tokens of the synthetic video grid (its methods draw per-token masks and grids). */
  maxVideoTokens: 1024,
  /** Bytes the read-back attention maps (scores and weights) may take. */
  mapBudgetBytes: 2 ** 30,
  /** WebGL's largest texture side here (TOOLCHAIN.md: SwiftShader and most GPUs). */
  webglMaxTexture: 8192,
  /** Inputs DGQA steps through on a synthetic source (the source drawn with seeds s, s + 1, …). */
  dgqaSteps: 6,
};

/**
 * What a bare address opens: the built-in Llama-style model trained on State of the Union
 * addresses (public/models/sotu-llama), layer 2 head 2, its strongest previous-token head
 * (heads.json names it first; a unit test keeps the two in step).
 */
/** The sentence a checkpoint with a tokenizer reads when no other text is given. */
export const MODEL_DEFAULT_TEXT = 'When Mary and John went to the store, John gave a drink to Mary.';

export const DEFAULT_LINK = 'v=1&model=sotu-llama&layer=2&head=2';

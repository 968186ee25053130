import type { Pattern } from '../core/synthetic';
import type { SequentialMap } from '../core/colormap';
import type { BackendChoice } from '../compute/backends';

/**
 * The source of attention: the synthetic teaching example (issue: foundation), or a file the
 * user opened (issue: import). The file's data lives in the store's `imported`, not here.
 */
export interface SourceState {
  kind: 'synthetic' | 'video' | 'imported';
  /** The synthetic video-like source's grid: frames × height × width tokens (kind 'video'). */
  grid: { T: number; Hp: number; Wp: number };
  /** Layer (or attention block) of an imported file. */
  layer: number;
  /** For a Q/K/V dump with pre-RoPE copies: use Q/K as captured (after RoPE) or before RoPE. */
  positions: 'captured' | 'preRope';
  /** Same-origin URL the imported file came from (so a link can reopen it); null for a dropped file. */
  url: string | null;
  /** A built-in model (public/models) and the step of its training timeline, so a link can reopen it. */
  model: { id: string; step: number } | null;
  text: string;
  pattern: Pattern;
  heads: number;
  kvHeads: number;
  headDim: number;
  temperature: number;
  seed: number;
}

export interface ComputeSettings {
  backend: BackendChoice;
  causal: boolean;
  /** Logit scale override; null = 1/√d. */
  scale: number | null;
}

/** The attention method applied to the source (issue: grouped heads) and its parameter overrides. */
export interface MethodState {
  id: string;
  /** Only the parameters the user changed; the rest take the method's defaults for the source's shape. */
  params: Record<string, string | number>;
  /** A second sparse method shown side by side with the first (issue 6), on the same input. */
  versus?: { id: string; params: Record<string, string | number> } | null;
}

/** Which maps the views show when a method is active. */
export type Compare = 'method' | 'reference' | 'diff';

/** What the heatmap shows. */
export type MapMode = 'weights' | 'scores' | 'logWeights';

export interface ViewOptions {
  /** The head shown large. */
  head: number;
  mode: MapMode;
  /** Head grid colour scale: one for all heads, or each head its own. */
  gridScale: 'shared' | 'perHead';
  colormap: SequentialMap;
  /** With a method: its maps, the source's (reference) maps, or their difference. */
  compare: Compare;
}

/** A query row and, optionally, a key column. */
export interface Cell {
  q: number;
  k: number | null;
}

/**
 * Key columns a view marks in the heatmap (issue 7: the option line ends of a multiple-choice
 * question), each with a short label; `key` is the result key the positions belong to, so the
 * marks disappear when another text or file is shown.
 */
export interface KeyMarks {
  keys: readonly number[];
  labels: readonly string[];
  /** Index into `keys` of the mark drawn as the right one (e.g. the right answer), or null. */
  right: number | null;
  /** What the marks are, for the legend line under the map. */
  note: string;
  /** The tokens the positions index (the query tokens of the result the marks were made for). */
  tokens: readonly string[];
}

export interface Selection {
  hover: Cell | null;
  locked: Cell | null;
  /** Head under the pointer in the grid, if any. */
  hoverHead: number | null;
  /** Marked key columns, or null. */
  marks: KeyMarks | null;
}

/** Everything a user sets; results are derived from these. */
export interface Inputs {
  source: SourceState;
  compute: ComputeSettings;
  method: MethodState;
  view: ViewOptions;
}

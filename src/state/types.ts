import type { Pattern } from '../core/synthetic';
import type { SequentialMap } from '../core/colormap';
import type { BackendChoice } from '../compute/backends';

/** The synthetic teaching source (issue: foundation). */
export interface SourceState {
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

/** What the heatmap shows. */
export type MapMode = 'weights' | 'scores' | 'logWeights';

export interface ViewOptions {
  /** The head shown large. */
  head: number;
  mode: MapMode;
  /** Head grid colour scale: one for all heads, or each head its own. */
  gridScale: 'shared' | 'perHead';
  colormap: SequentialMap;
}

/** A query row and, optionally, a key column. */
export interface Cell {
  q: number;
  k: number | null;
}

export interface Selection {
  hover: Cell | null;
  locked: Cell | null;
  /** Head under the pointer in the grid, if any. */
  hoverHead: number | null;
}

/** Everything a user sets; results are derived from these. */
export interface Inputs {
  source: SourceState;
  compute: ComputeSettings;
  view: ViewOptions;
}

import { createStore, type StoreApi } from 'zustand/vanilla';
import type { Pattern } from '../core/synthetic';
import type { LongPlan } from '../core/longPlan';
import type { ColorMapName } from '../core/colormapNames';
import type { LongBackend } from '../compute/long/protocol';

/** The long-context page's source: the built-in long text through the synthetic source, or a Q/K dump. */
export type LongSource =
  | { kind: 'synthetic'; N: number; textSeed: number; text: string | null; pattern: Pattern; heads: number; kvHeads: number; headDim: number; seed: number; layers: number }
  | { kind: 'dump'; name: string; layers: number };

/** Dense (causal or not), a sliding window, or a window with attention sinks (StreamingLLM). */
export interface LongMethod {
  kind: 'dense' | 'window' | 'sinks';
  window: number;
  sinks: number;
}

/** A head's max-pooled map (−1: masked) and, for the shown head, its row stats. */
export interface LongMap {
  /** The layer, method and mask it was computed for. */
  key: string;
  layer: number;
  head: number;
  f: number;
  P: number;
  Pc: number;
  map: Float32Array;
  /** Per query row: softmax max and sum (they make any weight exact), entropy, distance, sink weight. */
  stats?: { max: Float32Array; sum: Float32Array; entropy: Float32Array; distance: Float32Array; sink: Float32Array };
  /** Means over query rows that see a key: entropy (nats), attention distance, weight on key 0. */
  summary: { entropy: number; distance: number; sink: number };
}

/** Exact weights of a window of the shown head (requested when zoomed in). */
export interface LongWindow {
  key: string;
  r0: number;
  r1: number;
  c0: number;
  c1: number;
  data: Float32Array;
}

/** The layer's Q and K in the page (the hover reads exact values from them). */
export interface LongLayer {
  key: string;
  q: Float32Array;
  k: Float32Array;
  H: number;
  Hkv: number;
  N: number;
  d: number;
  kvOf: number[];
  scale: number;
}

export interface LongJob {
  label: string;
  done: number;
  total: number;
}

export interface LongState {
  source: LongSource;
  layer: number;
  head: number;
  method: LongMethod;
  causal: boolean;
  /** What computes the maps (the kernel in every worker by default). */
  backend: LongBackend;
  mode: 'weights' | 'logWeights';
  colormap: ColorMapName;
  hover: { q: number; k: number } | null;
  locked: { q: number; k: number } | null;

  // Derived (written by the controller).
  tokens: string[];
  inputs: LongLayer | null;
  plan: LongPlan | null;
  /** The shown head's base map, with its row stats. */
  view: LongMap | null;
  /** Every head of the layer at the grid's resolution (null until computed). */
  grid: (LongMap | null)[];
  window: LongWindow | null;
  /** Wanted exact window (the heatmap asks when zoomed in). */
  wantWindow: { r0: number; r1: number; c0: number; c1: number } | null;
  job: LongJob | null;
  /** The last measured times (ms): first heatmap, grid, exact window. */
  timings: { view?: number; grid?: number; window?: number; kernel?: string };
  notice: string | null;
  error: string | null;

  set: (patch: Partial<LongState>) => void;
  setSource: (s: LongSource) => void;
  hoverAt: (c: { q: number; k: number } | null) => void;
  lockAt: (c: { q: number; k: number } | null) => void;
}

export type LongStore = StoreApi<LongState>;

export const LONG_DEFAULT_SOURCE: LongSource = { kind: 'synthetic', N: 8192, textSeed: 1, text: null, pattern: 'mixed', heads: 8, kvHeads: 8, headDim: 64, seed: 7, layers: 4 };

/** One long-context page's store (the page, a story and a test each make their own). */
export function createLongStore(init: Partial<Pick<LongState, 'source' | 'layer' | 'head' | 'method' | 'causal' | 'mode' | 'backend'>> = {}): LongStore {
  return createStore<LongState>()((set) => ({
    source: LONG_DEFAULT_SOURCE,
    layer: 0,
    head: 0,
    method: { kind: 'dense', window: 512, sinks: 4 },
    causal: true,
    backend: 'kernel',
    mode: 'logWeights',
    colormap: 'viridis',
    hover: null,
    locked: null,
    tokens: [],
    inputs: null,
    plan: null,
    view: null,
    grid: [],
    window: null,
    wantWindow: null,
    job: null,
    timings: {},
    notice: null,
    error: null,
    ...init,
    set: (patch) => set(patch),
    setSource: (source) => set({ source, layer: 0, head: 0, locked: null, hover: null }),
    hoverAt: (c) => set((s) => (s.hover?.q === c?.q && s.hover?.k === c?.k ? s : { hover: c })),
    lockAt: (c) => set({ locked: c }),
  }));
}

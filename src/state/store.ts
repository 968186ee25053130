import { createStore, type StoreApi } from 'zustand/vanilla';
import type { BackendChoice } from '../compute/backends';
import type { ProbeResult } from '../compute/engine';
import type { Pattern } from '../core/synthetic';
import { DEFAULT_INPUTS, LIMITS } from './defaults';
import { largestDivisorAtMost } from './urlCodec';
import type { Cell, ComputeSettings, Inputs, KeyMarks, Selection, SourceState, ViewOptions } from './types';
import type { ViewResult } from './result';
import type { ArrayLayout, ImportedSource, PendingArray } from '../io/types';
import type { SweepCurve } from '../methods/sparse/sweep';

/** An import in progress: reading the file (with progress), or an array waiting for its layout. */
export interface ImportState {
  /** File being read, and the fraction read so far (0…1). */
  reading: { name: string; progress: number | null; bytes: number } | null;
  /** An ambiguous array: the dialog shows `pending`, and `finish` builds the source from the confirmed layout. */
  confirm: { pending: PendingArray; finish: (layout: ArrayLayout) => ImportedSource; url: string | null } | null;
  /** Why the last import failed (the previous view stays). */
  error: string | null;
}

/** Compute status of the derived result. The last good result stays while a new one computes. */
export interface Derived {
  status: 'idle' | 'computing' | 'done' | 'error';
  result: ViewResult | null;
  /** Why the newest request could not be shown (bad input, a backend failure). */
  error: string | null;
  /** Notices that are not errors: a clamped link, a backend fallback. */
  notices: string[];
  /** Backend timings measured in this browser for `auto`. */
  probe: ProbeResult | null;
  /** Mass kept against density of every sparse method on the shown input (computed after a sparse result). */
  sweep: { key: string; curves: SweepCurve[] } | null;
  /**
   * Every layer × head of a multi-layer source with Q/K/V (a checkpoint, a dump), each map
   * max-pooled to at most `P × P` (peaks stay visible): `maps[l]` is `[H, P, P]`, filled as
   * layers are computed (null until then). `key` names the source and positions it belongs to.
   */
  layerGrid: { key: string; L: number; H: number; P: number; N: number; maps: (Float32Array | null)[] } | null;
}

export interface QkState extends Inputs {
  selection: Selection;
  derived: Derived;
  /** The file the user opened (its tensors); shown while `source.kind` is 'imported'. */
  imported: ImportedSource | null;
  importState: ImportState;
  /** Shows an opened file: layer 0, head 0, its causal rule; a method that needs Q/K is switched off for weights-only files. */
  setImported: (src: ImportedSource, url?: string | null, model?: { id: string; step: number } | null) => void;
  setImportState: (patch: Partial<ImportState>) => void;
  setSource: (patch: Partial<SourceState>) => void;
  setCompute: (patch: Partial<ComputeSettings>) => void;
  setView: (patch: Partial<ViewOptions>) => void;
  /** Picks a method (its parameters start at their defaults). */
  setMethod: (id: string) => void;
  /** Sets one parameter of the active method. */
  setMethodParam: (key: string, value: string | number) => void;
  /** Picks the sparse method shown side by side (null: none). */
  setVersus: (id: string | null) => void;
  setVersusParam: (key: string, value: string | number) => void;
  setBackend: (b: BackendChoice) => void;
  setPattern: (p: Pattern) => void;
  hover: (c: Cell | null) => void;
  hoverHead: (h: number | null) => void;
  /** Locks `c`, or the hovered cell when `c` is omitted; locking the locked cell unlocks it. */
  lock: (c?: Cell | null) => void;
  clearSelection: () => void;
  /** Marks key columns of the shown text (null clears them). */
  setMarks: (m: KeyMarks | null) => void;
  setDerived: (patch: Partial<Derived>) => void;
  addNotices: (n: string[]) => void;
  dismissNotice: (i: number) => void;
}

export type QkStore = StoreApi<QkState>;

function sameCell(a: Cell | null, b: Cell | null): boolean {
  return a === b || (!!a && !!b && a.q === b.q && a.k === b.k);
}

/** Creates one store per visualizer instance (app, embed or story each own theirs). */
export function createQkStore(init: Partial<Inputs> & { locked?: Cell | null; notices?: string[] } = {}): QkStore {
  return createStore<QkState>()((set, get) => ({
    source: { ...DEFAULT_INPUTS.source, ...init.source },
    compute: { ...DEFAULT_INPUTS.compute, ...init.compute },
    method: { ...DEFAULT_INPUTS.method, ...init.method },
    view: { ...DEFAULT_INPUTS.view, ...init.view },
    selection: { hover: null, locked: init.locked ?? null, hoverHead: null, marks: null },
    derived: { status: 'idle', result: null, error: null, notices: init.notices ?? [], probe: null, sweep: null, layerGrid: null },
    imported: null,
    importState: { reading: null, confirm: null, error: null },
    setImported: (src, url = null, model = null) =>
      set((s) => {
        // Reopening the file a link names keeps the link's layer, positions, head and locked cell.
        // So do new text through the same loaded checkpoint and another step of a built-in model (issue 3).
        const same = (!!url && s.source.url === url) || (!!src.checkpoint && s.imported?.checkpoint?.model === src.checkpoint.model) || (!!model && s.source.model?.id === model.id);
        const layer = Math.min(same ? s.source.layer : 0, src.layers.length - 1);
        const shown = src.layers[layer];
        const source = { ...s.source, kind: 'imported' as const, layer, positions: same ? s.source.positions : ('captured' as const), url, model };
        return {
          imported: src,
          importState: { reading: null, confirm: null, error: null },
          source,
          compute: shown.qkv ? { ...s.compute, causal: shown.causal, scale: shown.scale } : s.compute,
          method: src.kind === 'attention' ? { id: 'mha', params: {} } : s.method,
          view: { ...s.view, head: same ? Math.min(s.view.head, headCount({ source, imported: src }) - 1) : 0, compare: 'method' },
          selection: { ...s.selection, hover: null, locked: same ? s.selection.locked : null },
        };
      }),
    setImportState: (patch) => set((s) => ({ importState: { ...s.importState, ...patch } })),
    setSource: (patch) =>
      set((s) => {
        const source = { ...s.source, ...patch };
        // A NaN from a control keeps the previous value.
        const num = (x: number, prev: number) => (Number.isFinite(x) ? x : prev);
        source.heads = Math.max(1, Math.min(LIMITS.maxHeads, Math.round(num(source.heads, s.source.heads))));
        source.kvHeads = largestDivisorAtMost(source.heads, Math.round(num(source.kvHeads, s.source.kvHeads)));
        source.headDim = Math.max(1, Math.min(LIMITS.maxHeadDim, Math.round(num(source.headDim, s.source.headDim))));
        source.temperature = Math.max(LIMITS.minTemperature, Math.min(LIMITS.maxTemperature, num(source.temperature, s.source.temperature)));
        source.seed = Math.trunc(num(source.seed, s.source.seed));
        const heads = headCount({ ...s, source });
        const view = s.view.head >= heads ? { ...s.view, head: heads - 1 } : s.view;
        return { source, view };
      }),
    setCompute: (patch) => set((s) => ({ compute: { ...s.compute, ...patch } })),
    setView: (patch) =>
      set((s) => {
        const view = { ...s.view, ...patch };
        view.head = Number.isFinite(view.head) ? Math.max(0, Math.min(headCount(s) - 1, Math.trunc(view.head))) : s.view.head;
        return { view };
      }),
    setMethod: (id) => set((s) => (s.method.id === id ? {} : { method: { id, params: {}, versus: s.method.versus } })),
    setVersus: (id) => set((s) => ({ method: { ...s.method, versus: id ? { id, params: {} } : null } })),
    setVersusParam: (key, value) => set((s) => (s.method.versus ? { method: { ...s.method, versus: { ...s.method.versus, params: { ...s.method.versus.params, [key]: value } } } } : {})),
    setMethodParam: (key, value) => set((s) => ({ method: { ...s.method, params: { ...s.method.params, [key]: value } } })),
    setBackend: (backend) => get().setCompute({ backend }),
    setPattern: (pattern) => get().setSource({ pattern }),
    hover: (c) => {
      if (!sameCell(get().selection.hover, c)) set((s) => ({ selection: { ...s.selection, hover: c } }));
    },
    hoverHead: (h) => {
      if (get().selection.hoverHead !== h) set((s) => ({ selection: { ...s.selection, hoverHead: h } }));
    },
    lock: (c) =>
      set((s) => {
        const target = c === undefined ? s.selection.hover : c;
        const locked = sameCell(s.selection.locked, target) ? null : target;
        return { selection: { ...s.selection, locked } };
      }),
    clearSelection: () => set((s) => ({ selection: { ...s.selection, locked: null, hover: null } })),
    setMarks: (marks) => set((s) => ({ selection: { ...s.selection, marks } })),
    setDerived: (patch) => set((s) => ({ derived: { ...s.derived, ...patch } })),
    addNotices: (n) => set((s) => ({ derived: { ...s.derived, notices: [...s.derived.notices, ...n].slice(-8) } })),
    dismissNotice: (i) => set((s) => ({ derived: { ...s.derived, notices: s.derived.notices.filter((_, j) => j !== i) } })),
  }));
}

/** The imported layer shown, when the source is an opened file. */
export function importedLayer(s: Pick<QkState, 'source' | 'imported'>) {
  if (s.source.kind !== 'imported' || !s.imported) return null;
  return s.imported.layers[Math.max(0, Math.min(s.source.layer, s.imported.layers.length - 1))];
}

/** Query heads of the shown source: the synthetic source's, or the imported layer's. */
export function headCount(s: Pick<QkState, 'source' | 'imported'>): number {
  const l = importedLayer(s);
  if (!l) return s.source.heads;
  return (l.qkv ? l.qkv.q.shape[0] : l.weights!.shape[0]) || 1;
}

/** Head counts and dimensions of the shown source (the synthetic spec, or the imported layer's Q/K/V). */
export function sourceShape(s: Pick<QkState, 'source' | 'imported'>): { H: number; Hkv: number; d: number; dv: number } {
  const l = importedLayer(s);
  if (l?.qkv) {
    const v = l.qkv.v ?? l.qkv.k;
    return { H: l.qkv.q.shape[0], Hkv: l.qkv.k.shape[0], d: l.qkv.q.shape[2], dv: v.shape[2] };
  }
  if (l?.weights) return { H: l.weights.shape[0], Hkv: l.weights.shape[0], d: 0, dv: 0 };
  return { H: s.source.heads, Hkv: s.source.kvHeads, d: s.source.headDim, dv: s.source.headDim };
}

/**
 * The marks to draw on a result with these query tokens: a mark made for another text (a
 * different token list) is not shown.
 */
export function marksFor(sel: Selection, tokens: readonly string[] | undefined): KeyMarks | null {
  const m = sel.marks;
  if (!m || !tokens) return null;
  // Views ask on every store change (hover too): the same array is the common, O(1) case.
  if (m.tokens === tokens) return m;
  if (m.tokens.length !== tokens.length || m.tokens.some((t, i) => t !== tokens[i])) return null;
  return m;
}

/** The selection views should show: the locked cell wins over the hovered one. */
export function activeCell(sel: Selection): Cell | null {
  return sel.locked ?? sel.hover;
}

/** The inputs part of the state (what the URL and the compute request are built from). */
export function inputsOf(s: QkState): Inputs {
  return { source: s.source, compute: s.compute, method: s.method, view: s.view };
}

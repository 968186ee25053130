import { describe, expect, it } from 'vitest';
import { activeCell, createQkStore, inputsOf, marksFor } from '../../src/state/store';
import { DEFAULT_INPUTS, LIMITS } from '../../src/state/defaults';

/** Counts how often subscribers of a store are notified. */
function counter(store: ReturnType<typeof createQkStore>) {
  let n = 0;
  const unsub = store.subscribe(() => {
    n++;
  });
  return { get: () => n, unsub };
}

describe('createQkStore', () => {
  it('starts from the defaults and the given init', () => {
    const s = createQkStore().getState();
    expect(inputsOf(s)).toEqual(DEFAULT_INPUTS);
    expect(s.selection).toEqual({ hover: null, locked: null, hoverHead: null, marks: null });
    expect(s.derived.status).toBe('idle');
    expect(s.derived.notices).toEqual([]);

    const t = createQkStore({ source: { ...DEFAULT_INPUTS.source, pattern: 'sink' }, locked: { q: 2, k: 1 }, notices: ['hi'] }).getState();
    expect(t.source.pattern).toBe('sink');
    expect(t.selection.locked).toEqual({ q: 2, k: 1 });
    expect(t.derived.notices).toEqual(['hi']);
  });

  it('gives two stores independent state', () => {
    const a = createQkStore();
    const b = createQkStore();
    const seen = counter(b);
    a.getState().setSource({ heads: 4, kvHeads: 2, text: 'only a' });
    a.getState().setView({ head: 3, mode: 'scores' });
    a.getState().setCompute({ causal: false });
    a.getState().hover({ q: 1, k: 0 });
    a.getState().lock({ q: 2, k: null });
    a.getState().addNotices(['n']);
    const sb = b.getState();
    expect(inputsOf(sb)).toEqual(DEFAULT_INPUTS);
    expect(sb.selection).toEqual({ hover: null, locked: null, hoverHead: null, marks: null });
    expect(sb.derived.notices).toEqual([]);
    expect(seen.get()).toBe(0);
    expect(a.getState().source.text).toBe('only a');
  });

  it('does not mutate the shared defaults', () => {
    const before = JSON.parse(JSON.stringify(DEFAULT_INPUTS));
    const a = createQkStore();
    a.getState().setSource({ heads: 2, kvHeads: 1, temperature: 3 });
    a.getState().setView({ head: 1 });
    a.getState().setCompute({ backend: 'cpu' });
    expect(DEFAULT_INPUTS).toEqual(before);
  });
});

describe('setSource', () => {
  it('clamps heads to [1, maxHeads] and rounds them', () => {
    const s = createQkStore();
    s.getState().setSource({ heads: 100 });
    expect(s.getState().source.heads).toBe(LIMITS.maxHeads);
    s.getState().setSource({ heads: 0 });
    expect(s.getState().source.heads).toBe(1);
    s.getState().setSource({ heads: -7 });
    expect(s.getState().source.heads).toBe(1);
    s.getState().setSource({ heads: 5.6 });
    expect(s.getState().source.heads).toBe(6);
  });

  it('fixes kvHeads to a divisor of heads', () => {
    const s = createQkStore();
    s.getState().setSource({ heads: 6 }); // default kv 4 does not divide 6
    expect(s.getState().source.kvHeads).toBe(3);
    s.getState().setSource({ heads: 8, kvHeads: 5 });
    expect(s.getState().source.kvHeads).toBe(4);
    s.getState().setSource({ kvHeads: 100 });
    expect(s.getState().source.kvHeads).toBe(8);
    s.getState().setSource({ kvHeads: 0 });
    expect(s.getState().source.kvHeads).toBe(1);
    s.getState().setSource({ heads: 7, kvHeads: 3 });
    expect(s.getState().source.kvHeads).toBe(1);
    for (let h = 1; h <= LIMITS.maxHeads; h++)
      for (const kv of [1, 2, 3, 4, 5, 8, 16, 32]) {
        s.getState().setSource({ heads: h, kvHeads: kv });
        const src = s.getState().source;
        expect(src.heads % src.kvHeads).toBe(0);
        expect(src.kvHeads).toBeLessThanOrEqual(Math.min(h, kv));
      }
  });

  it('clamps headDim and temperature', () => {
    const s = createQkStore();
    s.getState().setSource({ headDim: 10_000, temperature: 1e6 });
    expect(s.getState().source.headDim).toBe(LIMITS.maxHeadDim);
    expect(s.getState().source.temperature).toBe(LIMITS.maxTemperature);
    s.getState().setSource({ headDim: 0, temperature: 0 });
    expect(s.getState().source.headDim).toBe(1);
    expect(s.getState().source.temperature).toBe(LIMITS.minTemperature);
  });

  it('keeps the fields it was not given', () => {
    const s = createQkStore();
    s.getState().setSource({ text: 'hello world' });
    const src = s.getState().source;
    expect(src.text).toBe('hello world');
    expect({ ...src, text: DEFAULT_INPUTS.source.text }).toEqual(DEFAULT_INPUTS.source);
  });

  it('moves the view head when heads drop below it', () => {
    const s = createQkStore();
    s.getState().setView({ head: 7 });
    expect(s.getState().view.head).toBe(7);
    s.getState().setSource({ heads: 4, kvHeads: 2 });
    expect(s.getState().view.head).toBe(3);
    s.getState().setSource({ heads: 1 });
    expect(s.getState().view.head).toBe(0);
    // raising heads again leaves the head where it is
    s.getState().setSource({ heads: 16 });
    expect(s.getState().view.head).toBe(0);
  });

  it('setPattern changes only the pattern', () => {
    const s = createQkStore();
    s.getState().setPattern('induction');
    expect(s.getState().source).toEqual({ ...DEFAULT_INPUTS.source, pattern: 'induction' });
  });
});

describe('setView and setCompute', () => {
  it('clamps the view head to [0, heads − 1]', () => {
    const s = createQkStore();
    s.getState().setView({ head: 99 });
    expect(s.getState().view.head).toBe(DEFAULT_INPUTS.source.heads - 1);
    s.getState().setView({ head: -3 });
    expect(s.getState().view.head).toBe(0);
    s.getState().setView({ head: 5 });
    expect(s.getState().view.head).toBe(5);
    s.getState().setSource({ heads: 2, kvHeads: 1 });
    s.getState().setView({ head: 5 });
    expect(s.getState().view.head).toBe(1);
  });

  it('keeps other view options when one changes', () => {
    const s = createQkStore();
    s.getState().setView({ mode: 'logWeights' });
    s.getState().setView({ colormap: 'magma' });
    expect(s.getState().view).toEqual({ ...DEFAULT_INPUTS.view, mode: 'logWeights', colormap: 'magma' });
  });

  it('setBackend and setCompute patch the compute settings', () => {
    const s = createQkStore();
    s.getState().setBackend('wasm');
    s.getState().setCompute({ scale: 0.5 });
    expect(s.getState().compute).toEqual({ ...DEFAULT_INPUTS.compute, backend: 'wasm', scale: 0.5 });
  });
});

describe('selection', () => {
  it('hover sets and clears the hovered cell', () => {
    const s = createQkStore();
    s.getState().hover({ q: 3, k: 1 });
    expect(s.getState().selection.hover).toEqual({ q: 3, k: 1 });
    s.getState().hover(null);
    expect(s.getState().selection.hover).toBeNull();
  });

  it('hover with an equal cell does not notify subscribers', () => {
    const s = createQkStore();
    const c = counter(s);
    s.getState().hover({ q: 3, k: 1 });
    expect(c.get()).toBe(1);
    s.getState().hover({ q: 3, k: 1 }); // equal, new object
    s.getState().hover({ q: 3, k: 1 });
    expect(c.get()).toBe(1);
    s.getState().hover({ q: 3, k: 2 });
    expect(c.get()).toBe(2);
    s.getState().hover({ q: 3, k: null });
    expect(c.get()).toBe(3);
    s.getState().hover({ q: 3, k: null });
    expect(c.get()).toBe(3);
    s.getState().hover(null);
    s.getState().hover(null);
    expect(c.get()).toBe(4);
    c.unsub();
  });

  it('hoverHead notifies only on change', () => {
    const s = createQkStore();
    const c = counter(s);
    s.getState().hoverHead(2);
    s.getState().hoverHead(2);
    expect(c.get()).toBe(1);
    expect(s.getState().selection.hoverHead).toBe(2);
    s.getState().hoverHead(null);
    s.getState().hoverHead(null);
    expect(c.get()).toBe(2);
    expect(s.getState().selection.hoverHead).toBeNull();
  });

  it('lock() with no argument locks the hovered cell', () => {
    const s = createQkStore();
    s.getState().hover({ q: 4, k: 2 });
    s.getState().lock();
    expect(s.getState().selection.locked).toEqual({ q: 4, k: 2 });
    // the hover stays
    expect(s.getState().selection.hover).toEqual({ q: 4, k: 2 });
  });

  it('lock() with nothing hovered and nothing locked stays unlocked', () => {
    const s = createQkStore();
    s.getState().lock();
    expect(s.getState().selection.locked).toBeNull();
  });

  it('locking the locked cell again unlocks it', () => {
    const s = createQkStore();
    s.getState().lock({ q: 1, k: 1 });
    expect(s.getState().selection.locked).toEqual({ q: 1, k: 1 });
    s.getState().lock({ q: 1, k: 1 });
    expect(s.getState().selection.locked).toBeNull();
    // via the hovered cell too
    s.getState().hover({ q: 5, k: null });
    s.getState().lock();
    expect(s.getState().selection.locked).toEqual({ q: 5, k: null });
    s.getState().lock();
    expect(s.getState().selection.locked).toBeNull();
  });

  it('locking another cell moves the lock', () => {
    const s = createQkStore();
    s.getState().lock({ q: 1, k: 1 });
    s.getState().lock({ q: 2, k: 0 });
    expect(s.getState().selection.locked).toEqual({ q: 2, k: 0 });
    s.getState().lock({ q: 2, k: null });
    expect(s.getState().selection.locked).toEqual({ q: 2, k: null });
  });

  it('lock(null) unlocks', () => {
    const s = createQkStore({ locked: { q: 3, k: 3 } });
    s.getState().lock(null);
    expect(s.getState().selection.locked).toBeNull();
  });

  it('clearSelection clears hover and lock but not the hovered head', () => {
    const s = createQkStore();
    s.getState().hover({ q: 1, k: 0 });
    s.getState().lock({ q: 2, k: 2 });
    s.getState().hoverHead(3);
    s.getState().clearSelection();
    expect(s.getState().selection).toEqual({ hover: null, locked: null, hoverHead: 3, marks: null });
  });

  it('activeCell prefers the locked cell over the hovered one', () => {
    expect(activeCell({ hover: null, locked: null, hoverHead: null, marks: null })).toBeNull();
    expect(activeCell({ hover: { q: 1, k: 1 }, locked: null, hoverHead: null, marks: null })).toEqual({ q: 1, k: 1 });
    expect(activeCell({ hover: { q: 1, k: 1 }, locked: { q: 2, k: null }, hoverHead: null, marks: null })).toEqual({ q: 2, k: null });
    expect(activeCell({ hover: null, locked: { q: 0, k: 0 }, hoverHead: null, marks: null })).toEqual({ q: 0, k: 0 });
    const s = createQkStore();
    s.getState().hover({ q: 7, k: 3 });
    s.getState().lock({ q: 2, k: 2 });
    expect(activeCell(s.getState().selection)).toEqual({ q: 2, k: 2 });
  });

  it('marks key columns for the text they were made on only, and clears them on request', () => {
    const s = createQkStore();
    const tokens = ['Q', ':', 'A', '\n', 'B', '\n'];
    s.getState().setMarks({ keys: [3, 5], labels: ['A', 'B'], right: 1, note: 'option line ends', tokens });
    expect(marksFor(s.getState().selection, tokens)?.keys).toEqual([3, 5]);
    // Another text (even of the same length) shows no marks.
    expect(marksFor(s.getState().selection, ['Q', ':', 'A', '\n', 'C', '\n'])).toBeNull();
    expect(marksFor(s.getState().selection, tokens.slice(0, 4))).toBeNull();
    expect(marksFor(s.getState().selection, undefined)).toBeNull();
    // Locking a cell keeps them; clearing them removes them.
    s.getState().lock({ q: 5, k: 3 });
    expect(marksFor(s.getState().selection, tokens)?.labels).toEqual(['A', 'B']);
    s.getState().setMarks(null);
    expect(s.getState().selection.marks).toBeNull();
  });
});

describe('notices and derived state', () => {
  it('caps notices at 8, keeping the newest', () => {
    const s = createQkStore();
    s.getState().addNotices(['a', 'b', 'c']);
    expect(s.getState().derived.notices).toEqual(['a', 'b', 'c']);
    s.getState().addNotices(Array.from({ length: 10 }, (_, i) => `n${i}`));
    const n = s.getState().derived.notices;
    expect(n).toHaveLength(8);
    expect(n).toEqual(['n2', 'n3', 'n4', 'n5', 'n6', 'n7', 'n8', 'n9']);
    for (let i = 0; i < 20; i++) s.getState().addNotices([`m${i}`]);
    expect(s.getState().derived.notices).toHaveLength(8);
    expect(s.getState().derived.notices.at(-1)).toBe('m19');
  });

  it('dismissNotice removes one notice by index', () => {
    const s = createQkStore({ notices: ['a', 'b', 'c'] });
    s.getState().dismissNotice(1);
    expect(s.getState().derived.notices).toEqual(['a', 'c']);
    s.getState().dismissNotice(5);
    expect(s.getState().derived.notices).toEqual(['a', 'c']);
  });

  it('setDerived patches without losing notices', () => {
    const s = createQkStore({ notices: ['kept'] });
    s.getState().setDerived({ status: 'computing' });
    s.getState().setDerived({ status: 'error', error: 'boom' });
    const d = s.getState().derived;
    expect(d.status).toBe('error');
    expect(d.error).toBe('boom');
    expect(d.notices).toEqual(['kept']);
  });
});

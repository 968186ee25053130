import { CancelledError, LongEngine, type PooledMap } from '../../compute/long/engine';
import type { LongMask } from '../../compute/long/protocol';
import { headMapping } from '../../core/headMap';
import { longText } from '../../core/longText';
import { memoryBudget, planLong, poolBy } from '../../core/longPlan';
import { tokenize } from '../../core/tokenize';
import type { LongMap, LongState, LongStore } from '../../state/longStore';
import type { ImportedSource } from '../../io/types';

export interface LongController {
  engine: LongEngine;
  /** Shows a Q/K dump's layers (the caller read and checked the file). */
  openDump(src: ImportedSource): void;
  /** Stops the running computation; what was on screen stays. */
  cancel(): void;
  dispose(): void;
}

const mean = (a: Float32Array, live: Float32Array) => {
  let s = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    if (!(live[i] > 0)) continue;
    s += a[i];
    n++;
  }
  return n ? s / n : 0;
};

function toMap(m: PooledMap, key: string, layer: number, keepStats: boolean): LongMap {
  const st = m.stats;
  return { key, layer, head: m.head, f: m.f, P: m.P, Pc: m.Pc, map: m.map, stats: keepStats ? st : undefined, summary: { entropy: mean(st.entropy, st.sum), distance: mean(st.distance, st.sum), sink: mean(st.sink, st.sum) } };
}

function maskOf(s: LongState): LongMask {
  if (s.method.kind === 'dense' || !s.causal) return { causal: s.causal };
  return { causal: true, window: Math.max(1, s.method.window), sinks: s.method.kind === 'sinks' ? Math.max(0, s.method.sinks) : 0 };
}

/**
 * Wires the long-context page's store to the engine: draws or reads the layer's Q and K, plans
 * the memory, computes the shown head's map first (the first heatmap), then the other heads for
 * the grid two at a time (a head switch is served between them), then the exact window the
 * zoomed heatmap asks for. The newest state wins; Cancel stops the workers and keeps the screen.
 */
export function startLongController(store: LongStore, opts: { engine?: LongEngine; budget?: number } = {}): LongController {
  const engine = opts.engine ?? new LongEngine();
  const nav = typeof navigator !== 'undefined' ? (navigator as Navigator & { deviceMemory?: number }) : undefined;
  const budget = opts.budget ?? memoryBudget(nav?.deviceMemory);
  let dump: ImportedSource | null = null;
  let running = false;
  let again = false;
  let stopped = false;

  const progress = (label: string) => (done: number, total: number) => store.getState().set({ job: { label, done, total } });

  async function layerInputs(s: LongState, key: string): Promise<void> {
    const src = s.source;
    if (src.kind === 'synthetic') {
      const text = src.text ?? longText(src.N, src.textSeed);
      const tokens = tokenize(text, src.N).slice(0, src.N).map((t) => t.text);
      if (tokens.length < 2) throw new Error('the text has fewer than 2 tokens; paste a longer text');
      if (src.heads % src.kvHeads !== 0) throw new Error(`${src.heads} query heads cannot share ${src.kvHeads} KV heads; pick a divisor of ${src.heads}`);
      store.getState().set({ job: { label: `Drawing Q and K (${src.heads} heads × ${tokens.length} tokens × ${src.headDim})`, done: 0, total: 1 } });
      const kvOf = headMapping(src.heads, src.kvHeads);
      const x = await engine.synthetic({ tokens, pattern: src.pattern, heads: src.heads, kvHeads: src.kvHeads, headDim: src.headDim, temperature: 1, seed: src.seed + 1000 * s.layer }, kvOf, 1 / Math.sqrt(src.headDim));
      store.getState().set({ tokens, inputs: { key, q: x.q, k: x.k, H: x.H, Hkv: x.Hkv, N: x.Nq, d: x.d, kvOf, scale: x.scale }, view: null, grid: Array(x.H).fill(null), window: null });
      return;
    }
    if (!dump) throw new Error('the dump is no longer open; open the file again');
    const layer = dump.layers[Math.min(s.layer, dump.layers.length - 1)];
    const qkv = layer.qkv!;
    const [H, N, d] = qkv.q.shape;
    const Hkv = qkv.k.shape[0];
    const kvOf = headMapping(H, Hkv);
    const scale = layer.scale ?? 1 / Math.sqrt(d);
    engine.setInputs({ q: qkv.q.data, k: qkv.k.data, H, Hkv, Nq: N, Nk: N, d, kvOf, scale });
    store.getState().set({ tokens: layer.queryTokens, inputs: { key, q: qkv.q.data, k: qkv.k.data, H, Hkv, N, d, kvOf, scale }, view: null, grid: Array(H).fill(null), window: null });
  }

  /** A pooled request on the chosen backend; a tfjs backend that fails hands over to the kernel (and the page says so). */
  async function pooled(heads: number[], f: number, mask: LongMask, onProgress: (d: number, t: number) => void, backend: LongState['backend']): Promise<PooledMap[]> {
    if (backend === 'kernel') return engine.pooled(heads, f, mask, onProgress);
    try {
      return await engine.pooled(heads, f, mask, onProgress, backend);
    } catch (e) {
      if (e instanceof CancelledError) throw e;
      store.getState().set({ backend: 'kernel', notice: `${backend} failed (${(e as Error).message}); computed with the WebAssembly kernel instead.` });
      return engine.pooled(heads, f, mask, onProgress);
    }
  }

  async function step(): Promise<void> {
    let s = store.getState();
    const layerKey = JSON.stringify([s.source, s.layer]);
    if (s.inputs?.key !== layerKey) await layerInputs(s, layerKey);
    s = store.getState();
    const x = s.inputs!;
    const plan = planLong({ Nq: x.N, Nk: x.N, H: x.H, Hkv: x.Hkv, d: x.d, workers: engine.workers, budget });
    if (s.plan?.totalBytes !== plan.totalBytes || s.plan.budget !== plan.budget) store.getState().set({ plan });
    if (plan.status === 'over') throw new Error(plan.lines.at(-1)!);
    const mask = maskOf(s);
    const mapKey = JSON.stringify([layerKey, mask, s.backend]);
    const backend = s.backend;
    const head = Math.min(s.head, x.H - 1);
    const t0 = performance.now();
    if (s.view?.key !== mapKey || s.view.head !== head) {
      const [m] = await pooled([head], plan.fView, mask, progress(`Head ${head}: ${plan.view[0]} × ${plan.view[1]} map`), backend);
      const view = toMap(m, mapKey, s.layer, true);
      const grid = store.getState().grid.slice();
      const tile = poolBy(view.map, view.P, view.Pc, plan.fGrid / plan.fView);
      grid[head] = { ...view, stats: undefined, f: plan.fGrid, ...tile };
      store.getState().set({ view, grid, window: null, timings: { ...store.getState().timings, view: performance.now() - t0, kernel: engine.last.variant } });
    }
    if (again) return;
    // The grid: the heads not yet computed for this layer and mask, two per request.
    const g0 = performance.now();
    let computed = false;
    for (;;) {
      const grid = store.getState().grid;
      const missing = grid.map((m, h) => (m?.key === mapKey ? -1 : h)).filter((h) => h >= 0);
      if (!missing.length) break;
      const batch = missing.slice(0, 2);
      const done0 = x.H - missing.length;
      const maps = await pooled(batch, plan.fGrid, mask, (d, t) => progress(`Grid: ${x.H} heads at ${plan.grid[0]} × ${plan.grid[1]}`)((done0 * t) / batch.length + d, (x.H * t) / batch.length), backend);
      const next = store.getState().grid.slice();
      for (const m of maps) next[m.head] = toMap(m, mapKey, s.layer, false);
      store.getState().set({ grid: next });
      computed = true;
      if (again) return;
    }
    if (computed) {
      store.getState().set({ timings: { ...store.getState().timings, grid: performance.now() - g0 } });
      if (performance.getEntriesByName('qk:long-grid').length === 0) performance.mark('qk:long-grid');
    }
    // The exact window the zoomed heatmap wants.
    const want = store.getState().wantWindow;
    const view = store.getState().view;
    if (want && view?.stats) {
      const wk = JSON.stringify([mapKey, head, want]);
      if (store.getState().window?.key !== wk) {
        const w0 = performance.now();
        const data = await engine.window(head, mask, view.stats, want.r0, want.r1, want.c0, want.c1);
        store.getState().set({ window: { key: wk, ...want, data }, timings: { ...store.getState().timings, window: performance.now() - w0 } });
      }
    }
  }

  async function run(): Promise<void> {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        try {
          await step();
          if (!again) store.getState().set({ job: null, error: null });
        } catch (e) {
          if (e instanceof CancelledError) {
            store.getState().set({ job: null, notice: 'Cancelled: the maps on screen are the last ones computed.' });
            again = false;
          } else {
            // A change made while the failed step ran still gets its turn.
            store.getState().set({ job: null, error: (e as Error).message });
          }
        }
      } while (again && !stopped);
    } finally {
      running = false;
    }
  }

  const unsubscribe = store.subscribe((s, p) => {
    if (s.source !== p.source || s.layer !== p.layer || s.head !== p.head || s.method !== p.method || s.causal !== p.causal || s.backend !== p.backend || s.wantWindow !== p.wantWindow) {
      if (s.source !== p.source || s.layer !== p.layer) store.getState().set({ notice: null, error: null });
      void run();
    }
  });
  void run();

  return {
    engine,
    openDump(src) {
      dump = src;
      store.getState().setSource({ kind: 'dump', name: src.name, layers: src.layers.length });
    },
    cancel() {
      again = false;
      engine.cancel();
    },
    dispose() {
      stopped = true;
      unsubscribe();
      engine.dispose();
    },
  };
}

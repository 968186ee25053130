/**
 * The benchmark and test harness page (bench.html): exposes `window.qkHarness` so that
 * `npm run bench` and the browser tests can drive the real compute and drawing code in Chromium.
 */
import { activate, BACKENDS, setForcedFailures, type BackendName } from '../compute/backends';
import { bareFloor, denseAttention, type KernelOptions } from '../compute/attention';
import { runAttention, variantFor } from '../compute/engine';
import { ComputeClient } from '../compute/client';
import { liveTensors } from '../compute/backends';
import { referenceAttention } from '../core/referenceAttention';
import { syntheticQKV } from '../core/synthetic';
import type { QKV } from '../core/tensor';
import { paintMap, prepareCanvas } from '../views/shared/paint';
import { drawHeatmapOverlay } from '../views/heatmap/drawOverlay';
import { mapSpec } from '../views/shared/mapSpec';
import { visibleWindow, IDENTITY } from '../core/layout';
import type { ViewResult } from '../state/result';
import { runGrouping } from '../methods/run';
import { blockSparseAttention } from '../compute/blockSparse';
import { mobaSelect } from '../methods/sparse/moba';
import { windowSelect } from '../methods/sparse/window';
import { flexPrefillSelect } from '../methods/sparse/flexprefill';
import { runSparse } from '../methods/sparse/run';
import { SPARSE_METHODS, sparseParams } from '../methods/sparse/registry';
import { fileFromBytes, inspectCheckpoint, readWeights } from '../models/checkpoint';
import { createModel, forward } from '../compute/forward';
import { mulberry32 } from '../core/prng';
import { median, time } from './harnessTime';
import { benchModel } from './harnessModel';
import './harnessLong';


function randomInputs(H: number, Hkv: number, N: number, d: number, seed = 1): QKV {
  const tokens = Array.from({ length: N }, (_, i) => `w${i % 251}`);
  return syntheticQKV({ tokens, pattern: 'random', heads: H, kvHeads: Hkv, headDim: d, temperature: 1, seed });
}

const harness = {
  backends: BACKENDS,
  /** Activates a backend; resolves with null or the reason it failed. */
  activate: (b: BackendName) => activate(b),
  forceFailures: (names: BackendName[]) => setForcedFailures(names),
  liveTensors,
  /** Runs a golden case on one backend (through the engine, so fallbacks are reported). */
  async compute(c: { H: number; Hkv: number; Nq: number; Nk: number; d: number; dv: number; causal: boolean; scale: number | null; layout: 'contiguous' | 'interleaved'; q: number[]; k: number[]; v: number[] }, backend: BackendName) {
    const inputs: QKV = {
      q: { shape: [c.H, c.Nq, c.d], data: Float32Array.from(c.q) },
      k: { shape: [c.Hkv, c.Nk, c.d], data: Float32Array.from(c.k) },
      v: { shape: [c.Hkv, c.Nk, c.dv], data: Float32Array.from(c.v) },
    };
    const before = liveTensors();
    const r = await runAttention({ inputs, options: { causal: c.causal, scale: c.scale, layout: c.layout }, backend });
    return {
      backend: r.backend,
      fallbacks: r.fallbacks,
      leaked: liveTensors() - before,
      scores: Array.from(r.scores!, (x) => (x === -Infinity ? null : x)),
      weights: Array.from(r.weights!),
      output: Array.from(r.output!),
      stats: { entropy: Array.from(r.stats!.entropy), distance: Array.from(r.stats!.distance), sinkMass: Array.from(r.stats!.sinkMass) },
    };
  },
  /**
   * Runs a grouping golden case (tests/golden/grouping.json) with the app's runGrouping on one
   * backend; arrays come back as plain numbers, with the tensors leaked.
   */
  async groupingCase(c: { method: string; params: Record<string, unknown>; causal: boolean; H: number; Hs: number; N: number; d: number; dv: number; steps: { q: number[]; k: number[]; v: number[] }[] }, backend: BackendName) {
    const steps: QKV[] = c.steps.map((s) => ({
      q: { shape: [c.H, c.N, c.d], data: Float32Array.from(s.q) },
      k: { shape: [c.Hs, c.N, c.d], data: Float32Array.from(s.k) },
      v: { shape: [c.Hs, c.N, c.dv], data: Float32Array.from(s.v) },
    }));
    const before = liveTensors();
    const used = new Set<string>();
    try {
      const r = await runGrouping(c.method, { ...steps[0], causal: c.causal, steps: c.method === 'dgqa' ? steps : undefined }, c.params, async (q) => {
        const res = await runAttention({ inputs: q.inputs, options: { causal: q.causal, scale: q.scale }, backend, want: { weights: true, output: true } });
        used.add(res.backend);
        return { weights: res.weights!, output: res.output! };
      }, { strict: true });
      return { ok: true as const, backends: [...used], leaked: liveTensors() - before, allocation: r.allocation, mapping: r.mapping, weights: Array.from(r.weights), output: Array.from(r.output), relFrob: r.metrics.relFrob };
    } catch (e) {
      return { ok: false as const, error: (e as Error).message, backends: [...used], leaked: liveTensors() - before };
    }
  },
  /**
   * A sparse golden case (scripts/make_sparse_goldens.py) on one backend: the selection (plain
   * TypeScript) and the block-sparse kernel through the engine, as the app will run them.
   */
  async sparseCase(c: { method: string; params: Record<string, number | boolean>; H: number; Hkv: number; N: number; d: number; dv: number; q: number[]; k: number[]; v: number[] }, backend: BackendName) {
    const q = { shape: [c.H, c.N, c.d], data: Float32Array.from(c.q) };
    let k = { shape: [c.Hkv, c.N, c.d], data: Float32Array.from(c.k) };
    const v = { shape: [c.Hkv, c.N, c.dv], data: Float32Array.from(c.v) };
    let sel;
    let rule = null;
    if (c.method === 'window') ({ selection: sel, rule } = windowSelect(c.H, c.N, { window: c.params.window as number, sinks: c.params.sinks as number, block: 4 }));
    else if (c.method === 'flexprefill') {
      const p = c.params as Record<string, never>;
      sel = flexPrefillSelect({ q, k }, { block: p.block, gamma: p.gamma, tau: p.tau, minBudget: p.minBudget, maxBudget: p.maxBudget ?? null, divisor: p.divisor, js: p.jsIntent ? 'intent' : 'faithful' }).selection;
    }
    else {
      const m = mobaSelect({ q, k }, { block: c.params.block as number, topk: c.params.topk as number, convWidth: c.params.convWidth as number | undefined });
      sel = m.selection;
      if (c.params.convInAttention) k = { shape: k.shape, data: Float32Array.from(m.routingKeys) };
    }
    const before = liveTensors();
    const r = await runAttention({ inputs: { q, k, v }, options: { causal: true }, backend, want: { weights: true, output: true }, sparse: { rowsPer: sel.rowsPer, nRows: sel.nRows, block: sel.block, nkb: sel.nkb, codes: sel.codes, rule } });
    const selected = Array.from({ length: c.H }, (_, h) => Array.from({ length: sel.nRows }, (_, i) => Array.from({ length: sel.nkb }, (_, J) => J).filter((J) => sel.codes[(h * sel.nRows + i) * sel.nkb + J] !== 0)));
    return { backend: r.backend, leaked: liveTensors() - before, selected, weights: Array.from(r.weights!), output: Array.from(r.output!) };
  },
  /**
   * Any sparse method of the registry on one backend through the engine (selection in plain
   * TypeScript, block-sparse or dense attention on the backend), for the SparseD, SALE and ThinK
   * goldens: the weights and outputs, and every backend that computed a part.
   */
  async sparseMethodCase(id: string, c: { params: Record<string, unknown>; causal: boolean; H: number; Hkv: number; N: number; d: number; dv: number; q: number[]; k: number[]; v: number[] }, backend: BackendName) {
    const x = { q: { shape: [c.H, c.N, c.d], data: Float32Array.from(c.q) }, k: { shape: [c.Hkv, c.N, c.d], data: Float32Array.from(c.k) }, v: { shape: [c.Hkv, c.N, c.dv], data: Float32Array.from(c.v) } };
    const used = new Set<string>();
    const before = liveTensors();
    const r = await runSparse(
      id,
      { ...x, causal: c.causal },
      c.params,
      async (inputs, o, sel, rule) => {
        const e = await runAttention({ inputs, options: o, backend, want: { weights: true, output: true }, sparse: { rowsPer: sel.rowsPer, nRows: sel.nRows, block: sel.block, nkb: sel.nkb, codes: sel.codes, rule } });
        used.add(e.backend);
        return { weights: e.weights!, output: e.output!, pairs: e.sparse!.pairs, computed: e.sparse!.computed };
      },
      async (inputs, o) => {
        const e = await runAttention({ inputs, options: o, backend, want: { weights: true, output: true } });
        used.add(e.backend);
        return { weights: e.weights!, output: e.output! };
      },
      { strict: true },
    );
    return { backends: [...used], leaked: liveTensors() - before, weights: Array.from(r.weights), output: Array.from(r.output) };
  },
  /**
   * A checkpoint (files as base64) through the loader and the tfjs forward pass on one backend,
   * for the model goldens: every layer's captures and the logits, the backend used and any
   * tensor left behind.
   */
  async modelCase(files: { name: string; b64: string }[], ids: number[], backend: BackendName) {
    const why = await activate(backend);
    if (why) return { error: why };
    const bytes = (b64: string) => Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
    const info = await inspectCheckpoint(files.map((f) => fileFromBytes(f.name, bytes(f.b64))));
    const weights = await readWeights(info);
    const before = liveTensors();
    const model = createModel(info.config, weights);
    try {
      const r = await forward(model, ids);
      const arr = (t: { data: Float32Array }) => Array.from(t.data);
      return { backend: r.backend, layers: r.layers.map((l) => ({ q_pre: arr(l!.qPre), k_pre: arr(l!.kPre), q: arr(l!.q), k: arr(l!.k), v: arr(l!.v), scores: arr(l!.scores), weights: arr(l!.weights), head_out: arr(l!.headOut), hidden_out: arr(l!.hiddenOut) })), logits: arr(r.logits!), leakedDuring: liveTensors() - before - model.weights.size };
    } finally {
      model.dispose();
    }
  },
  benchModel,
  /** Dense attention at N = 300 (several query blocks) on one backend against the plain-JS loop: max errors. */
  async blockedVsReference(backend: BackendName) {
    const tokens = Array.from({ length: 300 }, (_, i) => `w${i % 37}`);
    const inputs = syntheticQKV({ tokens, pattern: 'mixed', heads: 6, kvHeads: 2, headDim: 16, temperature: 0.7, seed: 5 });
    const before = liveTensors();
    const cases = [];
    let used = '';
    for (const causal of [true, false]) {
      const r = await runAttention({ inputs, options: { causal }, backend });
      used = r.backend;
      const ref = referenceAttention(inputs, { causal });
      const diff = (a: Float32Array, b: Float32Array, rel = false) => {
        let m = 0;
        for (let i = 0; i < a.length; i++) {
          if (a[i] === b[i]) continue;
          if (!Number.isFinite(a[i]) || !Number.isFinite(b[i])) return Infinity;
          m = Math.max(m, Math.abs(a[i] - b[i]) / (rel ? Math.max(1, Math.abs(b[i])) : 1));
        }
        return m;
      };
      cases.push({ causal, weights: diff(r.weights!, ref.weights), output: diff(r.output!, ref.output), scores: diff(r.scores!, ref.scores, true) });
    }
    return { backend: used, leaked: liveTensors() - before, cases };
  },
  /**
   * Median ms on one backend, in one run, on the same inputs (MHA, causal): dense attention as
   * the library computes it (weights and output read back) with each kernel variant, the bare
   * floor (batched QKᵀ matmul + softmax read back), and the app's own request (scores, weights
   * and head statistics, with the variant the app uses on this backend).
   * Large sizes skip the warm-up call (compilation is then a small part of a long run).
   */
  async benchAttention(opts: { backend: BackendName; H: number; N: number; d: number; reps: number; budgetMs: number; parts: ('dense:batched' | 'dense:perHead' | 'floor' | 'app')[]; kernel?: KernelOptions }) {
    const why = await activate(opts.backend);
    if (why) return { backend: opts.backend, N: opts.N, error: why };
    const inputs = randomInputs(opts.H, opts.H, opts.N, opts.d);
    const warm = opts.N <= 1024;
    const out: Record<string, unknown> = { backend: opts.backend, H: opts.H, N: opts.N, d: opts.d };
    const run = (fn: () => Promise<unknown>) => time(fn, opts.reps, opts.budgetMs, warm);
    try {
      for (const variant of ['batched', 'perHead'] as const) {
        if (opts.parts.includes(`dense:${variant}`)) out[`dense_${variant}_Ms`] = (await run(() => denseAttention(inputs, { causal: true }, { weights: true, output: true }, { ...opts.kernel, variant }))).median;
      }
      out.appVariant = variantFor(opts.backend);
      if (opts.parts.includes('floor')) out.floorMs = (await run(() => bareFloor(inputs))).median;
      if (opts.parts.includes('app')) out.appMs = (await run(() => denseAttention(inputs, { causal: true }, { scores: true, weights: true, stats: true }, { variant: variantFor(opts.backend), ...opts.kernel }))).median;
    } catch (e) {
      out.error = (e as Error).message.slice(0, 300);
    }
    out.leaked = liveTensors();
    return out;
  },
  /**
   * Block-sparse kernel against dense attention on one backend, same inputs, output only
   * (issue 6's benchmark): for each target density, a seeded block-level selection of causal
   * 64 × 64 blocks (the diagonal always kept, then random blocks until the density is reached).
   * Also MoBA's selection (gate and top-k, plain TypeScript) as a fraction of dense time.
   */
  async benchSparse(opts: { backend: BackendName; H: number; N: number; d: number; block: number; densities: number[]; reps: number; budgetMs: number }) {
    const why = await activate(opts.backend);
    if (why) return { backend: opts.backend, error: why };
    const { H, N, d, block } = opts;
    const inputs = randomInputs(H, H, N, d, 3);
    const nb = Math.ceil(N / block);
    const rand = mulberry32(11);
    const out: Record<string, unknown> = { backend: opts.backend, H, N, d, block };
    const run = (fn: () => Promise<unknown>) => time(fn, opts.reps, opts.budgetMs, N <= 1024);
    // Dense and sparse calls alternate, so that a slow spell of this shared machine touches both
    // sides of a ratio (separate blocks of runs gave ratios that moved by 2× between runs).
    const dense = () => denseAttention(inputs, { causal: true }, { output: true }, { variant: variantFor(opts.backend) });
    const denseRuns: number[] = [];
    try {
      out.denseMs = (await run(dense)).median;
      const rows = [];
      for (const target of opts.densities) {
        const codes = new Uint8Array(H * nb * nb);
        const causalBlocks: [number, number][] = [];
        for (let I = 0; I < nb; I++) for (let J = 0; J < I; J++) causalBlocks.push([I, J]);
        for (let h = 0; h < H; h++) {
          for (let I = 0; I < nb; I++) codes[(h * nb + I) * nb + I] = 1;
          // Off-diagonal blocks hold b² causal pairs each, the diagonal b(b+1)/2: pick enough for the target.
          const need = Math.max(0, Math.round((target * (N * (N + 1)) / 2 - nb * ((block * (block + 1)) / 2)) / (block * block)));
          const order = causalBlocks.map((b) => [rand(), b] as const).sort((a, c) => a[0] - c[0]);
          for (let n = 0; n < Math.min(need, order.length); n++) codes[(h * nb + order[n][1][0]) * nb + order[n][1][1]] = 1;
        }
        const spec = { rowsPer: block, nRows: nb, block, nkb: nb, codes, rule: null };
        let pairs = 0;
        let computed = 0;
        const sparseRuns: number[] = [];
        const pairedDense: number[] = [];
        for (let rep = 0; rep < opts.reps; rep++) {
          let t0 = performance.now();
          const r = await blockSparseAttention(inputs, { causal: true }, spec, false);
          sparseRuns.push(performance.now() - t0);
          pairs = r.pairs;
          computed = r.computed;
          t0 = performance.now();
          await dense();
          pairedDense.push(performance.now() - t0);
        }
        denseRuns.push(...pairedDense);
        const ms = median(sparseRuns);
        const dm = median(pairedDense);
        rows.push({ target, density: pairs / ((H * N * (N + 1)) / 2), computedFraction: computed / ((H * N * (N + 1)) / 2), ms, denseMs: dm, ratioToDense: ms / dm, sparseRuns, denseRuns: pairedDense });
      }
      out.rows = rows;
      out.denseMs = median(denseRuns);
      const moba = (await time(() => mobaSelect(inputs, { block: N / 8, topk: 3 }), 3, opts.budgetMs, false)).median;
      out.mobaSelectMs = moba;
      out.mobaSelectFraction = moba / (out.denseMs as number);
      // Every method's own selection (plain TypeScript, default parameters) against dense time,
      // each on the mask it is defined for; the video methods read the tokens as 16 frames of 16 × 16.
      const side = Math.round(Math.cbrt(N));
      const grid = side ** 3 === N ? { T: side, Hp: side, Wp: side } : { T: 1, Hp: 1, Wp: N };
      const selections = [];
      for (const m of SPARSE_METHODS) {
        const causal = (m.mask ?? 'causal') !== 'bidirectional';
        const x = { ...inputs, causal, grid };
        const { params } = sparseParams(m, x, {}, false);
        try {
          const t = (await time(async () => m.select(x, params), 1, opts.budgetMs, false)).median;
          selections.push({ id: m.id, ms: t, fractionOfDense: t / (out.denseMs as number), causal });
        } catch (e) {
          selections.push({ id: m.id, error: (e as Error).message.slice(0, 200) });
        }
      }
      out.selections = selections;
    } catch (e) {
      out.error = (e as Error).message.slice(0, 300);
    }
    out.leaked = liveTensors();
    return out;
  },
  /** Median ms of the plain-JavaScript reference loop (the same causal MHA computation). */
  async benchReference(opts: { H: number; N: number; d: number; reps: number; budgetMs: number }) {
    const inputs = randomInputs(opts.H, opts.H, opts.N, opts.d);
    return { N: opts.N, jsMs: (await time(() => referenceAttention(inputs, { causal: true }), opts.reps, opts.budgetMs, opts.N <= 1024)).median };
  },
  /** The app's backend measurement (what `auto` will pick). */
  async probe() {
    const { probe } = await import('../compute/engine');
    return probe();
  },
  /** Heatmap full draw and hover overlay redraw at N on a 620-px plot, as the app draws them. */
  async benchDraw(opts: { N: number; reps: number }) {
    const N = opts.N;
    const size = 620;
    const weights = new Float32Array(N * N);
    for (let i = 0; i < N; i++) {
      let sum = 0;
      for (let j = 0; j <= i; j++) sum += weights[i * N + j] = Math.random();
      for (let j = 0; j <= i; j++) weights[i * N + j] /= sum;
    }
    const tokens = Array.from({ length: N }, (_, i) => `t${i}`);
    const r = { key: 'bench', tokens, keyTokens: tokens, H: 1, Hkv: 1, N, Nk: N, d: 64, causal: true, mapping: [0], scores: weights, weights, stats: { entropy: new Float32Array(1), distance: new Float32Array(1), sinkMass: new Float32Array(1) }, backend: 'cpu', fallbacks: [], ms: 0, where: 'bench' } as ViewResult;
    const cells = document.createElement('canvas');
    const overlay = document.createElement('canvas');
    document.body.append(cells, overlay);
    const scratch = {};
    const full = await time(() => {
      const spec = mapSpec(r, 0, 'weights', 'viridis');
      const ctx = prepareCanvas(cells, size, size, 1);
      const { win, cellW, cellH } = visibleWindow(N, N, size, size, IDENTITY);
      paintMap(ctx, spec, win, { x: 0, y: 0, w: (win.c1 - win.c0) * cellW, h: (win.r1 - win.r0) * cellH }, 1, scratch);
      ctx.getImageData(0, 0, 1, 1); // force the draw to complete
    }, opts.reps, 20_000);
    let q = 0;
    const hover = await time(() => {
      const ctx = prepareCanvas(overlay, size, size, 1);
      q = (q + 37) % N;
      drawHeatmapOverlay(ctx, { q, k: (q * 7) % N }, false, N, N, size, IDENTITY, 1);
      ctx.getImageData(0, 0, 1, 1);
    }, opts.reps * 5, 20_000);
    cells.remove();
    overlay.remove();
    return { N, fullDrawMs: full.median, overlayMs: hover.median };
  },
  /** Runs 100 recomputations through the worker client and reports tensors and heap after. */
  async leakCheck(opts: { n: number; N: number; H: number }) {
    const client = new ComputeClient({});
    const tokens = Array.from({ length: opts.N }, (_, i) => `w${i % 50}`);
    const gc = (globalThis as { gc?: () => void }).gc;
    const heap = () => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? NaN;
    await client.request('warm', { inputs: syntheticQKV({ tokens, pattern: 'mixed', heads: opts.H, kvHeads: opts.H, headDim: 32, temperature: 1, seed: 0 }), options: { causal: true }, backend: 'auto' });
    const m0 = await client.memory();
    gc?.();
    const h0 = heap();
    for (let i = 1; i <= opts.n; i++) {
      const inputs = syntheticQKV({ tokens, pattern: 'mixed', heads: opts.H, kvHeads: opts.H, headDim: 32, temperature: 1, seed: i });
      await client.request(`k${i}`, { inputs, options: { causal: true }, backend: 'auto' });
    }
    const m1 = await client.memory();
    client.dispose();
    gc?.();
    return { recomputations: opts.n, backend: m1.backend, tensorsBefore: m0.numTensors, tensorsAfter: m1.numTensors, heapBeforeMB: h0 / 2 ** 20, heapAfterMB: heap() / 2 ** 20, gcExposed: !!gc };
  },
};

declare global {
  interface Window {
    qkHarness: typeof harness;
  }
}
window.qkHarness = harness;
document.getElementById('state')!.textContent = 'ready';
document.body.dataset.ready = '1';

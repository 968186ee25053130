import { ComputeClient, type Outcome } from '../compute/client';
import type { BackendName } from '../compute/backends';
import { FASTEST_KEY, rememberedFastest } from './remembered';
import { syntheticQKV } from '../core/synthetic';
import { headMapping } from '../core/headMap';
import { planCompute, clampCell } from '../state/request';
import { encodeState } from '../state/urlCodec';
import { importedLayer, inputsOf, type QkState, type QkStore } from '../state/store';
import { weightsOnlyResult } from './importedResult';
import { tokenCap } from '../state/caps';
import type { MethodView, SparseView, ViewResult } from '../state/result';
import { getSparseMethod } from '../methods/sparse/registry';
import { runSparse } from '../methods/sparse/run';
import { sweepMethods } from '../methods/sparse/sweep';
import { LIMITS } from '../state/defaults';
import { getMethod } from '../methods/registry';
import { runGrouping, type Attend, type AttendResult } from '../methods/run';
import { HeadCache } from '../methods/headCache';
import { ByteLru } from '../core/lru';
import { maxPoolMaps } from '../core/pool';
import type { QKV } from '../core/tensor';
import type { SyntheticSpec } from '../core/synthetic';
import type { ComputePlan } from '../state/request';

/** One computation the controller asks the client for: the synthetic source or an imported layer's Q/K/V. */
interface Prepared {
  key: string;
  tokens: string[];
  inputs: () => QKV;
  /** The token grid of the video-like source. */
  grid?: { T: number; Hp: number; Wp: number };
  /** DGQA's sequence of inputs (the synthetic source redrawn with successive seeds); absent for a file. */
  steps?: (first: QKV) => QKV[];
  options: ComputePlan['options'];
  backend: ComputePlan['backend'];
  H: number;
  Hkv: number;
  d: number;
}

/** A method's attention request was replaced by a newer one: drop this run quietly. */
class Superseded extends Error {}

/**
 * Wires a store to the compute layer: whenever the inputs that define a result change, it plans
 * the request, builds the synthetic Q/K/V and asks the client (newest request wins, cached by
 * key). The last good result stays visible while a new one computes, and failures become a
 * message, never a crash. In `auto` mode it measures every backend once in the background and
 * switches to the fastest.
 */
export function startController(store: QkStore, client: ComputeClient, opts: { syncUrl?: boolean; probe?: boolean } = {}): () => void {
  let fastest: BackendName | null = rememberedFastest();
  let probing = false;
  let generation = 0;
  let lastMessages = '';
  const headCache = new HeadCache();
  // Synthetic inputs of recent plans (the source and DGQA's steps), so that a method parameter
  // change does not rebuild them: at N = 1024 and 32 heads one build costs about 0.3 s here.
  const built = new ByteLru<QKV>(LIMITS.dgqaSteps + 2, () => 1);
  const synth = (key: string, spec: SyntheticSpec): QKV => {
    let x = built.get(key);
    if (!x) built.set(key, (x = syntheticQKV(spec)));
    return x;
  };

  const importIds = new WeakMap<object, number>();
  let importSeq = 0;
  const importId = (src: object) => {
    let id = importIds.get(src);
    if (id === undefined) importIds.set(src, (id = ++importSeq));
    return id;
  };

  /**
   * What to compute for the current inputs: the synthetic source, or the opened file's layer
   * (its Q/K/V, or — for a file of weights only — nothing, the maps are shown as read).
   */
  const prepare = (s: QkState): { prepared: Prepared } | { weightsOnly: ViewResult } | { error: string } => {
    const layer = importedLayer(s);
    if (!layer) {
      const planned = planCompute(s);
      if (!planned.plan) return { error: planned.error };
      const { plan } = planned;
      const spec: SyntheticSpec = plan.spec;
      return {
        prepared: {
          key: plan.key,
          tokens: plan.tokens,
          grid: plan.grid,
          inputs: () => synth(plan.key, spec),
          steps: (inputs) => Array.from({ length: LIMITS.dgqaSteps }, (_, t) => (t === 0 ? inputs : synth(`${plan.key}|step${t}`, { ...spec, seed: spec.seed + t }))),
          options: plan.options,
          backend: plan.backend,
          H: spec.heads,
          Hkv: spec.kvHeads,
          d: spec.headDim,
        },
      };
    }
    const id = importId(s.imported!);
    if (layer.weights) return { weightsOnly: weightsOnlyResult(layer, `import:${id}:${s.source.layer}`) };
    const qkv = layer.qkv!;
    const pre = s.source.positions === 'preRope' && qkv.qPre && qkv.kPre;
    const q = pre ? qkv.qPre! : qkv.q;
    const k = pre ? qkv.kPre! : qkv.k;
    const [H, N, d] = q.shape;
    const { cap, why } = tokenCap(s.compute.backend, H);
    if (N > cap) return { error: `This layer has ${N} tokens, more than the cap of ${cap} for ${H} heads: ${why}. Pick another backend, or open the file in the long-context view (?long=8192, up to 16384 tokens, maps in tiles); the last result stays on screen.` };
    const options = { causal: s.compute.causal, scale: s.compute.scale, layout: 'contiguous' as const };
    const key = JSON.stringify(['import', id, s.source.layer, pre ? 'pre' : 'captured', options.causal, options.scale, s.compute.backend]);
    return {
      prepared: { key, tokens: layer.queryTokens, inputs: () => ({ q, k, v: qkv.v ?? k }), options, backend: s.compute.backend, H, Hkv: k.shape[0], d },
    };
  };

  const run = async () => {
    const my = ++generation;
    const s = store.getState();
    const prep = prepare(s);
    if ('error' in prep) {
      s.setDerived({ status: s.derived.result ? 'done' : 'error', error: prep.error });
      return;
    }
    if ('weightsOnly' in prep) {
      if (s.method.id !== 'mha') {
        const desc = getMethod(s.method.id);
        s.addNotices([`${desc ? desc.label : s.method.id.slice(0, 40)} needs queries and keys; this file holds attention weights only, so the file's attention is shown.`]);
        s.setMethod('mha');
      }
      show(prep.weightsOnly, null);
      return;
    }
    const plan = prep.prepared;
    const autoKey = plan.backend === 'auto' ? `auto:${fastest ?? 'quick-start'}` : plan.backend;
    const key = `${plan.key}|${autoKey}`;
    s.setDerived({ status: 'computing', error: null });
    let outcome: Outcome;
    let method: MethodView | undefined;
    let methodError: string | null = null;
    /** Runs the store's method on the source; a bad method or parameter becomes a message. */
    const runMethod = async (inputs: QKV, reference: AttendResult): Promise<MethodView | undefined> => {
      const st = store.getState();
      const desc = getMethod(st.method.id);
      if (!desc) {
        st.addNotices([`There is no method "${st.method.id.slice(0, 40)}"; showing the source's attention (MHA).`]);
        st.setMethod('mha');
        return undefined;
      }
      const steps = desc.id === 'dgqa' && plan.steps ? plan.steps(inputs) : undefined;
      const attend: Attend = async (r) => {
        // Per-head requests (no key) are kept by the head cache, not by the client's.
        const o = await client.request(r.key ?? `once:${Math.random()}`, {
          inputs: r.inputs,
          options: { causal: r.causal, scale: r.scale, layout: 'contiguous' },
          backend: plan.backend,
          want: { weights: true, output: true, stats: true, scores: !!r.scores },
        }, { cache: r.key !== undefined });
        if (o.status === 'superseded' || my !== generation) throw new Superseded();
        return { weights: o.result.weights!, output: o.result.output!, scores: o.result.scores, stats: o.result.stats };
      };
      const t0 = performance.now();
      try {
        const m = await runGrouping(desc.id, { ...inputs, causal: plan.options.causal, scale: plan.options.scale, steps }, st.method.params, attend, {
          reference,
          cacheKey: key,
          scores: st.view.mode === 'scores',
          headCache,
        });
        const msgs = m.messages.join('\n');
        if (msgs && msgs !== lastMessages) store.getState().addNotices(m.messages);
        lastMessages = msgs;
        // Assigned, not spread: spreading would read (and so join) the lazily joined maps.
        return Object.assign(m, { label: desc.label, verified: desc.verified, citation: desc.citation, ms: performance.now() - t0 });
      } catch (e) {
        if (e instanceof Superseded) throw e;
        methodError = `Could not apply ${desc.label}: ${(e as Error).message}. Showing the source's attention instead.`;
        return undefined;
      }
    };
    /** Runs the store's sparse method: selection here, block-sparse attention in the worker. */
    const runSparseView = async (inputs: QKV, reference: { weights: Float32Array; output: Float32Array }, id: string, params: Record<string, string | number>, second = false): Promise<SparseView | undefined> => {
      const desc = getSparseMethod(id);
      if (!desc) {
        store.getState().addNotices([`There is no sparse method "${id.slice(0, 40)}" to show side by side.`]);
        return undefined;
      }
      const t0 = performance.now();
      try {
        const r = await runSparse(
          desc.id,
          { ...inputs, causal: plan.options.causal, scale: plan.options.scale, grid: plan.grid },
          params,
          async (x, o, sel, rule) => {
            const sKey = `${key}|sparse|${desc.id}|${JSON.stringify(params)}`;
            const res = await client.request(sKey, { inputs: x, options: { ...o, layout: 'contiguous' }, backend: plan.backend, want: { weights: true, output: true }, sparse: { rowsPer: sel.rowsPer, nRows: sel.nRows, block: sel.block, nkb: sel.nkb, codes: sel.codes, rule } });
            if (res.status === 'superseded' || my !== generation) throw new Superseded();
            return { weights: res.result.weights!, output: res.result.output!, pairs: res.result.sparse!.pairs, computed: res.result.sparse!.computed };
          },
          async () => reference,
          { reference },
        );
        const msgs = r.messages.join('\n');
        if (msgs && msgs !== lastMessages) store.getState().addNotices(r.messages);
        lastMessages = msgs;
        return Object.assign(r, { label: desc.label, verified: desc.verified, citation: desc.citation, ms: performance.now() - t0 });
      } catch (e) {
        if (e instanceof Superseded) throw e;
        if (second) store.getState().addNotices([`Could not show ${desc.label} side by side: ${(e as Error).message}.`]);
        else methodError = `Could not apply ${desc.label}: ${(e as Error).message}. Showing the source's attention instead.`;
        return undefined;
      }
    };
    let sparse: SparseView | undefined;
    let sparse2: SparseView | undefined;
    let used: QKV | null = null;
    try {
      const inputs = plan.inputs();
      used = inputs;
      outcome = await client.request(key, { inputs, options: plan.options, backend: plan.backend, want: { scores: true, weights: true, stats: true, output: true } });
      const id = store.getState().method.id;
      if (outcome.status === 'done' && getSparseMethod(id)) {
        const r = outcome.result;
        const st = store.getState();
        const ref = { weights: r.weights!, output: r.output! };
        sparse = await runSparseView(inputs, ref, id, st.method.params);
        const vs = st.method.versus;
        if (sparse && vs) sparse2 = await runSparseView(inputs, ref, vs.id, vs.params, true);
      } else if (outcome.status === 'done' && id !== 'mha') {
        const r = outcome.result;
        method = await runMethod(inputs, { weights: r.weights!, output: r.output!, scores: r.scores, stats: r.stats });
      }
    } catch (e) {
      if (e instanceof Superseded || my !== generation) return;
      store.getState().setDerived({ status: store.getState().derived.result ? 'done' : 'error', error: `Could not compute attention: ${(e as Error).message}` });
      return;
    }
    if (outcome.status === 'superseded' || my !== generation) return;
    const r = outcome.result;
    const { H, Hkv, d } = plan;
    show(
      {
        key,
        tokens: plan.tokens,
        keyTokens: plan.tokens,
        H,
        Hkv,
        N: plan.tokens.length,
        Nk: plan.tokens.length,
        d,
        causal: plan.options.causal ?? true,
        mapping: headMapping(H, Hkv),
        scores: r.scores!,
        weights: r.weights!,
        stats: r.stats!,
        backend: r.backend,
        fallbacks: r.fallbacks,
        ms: r.ms,
        where: client.where,
        method,
        sparse,
        sparse2,
        grid: plan.grid,
      },
      methodError,
    );
    if (sparse && used) void runSweep(my, key, { ...used, grid: plan.grid }, r.weights!, plan.options.causal ?? true);
    void runLayerGrid(my);
    // The backend measurement keeps the worker busy for seconds: not while a file or model is
    // being read (the default address opens the built-in model), so that it shows first.
    if (opts.probe !== false && !probing && fastest === null && plan.backend === 'auto' && !store.getState().importState.reading) void runProbe();
  };

  /**
   * After a sparse result: mass kept against density for every sparse method on the same input
   * (selections only, no attention), yielding between points so the page stays responsive.
   */
  const runSweep = async (my: number, key: string, x: QKV & { grid?: { T: number; Hp: number; Wp: number } }, dense: Float32Array, causal: boolean) => {
    const st = store.getState();
    const sweepKey = `${key}|${st.method.id}|${JSON.stringify(st.method.params)}`;
    if (st.derived.sweep?.key === sweepKey) return;
    try {
      const curves = await sweepMethods({ ...x, causal }, dense, { [st.method.id]: st.method.params }, async () => {
        await new Promise((r) => setTimeout(r, 0));
        if (my !== generation) throw new Superseded();
      });
      if (my === generation) store.getState().setDerived({ sweep: { key: sweepKey, curves } });
    } catch (e) {
      if (!(e instanceof Superseded)) store.getState().addNotices([`The sweep of the sparse methods failed: ${(e as Error).message}`]);
    }
  };

  /**
   * After a result of a multi-layer source with Q/K/V: every layer's attention, one layer at a
   * time in the background (each request is the one the layer picker would make, so picking a
   * layer later is a cache hit), max-pooled to at most 32 × 32 per head for the layer × head grid.
   */
  const runLayerGrid = async (my: number) => {
    const s0 = store.getState();
    const src = s0.imported;
    // No request of this loop can overtake the view's: it starts after the view's result is shown
    // and stops at the first await that finds a newer generation (whose request then runs next).
    if (s0.source.kind !== 'imported' || !src || src.kind !== 'qkv' || src.layers.length < 2) {
      if (s0.derived.layerGrid) s0.setDerived({ layerGrid: null });
      return;
    }
    const gridKey = `${importId(src)}|${s0.source.positions}|${s0.compute.causal}|${s0.compute.scale}`;
    const have = s0.derived.layerGrid;
    if (have?.key === gridKey && have.maps.every(Boolean)) return;
    const L = src.layers.length;
    const N = src.layers[0].qkv!.q.shape[1];
    const P = Math.min(N, 32);
    const maps: (Float32Array | null)[] = have?.key === gridKey ? have.maps.slice() : Array(L).fill(null);
    for (let l = 0; l < L; l++) {
      if (maps[l]) continue;
      if (my !== generation) return;
      const st = store.getState();
      const prep = prepare({ ...st, source: { ...st.source, layer: l } });
      if (!('prepared' in prep)) return;
      const p = prep.prepared;
      const autoKey = p.backend === 'auto' ? `auto:${fastest ?? 'quick-start'}` : p.backend;
      const o = await client.request(`${p.key}|${autoKey}`, { inputs: p.inputs(), options: p.options, backend: p.backend, want: { scores: true, weights: true, stats: true, output: true } });
      if (o.status !== 'done' || my !== generation) return;
      maps[l] = maxPoolMaps(o.result.weights!, p.H, N, P);
      store.getState().setDerived({ layerGrid: { key: gridKey, L, H: p.H, P, N, maps: maps.slice() } });
      await new Promise((r) => setTimeout(r, 0));
    }
  };

  /** Puts a result on screen and keeps the selection inside it. */
  const show = (result: ViewResult, error: string | null) => {
    const st = store.getState();
    const sel = st.selection;
    const locked = clampCell(sel.locked, result.N, result.Nk);
    st.setDerived({ status: 'done', result, error });
    if (locked !== sel.locked) store.setState({ selection: { ...sel, locked, hover: clampCell(sel.hover, result.N, result.Nk) } });
  };

  const runProbe = async () => {
    probing = true;
    try {
      const p = await client.probe();
      fastest = p.fastest;
      try {
        localStorage.setItem(FASTEST_KEY, p.fastest);
      } catch {
        /* private mode: measure again next visit */
      }
      store.getState().setDerived({ probe: p });
      if (store.getState().compute.backend === 'auto') await run();
    } catch (e) {
      store.getState().addNotices([`Backend measurement failed: ${(e as Error).message}`]);
    } finally {
      probing = false;
    }
  };

  // The method's scores are read back only while the map shows scores.
  const relevant = (a: QkState, b: QkState) =>
    a.source !== b.source ||
    a.imported !== b.imported || a.compute !== b.compute || a.method !== b.method || (a.method.id !== 'mha' && (a.view.mode === 'scores') !== (b.view.mode === 'scores'));
  const unsub = store.subscribe((s, prev) => {
    if (relevant(s, prev)) void run();
  });

  let urlTimer: ReturnType<typeof setTimeout> | null = null;
  const unsubUrl = opts.syncUrl
    ? store.subscribe((s, prev) => {
        if (s.source === prev.source && s.compute === prev.compute && s.method === prev.method && s.view === prev.view && s.selection.locked === prev.selection.locked) return;
        if (urlTimer) clearTimeout(urlTimer);
        urlTimer = setTimeout(() => {
          const st = store.getState();
          const q = encodeState({ inputs: inputsOf(st), locked: st.selection.locked });
          // Test hooks stay in the address bar but are not part of the shared state.
          const cur = new URLSearchParams(location.search);
          // So do how the page shows it: a lesson and its step, presentation mode.
          const hooks = ['fail', 'worker', 'present', 'lesson', 'lstep'].filter((h) => cur.has(h)).map((h) => `&${h}=${encodeURIComponent(cur.get(h)!)}`);
          history.replaceState(null, '', `?${q}${hooks.join('')}`);
        }, 250);
      })
    : () => undefined;

  void run();
  return () => {
    unsub();
    unsubUrl();
  };
}


import { ComputeClient, type Outcome } from '../compute/client';
import type { BackendName } from '../compute/backends';
import { FASTEST_KEY, rememberedFastest } from './remembered';
import { syntheticQKV } from '../core/synthetic';
import { headMapping } from '../core/headMap';
import { planCompute, clampCell } from '../state/request';
import { encodeState } from '../state/urlCodec';
import { inputsOf, type QkState, type QkStore } from '../state/store';
import type { MethodView, ViewResult } from '../state/result';
import { LIMITS } from '../state/defaults';
import { getMethod } from '../methods/registry';
import { runGrouping, type Attend, type AttendResult } from '../methods/run';
import { HeadCache } from '../methods/headCache';
import { ByteLru } from '../core/lru';
import type { QKV } from '../core/tensor';
import type { SyntheticSpec } from '../core/synthetic';
import type { ComputePlan } from '../state/request';

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

  const run = async () => {
    const my = ++generation;
    const s = store.getState();
    const planned = planCompute(s);
    if (!planned.plan) {
      s.setDerived({ status: s.derived.result ? 'done' : 'error', error: planned.error });
      return;
    }
    const { plan } = planned;
    const autoKey = plan.backend === 'auto' ? `auto:${fastest ?? 'quick-start'}` : plan.backend;
    const key = `${plan.key}|${autoKey}`;
    s.setDerived({ status: 'computing', error: null });
    let outcome: Outcome;
    let method: MethodView | undefined;
    let methodError: string | null = null;
    /** Runs the store's method on the source; a bad method or parameter becomes a message. */
    const runMethod = async (plan: ComputePlan, key: string, inputs: QKV, reference: AttendResult): Promise<MethodView | undefined> => {
      const st = store.getState();
      const desc = getMethod(st.method.id);
      if (!desc) {
        st.addNotices([`There is no method "${st.method.id.slice(0, 40)}"; showing the source's attention (MHA).`]);
        st.setMethod('mha');
        return undefined;
      }
      const spec: SyntheticSpec = plan.spec;
      const steps = desc.id === 'dgqa' ? Array.from({ length: LIMITS.dgqaSteps }, (_, t) => (t === 0 ? inputs : synth(`${plan.key}|step${t}`, { ...spec, seed: spec.seed + t }))) : undefined;
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
    try {
      const inputs = synth(plan.key, plan.spec);
      outcome = await client.request(key, { inputs, options: plan.options, backend: plan.backend, want: { scores: true, weights: true, stats: true, output: true } });
      if (outcome.status === 'done' && store.getState().method.id !== 'mha') {
        const r = outcome.result;
        method = await runMethod(plan, key, inputs, { weights: r.weights!, output: r.output!, scores: r.scores, stats: r.stats });
      }
    } catch (e) {
      if (e instanceof Superseded || my !== generation) return;
      store.getState().setDerived({ status: store.getState().derived.result ? 'done' : 'error', error: `Could not compute attention: ${(e as Error).message}` });
      return;
    }
    if (outcome.status === 'superseded' || my !== generation) return;
    const r = outcome.result;
    const { heads: H, kvHeads: Hkv, headDim: d } = plan.spec;
    const result: ViewResult = {
      key,
      tokens: plan.tokens,
      H,
      Hkv,
      N: plan.tokens.length,
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
    };
    const st = store.getState();
    const sel = st.selection;
    const locked = clampCell(sel.locked, result.N);
    st.setDerived({ status: 'done', result, error: methodError });
    if (locked !== sel.locked) store.setState({ selection: { ...sel, locked, hover: clampCell(sel.hover, result.N) } });
    if (opts.probe !== false && !probing && fastest === null && plan.backend === 'auto') void runProbe();
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
    a.source !== b.source || a.compute !== b.compute || a.method !== b.method || (a.method.id !== 'mha' && (a.view.mode === 'scores') !== (b.view.mode === 'scores'));
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
          const hooks = ['fail', 'worker'].filter((h) => cur.has(h)).map((h) => `&${h}=${encodeURIComponent(cur.get(h)!)}`);
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

import { ComputeClient, type Outcome } from '../compute/client';
import type { BackendName } from '../compute/backends';
import { FASTEST_KEY, rememberedFastest } from './remembered';
import { syntheticQKV } from '../core/synthetic';
import { headMapping } from '../core/headMap';
import { planCompute, clampCell } from '../state/request';
import { encodeState } from '../state/urlCodec';
import { inputsOf, type QkState, type QkStore } from '../state/store';
import type { ViewResult } from '../state/result';

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

  const run = async () => {
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
    try {
      const inputs = syntheticQKV(plan.spec);
      outcome = await client.request(key, { inputs, options: plan.options, backend: plan.backend, want: { scores: true, weights: true, stats: true, output: false } });
    } catch (e) {
      store.getState().setDerived({ status: store.getState().derived.result ? 'done' : 'error', error: `Could not compute attention: ${(e as Error).message}` });
      return;
    }
    if (outcome.status === 'superseded') return;
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
    };
    const st = store.getState();
    const sel = st.selection;
    const locked = clampCell(sel.locked, result.N);
    st.setDerived({ status: 'done', result, error: null });
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

  const relevant = (a: QkState, b: QkState) => a.source !== b.source || a.compute !== b.compute;
  const unsub = store.subscribe((s, prev) => {
    if (relevant(s, prev)) void run();
  });

  let urlTimer: ReturnType<typeof setTimeout> | null = null;
  const unsubUrl = opts.syncUrl
    ? store.subscribe((s, prev) => {
        if (s.source === prev.source && s.compute === prev.compute && s.view === prev.view && s.selection.locked === prev.selection.locked) return;
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

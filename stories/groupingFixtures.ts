import { syntheticQKV, type SyntheticSpec } from '../src/core/synthetic';
import { referenceAttention } from '../src/core/referenceAttention';
import { headStats } from '../src/core/headStats';
import { attentionDims } from '../src/core/tensor';
import { LIMITS } from '../src/state/defaults';
import { getMethod } from '../src/methods/registry';
import { runGrouping, type Attend } from '../src/methods/run';
import type { MethodView } from '../src/state/result';
import type { MethodState } from '../src/state/types';
import type { QkState, QkStore } from '../src/state/store';
import { makeStore, type StoryStoreOptions } from './fixtures';

/** What a grouped-heads story is built from: the source (as for every story) and the method with its parameters. */
export interface GroupingStoryOptions extends StoryStoreOptions {
  /** The method and the parameters the user would have set; absent: MHA (the source as it is). */
  method?: MethodState;
}

/**
 * Dense attention in plain JS, as the compute layer returns it (weights, output, scores and the
 * per-head statistics), so stories never load tfjs.
 */
export const referenceAttend: Attend = async (r) => {
  const a = referenceAttention(r.inputs, { causal: r.causal, scale: r.scale });
  const { H, Nq, Nk } = attentionDims(r.inputs);
  return { weights: a.weights, output: a.output, scores: a.scores, stats: headStats(a.weights, H, Nq, Nk) };
};

/**
 * Runs the store's method on the store's source as the app's controller does
 * (src/app/controller.ts): the synthetic Q/K/V of the source, DGQA's steps drawn with seeds
 * seed, seed + 1, …, the source's own attention passed as the reference, and the result
 * labelled from the registry. Undefined for MHA (the source itself); throws on a bad method or
 * parameter, so a broken story fails loudly instead of showing the source.
 */
export async function computeMethodView(s: Pick<QkState, 'source' | 'compute' | 'method' | 'view'>, tokens: string[]): Promise<MethodView | undefined> {
  if (s.method.id === 'mha') return undefined;
  const desc = getMethod(s.method.id);
  if (!desc) throw new Error(`story: there is no method "${s.method.id}"`);
  const { source, compute } = s;
  const spec: SyntheticSpec = {
    tokens,
    pattern: source.pattern,
    heads: source.heads,
    kvHeads: source.kvHeads,
    headDim: source.headDim,
    temperature: source.temperature,
    seed: source.seed,
  };
  const inputs = syntheticQKV(spec);
  const steps = desc.id === 'dgqa' ? Array.from({ length: LIMITS.dgqaSteps }, (_, t) => (t === 0 ? inputs : syntheticQKV({ ...spec, seed: spec.seed + t }))) : undefined;
  const reference = await referenceAttend({ inputs, causal: compute.causal, scale: compute.scale });
  const t0 = performance.now();
  const run = await runGrouping(desc.id, { ...inputs, causal: compute.causal, scale: compute.scale, steps }, s.method.params, referenceAttend, {
    strict: true,
    reference,
    scores: s.view.mode === 'scores',
  });
  return { ...run, label: desc.label, verified: desc.verified, citation: desc.citation, ms: performance.now() - t0 };
}

/** Puts `method` into the store's result (as the controller's `setDerived`), keeping the source's maps. */
function setMethodResult(store: QkStore, method: MethodView | undefined): void {
  const st = store.getState();
  const r = st.derived.result;
  if (!r) throw new Error('story store has no result');
  const base = r.key.split('|method:')[0];
  st.setDerived({ status: 'done', error: null, result: { ...r, key: `${base}|method:${method ? `${method.id}:${JSON.stringify(method.params)}` : 'mha'}`, method } });
}

/**
 * A story's store with the method applied: the source's result from {@link makeStore} and the
 * method's run (computed asynchronously, hence for a Storybook `loaders` function).
 */
export async function makeGroupingStore(opts: GroupingStoryOptions): Promise<QkStore> {
  const { method, ...source } = opts;
  const store = makeStore(source);
  if (method) store.setState({ method: { id: method.id, params: { ...method.params } } });
  const st = store.getState();
  setMethodResult(store, await computeMethodView(st, st.derived.result!.tokens));
  return store;
}

/**
 * A minimal stand-in for the app's controller: re-runs the method when its parameters change
 * (DGQA's timeline sets the step shown) or when the heatmap switches to or from scores, so the
 * story stays interactive. The source itself is fixed in a story. Returns the unsubscribe.
 */
export function followMethod(store: QkStore): () => void {
  let generation = 0;
  return store.subscribe((s, prev) => {
    if (s.method === prev.method && (s.method.id === 'mha' || (s.view.mode === 'scores') === (prev.view.mode === 'scores'))) return;
    const my = ++generation;
    const tokens = s.derived.result?.tokens;
    if (!tokens) return;
    s.setDerived({ status: 'computing' });
    computeMethodView(s, tokens).then(
      (m) => {
        if (my === generation) setMethodResult(store, m);
      },
      (e: unknown) => {
        if (my === generation) store.getState().setDerived({ status: 'done', error: `story: ${(e as Error).message}` });
      },
    );
  });
}

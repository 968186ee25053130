import { syntheticQKV } from '../src/core/synthetic';
import { referenceAttention } from '../src/core/referenceAttention';
import { getSparseMethod } from '../src/methods/sparse/registry';
import { runSparse } from '../src/methods/sparse/run';
import { sweepMethods } from '../src/methods/sparse/sweep';
import { allowedBy } from '../src/methods/sparse/selection';
import type { QkStore } from '../src/state/store';
import type { MethodState } from '../src/state/types';
import { makeStore, type StoryStoreOptions } from './fixtures';

/** A sparse story: the source (as every story) and the sparse method with its parameters. */
export interface SparseStoryOptions extends StoryStoreOptions {
  method: MethodState;
}

/**
 * A story's store with a sparse method applied, as the app's controller does it: the synthetic
 * Q/K/V, the method's selection, its attention (here the plain-JS reference over the allowed set
 * instead of the block-sparse kernel, so stories never load tfjs), the §0.7 metrics against the
 * source's dense attention, and the sweep of every sparse method.
 */
export async function makeSparseStore(opts: SparseStoryOptions): Promise<QkStore> {
  const { method, ...source } = opts;
  const store = makeStore(source);
  store.setState({ method: { id: method.id, params: { ...method.params } } });
  const st = store.getState();
  const r = st.derived.result!;
  const desc = getSparseMethod(method.id);
  if (!desc) throw new Error(`story: there is no sparse method "${method.id}"`);
  const s = st.source;
  const grid = r.grid;
  const x = syntheticQKV({ tokens: r.tokens, pattern: s.pattern, heads: s.heads, kvHeads: s.kvHeads, headDim: s.headDim, temperature: s.temperature, seed: s.seed, grid });
  const causal = st.compute.causal;
  const dense = referenceAttention(x, { causal });
  const t0 = performance.now();
  const run = await runSparse(
    desc.id,
    { ...x, causal, grid },
    method.params,
    async (inputs, o, sel, rule) => {
      const allowed = allowedBy(sel, rule, o.causal);
      const a = referenceAttention(inputs, { causal: o.causal, scale: o.scale, allowed });
      // The plain-JS loop computes exactly the allowed pairs.
      let pairs = 0;
      const [H, N] = inputs.q.shape;
      for (let h = 0; h < H; h++) for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) if (allowed(h, i, j)) pairs++;
      return { weights: a.weights, output: a.output, pairs, computed: pairs };
    },
    async (inputs, o) => referenceAttention(inputs, { causal: o.causal, scale: o.scale }),
    { strict: true, reference: dense },
  );
  const curves = await sweepMethods({ ...x, causal, grid }, dense.weights, { [method.id]: method.params });
  const sparse = Object.assign(run, { label: desc.label, verified: desc.verified, citation: desc.citation, ms: performance.now() - t0 });
  const key = `${r.key}|sparse:${method.id}`;
  st.setDerived({ status: 'done', error: null, result: { ...r, key, sparse }, sweep: { key: `${key}|story`, curves } });
  return store;
}

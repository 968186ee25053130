import { describe, expect, it } from 'vitest';
import { layoutAssignment, linkPath } from '../../src/views/grouping/assignmentLayout';
import { compareSpec, diffHead, kvShown, shownArrays, statsShown } from '../../src/views/shared/mapSpec';
import { createQkStore } from '../../src/state/store';
import { referenceAttention } from '../../src/core/referenceAttention';
import { syntheticQKV } from '../../src/core/synthetic';
import { headStats } from '../../src/core/headStats';
import { runGrouping, type Attend } from '../../src/methods/run';
import type { MethodView, ViewResult } from '../../src/state/result';
import { HeadCache } from '../../src/methods/headCache';

const attend: Attend = async (r) => {
  const a = referenceAttention(r.inputs, { causal: r.causal, scale: r.scale });
  const H = r.inputs.q.shape[0];
  const N = r.inputs.q.shape[1];
  const st = headStats(a.weights, H, N, N);
  return { weights: a.weights, output: a.output, scores: r.scores ? a.scores : undefined, stats: { entropy: st.entropy, distance: st.distance, sinkMass: st.sinkMass } };
};

async function resultWith(id: string, params: Record<string, unknown>, H = 8): Promise<ViewResult> {
  const tokens = 'the cat sat on the mat and the dog sat on the log'.split(' ');
  const qkv = syntheticQKV({ tokens, pattern: 'mixed', heads: H, kvHeads: H, headDim: 8, temperature: 1, seed: 3 });
  const ref = await attend({ inputs: qkv, causal: true, scale: null });
  const m = await runGrouping(id, { ...qkv, causal: true }, params, attend, { reference: ref, strict: true });
  const method: MethodView = { ...m, label: `${id.toUpperCase()} (test)`, verified: 'code', citation: { paper: 'p' }, ms: 1 };
  return { key: 'k', tokens, keyTokens: tokens, H, Hkv: H, N: tokens.length, Nk: tokens.length, d: 8, causal: true, mapping: Array.from({ length: H }, (_, h) => h), scores: ref.scores!, weights: ref.weights, stats: ref.stats!, backend: 'cpu', fallbacks: [], ms: 1, where: 'test', method };
}

describe('assignment layout', () => {
  it('places every active slot with one link to its KV head and skips inactive slots', () => {
    const l = layoutAssignment({ slots: 8, slotHead: [0, -1, 1, -1, 2, -1, 3, -1], mapping: [0, 0, 1, 1], kvHeads: 2, width: 600 });
    expect(l.links.map((x) => [x.slot, x.kv])).toEqual([
      [0, 0],
      [2, 0],
      [4, 1],
      [6, 1],
    ]);
    expect(l.qy).toHaveLength(8);
    expect(l.kvy).toHaveLength(2);
    // KV heads share the height of the query column, in order, inside the drawing.
    expect(l.kvy[0]).toBeLessThan(l.kvy[1]);
    expect(l.kvy[1]).toBeLessThan(l.height);
    expect(l.links[2].y1).toBe(l.kvy[1]);
    expect(l.barX).toBeGreaterThan(l.kvx + 56);
  });
  it('draws links as curves that start and end horizontally', () => {
    expect(linkPath(0, 10, 100, 50)).toBe('M0,10 C50,10 50,50 100,50');
  });
});

describe('compare modes of the maps', () => {
  it('difference = method weights − reference weights, on a diverging scale centred on zero', async () => {
    const r = await resultWith('mqa', {});
    const n2 = r.N * r.N;
    const d = diffHead(r.method!, 3, n2);
    for (let i = 0; i < n2; i++) expect(d[i]).toBeCloseTo(r.method!.weights[3 * n2 + i] - r.weights[3 * n2 + i], 7);
    const spec = compareSpec(r, 3, 'weights', 'viridis', 'head', 'diff');
    expect(spec.scale.kind).toBe('diverging');
    expect(spec.scale.lo).toBe(-spec.scale.hi);
    expect(spec.scale.hi).toBeGreaterThan(0);
    expect(spec.label).toMatch(/weight difference: MQA − reference/);
    // Memoised per head: the same array comes back.
    expect(diffHead(r.method!, 3, n2)).toBe(d);
  });

  it('method mode reads the method head standing in for a source head (SQA), reference mode the source', async () => {
    const r = await resultWith('sqa', { variant: 'xsqa' }, 8);
    const n2 = r.N * r.N;
    const m = r.method!;
    expect(m.queryHeads).toBe(2);
    const shown = shownArrays(r, 5, 'method');
    expect(shown.offset).toBe(m.slotOf[5] * n2);
    expect(shown.weights).toBe(m.weights);
    expect(shownArrays(r, 5, 'reference').weights).toBe(r.weights);
    expect(kvShown(r, 5, 'method')).toBe(m.mapping[m.slotOf[5]]);
    expect(kvShown(r, 5, 'reference')).toBe(5);
    const st = statsShown(r, 'method');
    expect(st.entropy[5]).toBe(m.stats!.entropy[m.slotOf[5]]);
    // Scores were not asked for: scores mode says so and shows weights.
    const spec = compareSpec(r, 5, 'scores', 'viridis', 'head', 'method');
    expect(spec.label).toMatch(/scores are not available/);
    expect(spec.scale.kind).toBe('linear');
  });

  it('without an active method the views read the source as before', async () => {
    const r = await resultWith('mha', {});
    const spec = compareSpec(r, 2, 'weights', 'viridis', 'head', 'diff');
    expect(spec.data).toBe(r.weights);
    expect(spec.offset).toBe(2 * r.N * r.N);
  });
});

describe('method state', () => {
  it('setMethod starts from the defaults; setMethodParam keeps the other parameters', () => {
    const s = createQkStore();
    expect(s.getState().method).toEqual({ id: 'mha', params: {} });
    s.getState().setMethod('kdgqa');
    s.getState().setMethodParam('groups', 2);
    s.getState().setMethodParam('mode', 'proportional');
    expect(s.getState().method).toEqual({ id: 'kdgqa', params: { groups: 2, mode: 'proportional' } });
    const before = s.getState().method;
    s.getState().setMethod('kdgqa'); // same method: nothing changes
    expect(s.getState().method).toBe(before);
    s.getState().setMethod('gqa');
    expect(s.getState().method).toEqual({ id: 'gqa', params: {} });
  });
});

describe('per-head cache', () => {
  it('recomputes only the heads whose KV head changed, with results equal to a full run', async () => {
    const tokens = 'one two three four five six seven eight nine ten'.split(' ');
    const qkv = syntheticQKV({ tokens, pattern: 'mixed', heads: 8, kvHeads: 8, headDim: 8, temperature: 1, seed: 11 });
    const cache = new HeadCache();
    let calls = 0;
    const counted: Attend = async (r) => {
      calls++;
      return attend(r);
    };
    const input = { ...qkv, causal: true };
    const reference = await attend({ inputs: qkv, causal: true, scale: null });
    const a = await runGrouping('kdgqa', input, { groups: 4, mode: 'minmax' }, counted, { cacheKey: 'src', headCache: cache, strict: true, reference });
    expect(a.computedHeads).toBe(8);
    const b = await runGrouping('kdgqa', input, { groups: 4, mode: 'proportional' }, counted, { cacheKey: 'src', headCache: cache, strict: true, reference });
    const moved = a.mapping.filter((g, h) => g !== b.mapping[h]).length;
    expect(moved).toBeGreaterThan(0);
    expect(b.computedHeads).toBe(moved);
    const full = await runGrouping('kdgqa', input, { groups: 4, mode: 'proportional' }, attend, { strict: true });
    expect(Array.from(b.weights)).toEqual(Array.from(full.weights));
    expect(Array.from(b.output)).toEqual(Array.from(full.output));
    expect(Array.from(b.stats!.entropy)).toEqual(Array.from(full.stats!.entropy));
    // Back to min-max: nothing to compute, the attend function is not called.
    const before = calls;
    const c = await runGrouping('kdgqa', input, { groups: 4, mode: 'minmax' }, counted, { cacheKey: 'src', headCache: cache, strict: true, reference });
    expect(c.computedHeads).toBe(0);
    expect(calls).toBe(before);
    expect(Array.from(c.weights)).toEqual(Array.from(a.weights));
  });

  it('is bounded in bytes, dropping the least recently used heads', () => {
    const cache = new HeadCache(3 * 16 * 4);
    const e = () => ({ weights: new Float32Array(12), output: new Float32Array(4), entropy: 0, distance: 0, sinkMass: 0 });
    cache.set('a', e());
    cache.set('b', e());
    cache.set('c', e());
    expect(cache.get('a')).toBeDefined(); // a is now the most recent
    cache.set('d', e());
    expect(cache.size).toBe(3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
  });
});

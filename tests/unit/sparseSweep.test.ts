import { describe, expect, it } from 'vitest';
import { sweepMethods } from '../../src/methods/sparse/sweep';
import { gridTokens, syntheticQKV } from '../../src/core/synthetic';
import { referenceAttention } from '../../src/core/referenceAttention';
import { allowedBy } from '../../src/methods/sparse/selection';
import { mobaSelect } from '../../src/methods/sparse/moba';
import { sparseMetrics } from '../../src/methods/sparse/sparseMetrics';

describe('sweep of the sparse methods', () => {
  const tokens = Array.from({ length: 48 }, (_, i) => `w${i % 11}`);
  const x = { ...syntheticQKV({ tokens, pattern: 'mixed', heads: 4, kvHeads: 2, headDim: 16, temperature: 1, seed: 9 }), causal: true };
  const dense = referenceAttention(x, { causal: true });

  it('gives each method a curve whose density grows with its parameter and reaches dense at the end', async () => {
    const curves = await sweepMethods(x, dense.weights, { moba: { block: 8 } });
    expect(curves.map((c) => c.id)).toEqual(['moba', 'flashmoba', 'flexprefill', 'sale', 'tokenselect', 'window']);
    for (const c of curves) {
      const d = c.points.map((p) => p.density);
      expect(d).toEqual([...d].sort((a, b) => a - b));
      c.points.forEach((p) => {
        expect(p.recall).toBeLessThanOrEqual(1 + 1e-6);
        expect(p.recallMin).toBeLessThanOrEqual(p.recall + 1e-6);
      });
    }
    const moba = curves[0];
    expect(moba.points.map((p) => p.value)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(moba.points[5].density).toBeCloseTo(1, 12); // top-k = nb: dense causal
    expect(moba.points[5].recall).toBeCloseTo(1, 5);
    expect(curves.find((c) => c.id === 'window')!.points.at(-1)!.density).toBeCloseTo(1, 12); // window = N
  });

  it('on a bidirectional video grid: SparseD, VMoBA and DraftAttention, each denser as its parameter asks for more', async () => {
    const grid = { T: 2, Hp: 4, Wp: 4 };
    const v = { ...syntheticQKV({ tokens: gridTokens(grid), pattern: 'mixed', heads: 4, kvHeads: 2, headDim: 16, temperature: 1, seed: 3, grid }), causal: false, grid };
    const dv = referenceAttention(v, { causal: false });
    const curves = await sweepMethods(v, dv.weights);
    expect(curves.map((c) => c.id)).toEqual(['sparsed', 'vmoba', 'draft']);
    for (const c of curves) {
      const d = c.points.map((p) => p.density);
      expect(d, c.id).toEqual([...d].sort((a, b) => a - b));
    }
    // DraftAttention's σ runs from keeping much to keeping little: its densities fall as σ rises.
    const draft = curves.find((c) => c.id === 'draft')!;
    expect(draft.points.map((p) => p.value)).toEqual([...draft.points.map((p) => p.value)].sort((a, b) => b - a));
  });

  it('each point equals the §0.7 metrics of that selection', async () => {
    const [moba] = await sweepMethods(x, dense.weights, { moba: { block: 8 } });
    const s = mobaSelect(x, { block: 8, topk: 2 });
    const m = sparseMetrics({ allowed: allowedBy(s.selection, null, true), H: 4, Nq: 48, Nk: 48, d: 16, dv: 16, causal: true, denseWeights: dense.weights, output: dense.output, denseOutput: dense.output, overhead: 0 });
    const mean = (a: Float32Array) => a.reduce((u, v) => u + v, 0) / a.length;
    expect(moba.points[1].density).toBeCloseTo(mean(m.density), 6);
    expect(moba.points[1].recall).toBeCloseTo(mean(m.recallMean), 5);
  });
});

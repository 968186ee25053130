import { describe, expect, it } from 'vitest';
import { allowedBy, meanPoolBlocks, reasonOf, tokenMask, topkStable } from '../../src/methods/sparse/selection';
import { windowSelect } from '../../src/methods/sparse/window';
import { G, run } from './sparseGolden';
import { sparseMetrics } from '../../src/methods/sparse/sparseMetrics';
import { referenceAttention } from '../../src/core/referenceAttention';
import { maxAbsDiff } from './goldens';

describe('sparse selections against the PyTorch goldens', () => {
  for (const c of G.cases) {
    it(`${c.name}: selection, mask and gate exactly; weights and outputs within 1e-5; §0.7 metrics`, () => {
      const r = run(c);
      const mask = tokenMask(r.sel, r.rule, true);
      const rows = Array.from({ length: c.H }, (_, h) => Array.from({ length: c.N }, (_, i) => Array.from(mask.subarray((h * c.N + i) * c.N, (h * c.N + i + 1) * c.N)).join('')));
      expect(rows).toEqual(c.mask);
      if (c.selected) {
        const sel = Array.from({ length: c.H }, (_, h) => Array.from({ length: c.N }, (_, i) => Array.from({ length: r.sel.nkb }, (_, J) => J).filter((J) => r.sel.codes[(h * c.N + i) * r.sel.nkb + J] !== 0)));
        expect(sel).toEqual(c.selected);
        const want = c.gate!.map((x) => (x === 'inf' ? Infinity : x === '-inf' ? -Infinity : x));
        for (let n = 0; n < want.length; n++) {
          const w = want[n] as number;
          if (!Number.isFinite(w)) expect(r.gate![n]).toBe(w);
          else expect(Math.abs(r.gate![n] - w)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(w)));
        }
      }
      if (c.routing_keys) expect(maxAbsDiff(r.routing!, c.routing_keys)).toBeLessThanOrEqual(1e-6);
      if (c.flex) {
        const f = r.flex!;
        expect(f.denseFallback).toBe(c.flex.dense_fallback);
        expect(f.computationalRatio).toBeCloseTo(c.flex.computational_ratio, 6);
        c.flex.heads.forEach((want, h) => {
          const got = f.heads[h];
          expect(got.type).toBe(want.type);
          if (want.type !== 'dense') {
            expect([got.nV, got.nS]).toEqual([want.nV, want.nS]);
            expect(Number.isNaN(got.djs)).toBe(want.djs_nan);
            if (want.djs !== null) expect(got.djs).toBeCloseTo(want.djs, 5);
            expect(maxAbsDiff(got.Vb, want.Vb!)).toBeLessThanOrEqual(1e-6);
          }
          const nb = r.sel.nkb;
          const blocks: [number, number, string][] = [];
          for (let I = 0; I < nb; I++) for (let J = 0; J < nb; J++) {
            const code = r.sel.codes[(h * nb + I) * nb + J];
            if (code) blocks.push([I, J, reasonOf(code)]);
          }
          expect(blocks).toEqual(want.blocks);
        });
      }
      const allowed = allowedBy(r.sel, r.rule, true);
      const kAttn = c.params.convInAttention ? r.routing! : Float32Array.from(c.k);
      const inputs = (k: Float32Array) => ({ q: { shape: [c.H, c.N, c.d], data: Float32Array.from(c.q) }, k: { shape: [c.Hkv, c.N, c.d], data: k }, v: { shape: [c.Hkv, c.N, c.dv], data: Float32Array.from(c.v) } });
      const sparse = referenceAttention(inputs(kAttn), { causal: true, allowed });
      const dense = referenceAttention(inputs(Float32Array.from(c.k)), { causal: true });
      expect(maxAbsDiff(sparse.weights, c.weights)).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(sparse.output, c.output)).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(dense.weights, c.dense_weights)).toBeLessThanOrEqual(1e-5);
      const m = sparseMetrics({ allowed, H: c.H, Nq: c.N, Nk: c.N, d: c.d, dv: c.dv, causal: true, denseWeights: dense.weights, output: sparse.output, denseOutput: dense.output, overhead: r.overhead });
      expect(maxAbsDiff(m.density, c.density)).toBeLessThanOrEqual(1e-6);
      expect(maxAbsDiff(m.recallMean, c.recall_mean)).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(m.recallMin, c.recall_min)).toBeLessThanOrEqual(1e-5);
      expect(Math.abs(m.relFrob - c.rel_frob)).toBeLessThanOrEqual(1e-5 * Math.max(1, c.rel_frob));
      expect(m.flops).toEqual(c.flops);
    });
  }
});

describe('selection helpers', () => {
  it('topkStable: largest first, lower index on ties, ±∞ as numbers, k clamped', () => {
    expect(topkStable([1, 3, 3, -Infinity, Infinity], 3)).toEqual([4, 1, 2]);
    expect(topkStable([2, 2, 2], 2)).toEqual([0, 1]);
    expect(topkStable([5], 4)).toEqual([0]);
  });

  it('meanPoolBlocks averages a partial last block over its real tokens (§0.6)', () => {
    // N = 5, d = 1, b = 2: blocks {0,1}, {2,3}, {4}.
    expect(Array.from(meanPoolBlocks(Float32Array.from([1, 3, 5, 7, 9]), 0, 5, 1, 2))).toEqual([2, 6, 9]);
  });

  it('the window selection marks sink-only blocks and local blocks, and the token rule restricts them exactly', () => {
    const { selection, rule } = windowSelect(1, 12, { window: 2, sinks: 1, block: 4 });
    // Query block 2 (tokens 8–11): block 0 only through the sink, block 1 through the window (8 − 7 < 2), block 2 local.
    const codes = Array.from(selection.codes.subarray(2 * 3, 3 * 3));
    expect(codes.map((x) => (x === 0 ? '-' : x === 2 ? 'S' : 'L')).join('')).toBe('SLL');
    const ok = allowedBy(selection, rule, true);
    expect([0, 1, 7, 8].map((j) => ok(0, 8, j))).toEqual([true, false, true, true]);
  });
});

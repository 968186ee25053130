import { describe, expect, it } from 'vitest';
import { referenceAttention } from '../../src/core/referenceAttention';
import { headStats } from '../../src/core/headStats';
import { golden, inputsOf, maxAbsDiff, maxRelDiff } from './goldens';

describe('plain-JS reference attention against PyTorch goldens', () => {
  it('has the goldens', () => {
    expect(golden.cases.length).toBeGreaterThanOrEqual(15);
  });
  for (const c of golden.cases) {
    it(c.name, () => {
      const r = referenceAttention(inputsOf(c), { causal: c.causal, scale: c.scale, layout: c.layout });
      expect(maxRelDiff(r.scores, c.scores)).toBeLessThan(1e-5);
      expect(maxAbsDiff(r.weights, c.weights)).toBeLessThan(1e-6);
      expect(maxAbsDiff(r.output, c.output)).toBeLessThan(1e-5);
      expect(r.weights.every((w) => Number.isFinite(w))).toBe(true);
      expect(r.output.every((w) => Number.isFinite(w))).toBe(true);
      const s = headStats(r.weights, c.H, c.Nq, c.Nk);
      expect(maxAbsDiff(s.entropy, c.stats.entropy)).toBeLessThan(1e-5);
      expect(maxAbsDiff(s.distance, c.stats.distance)).toBeLessThan(1e-5);
      expect(maxAbsDiff(s.sinkMass, c.stats.sinkMass)).toBeLessThan(1e-6);
    });
  }

  it('gives zero weights and output for a row with no visible key', () => {
    const c = golden.cases.find((x) => x.name.startsWith('Nq > Nk'))!;
    const r = referenceAttention(inputsOf(c), { causal: true });
    // rows 0..2 of every head see no key (j ≤ i − 3)
    for (let h = 0; h < c.H; h++)
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < c.Nk; j++) expect(r.weights[(h * c.Nq + i) * c.Nk + j]).toBe(0);
        for (let e = 0; e < c.dv; e++) expect(r.output[(h * c.Nq + i) * c.dv + e]).toBe(0);
      }
  });
});

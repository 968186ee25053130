import { describe, expect, it } from 'vitest';
import { coverCount, coverPrefix, flexPrefillSelect, jsDistance, type FlexParams } from '../../src/methods/sparse/flexprefill';

// ALGORITHMS.md §0.8 synthetic inputs and the §6 test vectors.
const N = 16;
const syn = (f: (t: number) => [number, number]) => ({ shape: [1, N, 2], data: Float32Array.from(Array.from({ length: N }, (_, t) => f(t)).flat()) });
const Q = syn((t) => [2 * Math.sin(0.7 * t), 2 * Math.cos(1.3 * t)]);
const K = syn((t) => [2 * Math.cos(0.5 * t), 2 * Math.sin(0.9 * t)]);
const base: FlexParams = { block: 4, gamma: 0.9, tau: 0.1, minBudget: 1, maxBudget: null, divisor: '128', js: 'faithful' };

function blocks(p: FlexParams): string {
  const r = flexPrefillSelect({ q: Q, k: K }, p);
  const out: string[] = [];
  for (let I = 0; I < 4; I++) for (let J = 0; J < 4; J++) if (r.selection.codes[I * 4 + J]) out.push(`(${I},${J})`);
  return out.join('');
}

describe('FlexPrefill test vectors (ALGORITHMS.md §6)', () => {
  it('helpers: coverCount, jsDistance', () => {
    expect(coverCount([0.5, 0.25, 0.125, 0.125], 0.8)).toBe(3);
    expect(jsDistance([0.5, 0.5], [0.75, 0.25])).toBeCloseTo(0.183908, 5);
    expect(jsDistance([0.25, 0.25, 0.25, 0.25], [0.7, 0.1, 0.1, 0.1])).toBeCloseTo(0.324495, 5);
    expect(Number.isNaN(jsDistance([0.5, 0.5], [1, 0]))).toBe(true); // Quirk F2
    expect(jsDistance([0.5, 0.5], [1, 0], true)).toBeGreaterThan(0);
    expect(coverPrefix([0.1, 0.5, 0.3, 0.1], 0.85)).toEqual([1, 2]);
  });

  it('integration: the statistics, the JS distance and the three block sets of the table', () => {
    const r = flexPrefillSelect({ q: Q, k: K }, base);
    const h = r.heads[0];
    [0.1467, 0.1216, 0.3953, 0.3363].forEach((x, i) => expect(h.Vb[i]).toBeCloseTo(x, 4));
    [0.1168, 0.1169, 0.3637, 0.4026].forEach((x, i) => expect(h.Sb[i]).toBeCloseTo(x, 4));
    [0.2639, 0.2379, 0.2669, 0.2313].forEach((x, i) => expect(h.abar[i]).toBeCloseTo(x, 4));
    expect(h.djs).toBeCloseTo(0.17086, 4);
    expect([h.type, h.nV, h.nS]).toEqual(['VS', 1, 1]);
    expect(blocks(base)).toBe('(0,0)(1,0)(1,1)(2,0)(2,2)(3,0)(3,3)');
    expect(flexPrefillSelect({ q: Q, k: K }, { ...base, tau: 1 }).heads[0].type).toBe('QA');
    expect(blocks({ ...base, tau: 1 })).toBe('(0,0)(1,0)(1,1)(2,0)(2,2)(3,0)(3,1)(3,2)(3,3)');
    const intent = flexPrefillSelect({ q: Q, k: K }, { ...base, divisor: 'b' });
    expect([intent.heads[0].nV, intent.heads[0].nS]).toEqual([3, 3]);
    expect(blocks({ ...base, divisor: 'b' })).toBe('(0,0)(1,0)(1,1)(2,0)(2,1)(2,2)(3,0)(3,1)(3,2)(3,3)');
  });

  it('falls back to dense causal attention for N ≤ 2b', () => {
    const r = flexPrefillSelect({ q: Q, k: K }, { ...base, block: 8 });
    expect(r.denseFallback).toBe(true);
    expect(r.heads[0].type).toBe('dense');
    expect(Array.from(r.selection.codes)).toEqual([1, 0, 1, 1]);
  });
});

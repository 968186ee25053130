import { describe, expect, it } from 'vitest';
import { sparsedKeep, sparsedSchedule, sparsedSelect } from '../../src/methods/sparse/sparsed';

// ALGORITHMS.md §8 test vectors, with the §0.8 synthetic inputs.
const N = 8;
const syn = (f: (t: number) => [number, number]) => ({ shape: [1, N, 2], data: Float32Array.from(Array.from({ length: N }, (_, t) => f(t)).flat()) });
const Q = syn((t) => [2 * Math.sin(0.7 * t), 2 * Math.cos(1.3 * t)]);
const K = syn((t) => [2 * Math.cos(0.5 * t), 2 * Math.sin(0.9 * t)]);

describe('SparseD test vectors (ALGORITHMS.md §8)', () => {
  it('schedule and keep counts', () => {
    expect(sparsedSchedule(128, 0.2)).toEqual({ tEnd: 26, dense: 27, sparse: 101 });
    expect(sparsedKeep(4, 0.3)).toBe(2);
    expect(sparsedKeep(2, 0.3)).toBe(1);
    expect(sparsedKeep(2, 0.99)).toBe(2); // ⌊1.98⌋ + 1 = 2
    expect(sparsedKeep(3, 0.99)).toBe(3); // ⌊2.97⌋ + 1 = 3
    expect(sparsedKeep(4, 0.99)).toBe(4); // ⌊3.96⌋ + 1 = 4
    expect(sparsedKeep(1, 1)).toBe(1); // ⌊1⌋ + 1 = 2, clamped (Quirk D3)
  });

  it('the computed mask: N = 8, b = 2, n_gen = 4, ρ = 0.3', () => {
    const r = sparsedSelect({ q: Q, k: K }, { block: 2, select: 0.3, nGen: 4 });
    expect(r.L).toBe(2);
    const rows = Array.from({ length: 4 }, (_, I) => Array.from(r.selection.codes.subarray(I * 4, I * 4 + 4), (c) => (c ? 1 : 0)).join(' '));
    expect(rows).toEqual(['1 1 0 1', '1 0 1 0', '1 1 0 1', '0 0 0 1']);
  });
});

import { describe, expect, it } from 'vitest';
import { headMapping, kvHeadOf } from '../../src/core/headMap';

describe('kvHeadOf / headMapping (ALGORITHMS.md §0.2, §1)', () => {
  it('§1 test vector: κ(3) = 1 for G = 2 and κ(3) = 0 for G = 1 (H = 4)', () => {
    expect(kvHeadOf(3, 4, 2)).toBe(1);
    expect(kvHeadOf(3, 4, 1)).toBe(0);
    expect(kvHeadOf(3, 4, 2, 'contiguous')).toBe(1);
  });

  it('maps contiguous groups κ(h) = ⌊h / g⌋ by default', () => {
    expect(headMapping(4, 2)).toEqual([0, 0, 1, 1]);
    expect(headMapping(8, 2)).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    expect(headMapping(6, 3)).toEqual([0, 0, 1, 1, 2, 2]);
    expect(headMapping(8, 4, 'contiguous')).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
  });

  it('maps interleaved heads κ(h) = h mod Hkv', () => {
    expect(headMapping(4, 2, 'interleaved')).toEqual([0, 1, 0, 1]);
    expect(headMapping(6, 3, 'interleaved')).toEqual([0, 1, 2, 0, 1, 2]);
    expect(kvHeadOf(3, 4, 2, 'interleaved')).toBe(1);
    expect(kvHeadOf(2, 4, 2, 'interleaved')).toBe(0);
  });

  it('is the identity for MHA and all zeros for MQA, in both layouts', () => {
    for (const layout of ['contiguous', 'interleaved'] as const) {
      expect(headMapping(5, 5, layout)).toEqual([0, 1, 2, 3, 4]);
      expect(headMapping(5, 1, layout)).toEqual([0, 0, 0, 0, 0]);
    }
  });

  it('gives every KV head exactly H / Hkv query heads', () => {
    for (const [H, Hkv] of [
      [12, 4],
      [32, 8],
      [16, 2],
    ])
      for (const layout of ['contiguous', 'interleaved'] as const) {
        const m = headMapping(H, Hkv, layout);
        expect(m).toHaveLength(H);
        for (let g = 0; g < Hkv; g++) expect(m.filter((x) => x === g)).toHaveLength(H / Hkv);
      }
  });

  it('throws when H is not a multiple of Hkv, naming both numbers', () => {
    expect(() => kvHeadOf(0, 6, 4)).toThrow(/6 query heads.*4 KV heads/);
    expect(() => headMapping(6, 4)).toThrow(/multiple of Hkv/);
    expect(() => headMapping(3, 2, 'interleaved')).toThrow(/3 query heads.*2 KV heads/);
  });
});

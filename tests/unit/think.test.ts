import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { runSparseMethod } from '../../src/index';
import { maxAbsDiff, maxRelDiff } from './goldens';
import { thinkPrune } from '../../src/methods/sparse/think';

describe('ThinK (ALGORITHMS.md §12.4)', () => {
  it('the test vector: scores [4, 0, 1]; λ = 1/3 prunes channel 1', () => {
    const q = { shape: [1, 2, 3], data: Float32Array.from([1, 0, 2, 1, 0, 0]) };
    const k = { shape: [1, 2, 3], data: Float32Array.from([1, 3, 0, 1, 1, 0.5]) };
    const v = { shape: [1, 2, 1], data: Float32Array.from([1, 2]) };
    const r = thinkPrune({ q, k, v }, { lambda: 1 / 3, recent: 0, obs: 2 });
    expect(Array.from(r.scores)).toEqual([4, 0, 1]);
    expect(r.pruned).toEqual([[1]]);
    expect(Array.from(r.k.data)).toEqual([1, 0, 0, 1, 0, 0.5]);
    expect(r.cacheSaving).toBeCloseTo(1 / 3, 12);
  });
});

// Goldens from scripts/make_think_goldens.py (an independent PyTorch ThinK).
describe('ThinK against the PyTorch goldens', () => {
  const G = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'golden', 'think.json'), 'utf8')) as {
    cases: { name: string; params: { lambda: number; recent: number; obs: number }; H: number; Hkv: number; N: number; d: number; dv: number; q: number[]; k: number[]; v: number[]; scores: number[]; pruned: number[][]; weights: number[]; output: number[]; rel_frob: number; cache_saving: number }[];
  };
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  for (const c of G.cases) {
    it(`${c.name}: scores, pruned channels, attention within 1e-5, output error and cache saving`, async () => {
      const x = { q: { shape: [c.H, c.N, c.d], data: Float32Array.from(c.q) }, k: { shape: [c.Hkv, c.N, c.d], data: Float32Array.from(c.k) }, v: { shape: [c.Hkv, c.N, c.dv], data: Float32Array.from(c.v) } };
      const p = thinkPrune(x, c.params);
      expect(maxRelDiff(p.scores, c.scores)).toBeLessThanOrEqual(1e-5);
      expect(p.pruned).toEqual(c.pruned);
      expect(p.cacheSaving).toBeCloseTo(c.cache_saving, 6); // stored as float32
      const r = await runSparseMethod('think', { ...x, causal: true }, c.params);
      expect(maxAbsDiff(r.weights, c.weights)).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(r.output, c.output)).toBeLessThanOrEqual(1e-5);
      expect(Math.abs(r.metrics.relFrob - c.rel_frob)).toBeLessThanOrEqual(1e-5 * Math.max(1, c.rel_frob));
      expect(Array.from(r.metrics.density)).toEqual(new Array(c.H).fill(1)); // every key is kept
    });
  }
});

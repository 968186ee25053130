import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { runSparseMethod } from '../../src/index';
import { maxAbsDiff } from './goldens';

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

// Goldens from scripts/make_sparsed_goldens.py (an independent PyTorch SparseD, §8).

interface SdCase {
  name: string;
  params: { block: number; select: number; nGen: number };
  H: number;
  Hkv: number;
  N: number;
  d: number;
  dv: number;
  q: number[];
  k: number[];
  v: number[];
  L: number;
  k1: number;
  k2: number;
  block_mask: string[][];
  weights: number[];
  output: number[];
  density: number[];
  recall_mean: number[];
  recall_min: number[];
  rel_frob: number;
  flops: { attention: number; dense: number; overhead: number };
}
const SD = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'golden', 'sparsed.json'), 'utf8')) as { schedule: { T_total: number; skip: number; t_end: number; dense_steps: number; sparse_steps: number }[]; keep_counts: { nkb: number; rho: number; k: number }[]; cases: SdCase[] };

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('SparseD against the PyTorch goldens', () => {
  it('schedules and keep counts', () => {
    for (const s of SD.schedule) {
      const r = sparsedSchedule(s.T_total, s.skip);
      expect(r.tEnd).toBe(s.t_end);
      expect([r.dense, r.sparse]).toEqual([s.dense_steps, s.sparse_steps]);
    }
    for (const c of SD.keep_counts) expect(sparsedKeep(c.nkb, c.rho)).toBe(c.k);
  });

  for (const c of SD.cases) {
    it(`${c.name}: block mask exactly, attention within 1e-5, metrics and FLOPs`, async () => {
      const q = { shape: [c.H, c.N, c.d], data: Float32Array.from(c.q) };
      const k = { shape: [c.Hkv, c.N, c.d], data: Float32Array.from(c.k) };
      const v = { shape: [c.Hkv, c.N, c.dv], data: Float32Array.from(c.v) };
      const s = sparsedSelect({ q, k }, c.params);
      expect([s.L, s.k1, s.k2]).toEqual([c.L, c.k1, c.k2]);
      const nb = s.selection.nkb;
      const mask = Array.from({ length: c.H }, (_, h) => Array.from({ length: nb }, (_, I) => Array.from(s.selection.codes.subarray((h * nb + I) * nb, (h * nb + I + 1) * nb), (x) => (x ? '1' : '0')).join('')));
      expect(mask).toEqual(c.block_mask);
      const r = await runSparseMethod('sparsed', { q, k, v, causal: false }, { block: c.params.block, select: c.params.select, gen: c.params.nGen });
      expect(maxAbsDiff(r.weights, c.weights)).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(r.output, c.output)).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(r.metrics.density, c.density)).toBeLessThanOrEqual(1e-6);
      expect(maxAbsDiff(r.metrics.recallMean, c.recall_mean)).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(r.metrics.recallMin, c.recall_min)).toBeLessThanOrEqual(1e-5);
      expect(Math.abs(r.metrics.relFrob - c.rel_frob)).toBeLessThanOrEqual(1e-5 * Math.max(1, c.rel_frob));
      expect(r.metrics.flops).toEqual(c.flops);
    });
  }

  it('refuses a causal input: SparseD is for bidirectional diffusion LMs', async () => {
    const c = SD.cases[0];
    const x = { q: { shape: [c.H, c.N, c.d], data: Float32Array.from(c.q) }, k: { shape: [c.Hkv, c.N, c.d], data: Float32Array.from(c.k) }, v: { shape: [c.Hkv, c.N, c.dv], data: Float32Array.from(c.v) } };
    await expect(runSparseMethod('sparsed', { ...x, causal: true }, {})).rejects.toThrow(/bidirectional/);
  });
});

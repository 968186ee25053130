import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { quantInt4, relativeScore, saleSelect } from '../../src/methods/sparse/sale';
import { reasonOf } from '../../src/methods/sparse/selection';
import { runSparseMethod } from '../../src/index';
import { maxAbsDiff } from './goldens';

describe('SALE test vectors (ALGORITHMS.md §7)', () => {
  it('relative score: sink+local logits [2, 1] (σ = 1), estimates [0, −3]', () => {
    const m = 2;
    const l = 1 + Math.exp(-1);
    expect(l).toBeCloseTo(1.36788, 5);
    const r = [0, -3].map((e) => relativeScore(e, m, l, 1));
    expect(r[0]).toBeCloseTo(0.098938, 6);
    expect(r[1]).toBeCloseTo(0.004926, 6);
    expect(r.some((x) => x > 0.004)).toBe(true);
    expect(r.some((x) => x > 0.005)).toBe(true);
    expect(r.some((x) => x > 0.1)).toBe(false);
  });

  it('INT4 quantisation: [0.75, −1.75, 0.625] → scale 0.25, codes [3, −7, 2] (2.5 rounds to even)', () => {
    const out = new Int8Array(3);
    expect(quantInt4(Float32Array.from([0.75, -1.75, 0.625]), 0, 3, out, 0)).toBe(0.25);
    expect(Array.from(out)).toEqual([3, -7, 2]);
    expect(quantInt4(new Float32Array(3), 0, 3, out, 0)).toBe(1); // all zero: s = 1 [U guard]
  });
});

// Goldens from scripts/make_sale_goldens.py (an independent PyTorch SALE, §7).
describe('SALE against the PyTorch goldens', () => {
  const G = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'golden', 'sale.json'), 'utf8')) as {
    cases: { name: string; params: { bq: number; bk: number; tau: number }; H: number; Hkv: number; N: number; d: number; dv: number; q: number[]; k: number[]; v: number[]; block_reasons: string[][]; weights: number[]; output: number[]; density: number[]; recall_mean: number[]; rel_frob: number }[];
  };
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  const letter: Record<string, string> = { sink: 's', local: 'l', threshold: 't', forced: 'd' };
  for (const c of G.cases) {
    it(`${c.name}: blocks and their reasons exactly, attention within 1e-5, metrics`, async () => {
      const x = { q: { shape: [c.H, c.N, c.d], data: Float32Array.from(c.q) }, k: { shape: [c.Hkv, c.N, c.d], data: Float32Array.from(c.k) }, v: { shape: [c.Hkv, c.N, c.dv], data: Float32Array.from(c.v) } };
      const { selection: s } = saleSelect(x, c.params);
      const rows = Array.from({ length: c.H }, (_, h) => Array.from({ length: s.nRows }, (_, I) => Array.from(s.codes.subarray((h * s.nRows + I) * s.nkb, (h * s.nRows + I + 1) * s.nkb), (x) => (x ? letter[reasonOf(x)] : '.')).join('')));
      expect(rows).toEqual(c.block_reasons);
      const r = await runSparseMethod('sale', { ...x, causal: true }, c.params);
      expect(maxAbsDiff(r.weights, c.weights)).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(r.output, c.output)).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(r.metrics.density, c.density)).toBeLessThanOrEqual(1e-6);
      expect(maxAbsDiff(r.metrics.recallMean, c.recall_mean)).toBeLessThanOrEqual(1e-5);
      expect(Math.abs(r.metrics.relFrob - c.rel_frob)).toBeLessThanOrEqual(1e-5 * Math.max(1, c.rel_frob));
    });
  }
});

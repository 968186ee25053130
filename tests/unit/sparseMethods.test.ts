import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { runSparseMethod, reasonOf, SPARSE_METHODS } from '../../src/index';
import { syntheticQKV } from '../../src/core/synthetic';
import { maxAbsDiff } from './goldens';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const G = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'golden', 'sparse.json'), 'utf8')) as {
  cases: { name: string; method: string; params: Record<string, number | boolean>; H: number; Hkv: number; N: number; d: number; dv: number; q: number[]; k: number[]; v: number[]; weights: number[]; output: number[]; density: number[]; recall_mean: number[]; rel_frob: number; flops: { attention: number; dense: number; overhead: number } }[];
};

const paramsOf = (c: (typeof G.cases)[number]): Record<string, unknown> =>
  c.method === 'flexprefill'
    ? { block: c.params.block, gamma: c.params.gamma, tau: c.params.tau, minBudget: c.params.minBudget, maxBudget: c.params.maxBudget ?? 0, divisor: c.params.divisor, js: c.params.jsIntent ? 'intent' : 'faithful' }
    : c.method === 'window'
    ? { window: c.params.window, sinks: c.params.sinks, block: 4 }
    : c.method === 'flashmoba'
      ? { block: c.params.block, topk: c.params.topk, conv: c.params.convWidth, convKeys: c.params.convInAttention ? 'attention' : 'routing' }
      : { block: c.params.block, topk: c.params.topk };

describe('runSparseMethod (library entry) on tfjs cpu', () => {
  for (const c of G.cases) {
    it(`${c.name}: attention, metrics and FLOPs as PyTorch`, async () => {
      const q = { shape: [c.H, c.N, c.d], data: Float32Array.from(c.q) };
      const k = { shape: [c.Hkv, c.N, c.d], data: Float32Array.from(c.k) };
      const v = { shape: [c.Hkv, c.N, c.dv], data: Float32Array.from(c.v) };
      const r = await runSparseMethod(c.method, { q, k, v }, paramsOf(c));
      expect(maxAbsDiff(r.weights, c.weights)).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(r.output, c.output)).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(r.metrics.density, c.density)).toBeLessThanOrEqual(1e-6);
      expect(maxAbsDiff(r.metrics.recallMean, c.recall_mean)).toBeLessThanOrEqual(1e-5);
      expect(Math.abs(r.metrics.relFrob - c.rel_frob)).toBeLessThanOrEqual(1e-5 * Math.max(1, c.rel_frob));
      expect(r.metrics.flops).toEqual(c.flops);
      expect(r.computedPairs).toBeGreaterThanOrEqual(r.metrics.flops.attention / (2 * (c.d + c.dv)));
      expect(r.illustrative.length > 0).toBe(c.method === 'flashmoba' || (c.method === 'flexprefill' && ![32, 64, 128].includes(c.params.block as number)));
    });
  }

  it('gives every MoBA block its reason: the own block forced, the others top-k', async () => {
    const x = syntheticQKV({ tokens: Array.from({ length: 40 }, (_, i) => `w${i % 9}`), pattern: 'mixed', heads: 2, kvHeads: 1, headDim: 8, temperature: 1, seed: 2 });
    const r = await runSparseMethod('moba', x, { block: 8, topk: 2 });
    const { codes, nkb } = r.selection;
    for (let i = 0; i < 40; i++) {
      const row = Array.from(codes.subarray(i * nkb, (i + 1) * nkb));
      expect(reasonOf(row[Math.floor(i / 8)])).toBe('forced');
      const others = row.map((x, J) => (x && J !== Math.floor(i / 8) ? reasonOf(x) : null)).filter(Boolean);
      expect(others).toEqual(i >= 8 ? ['topk'] : []);
    }
  });

  it('names a bad parameter and what it allows, and refuses MoBA without the causal mask', async () => {
    const x = syntheticQKV({ tokens: ['a', 'b', 'c', 'd'], pattern: 'random', heads: 1, kvHeads: 1, headDim: 4, temperature: 1, seed: 1 });
    await expect(runSparseMethod('moba', x, { block: 0 })).rejects.toThrow(/block/);
    await expect(runSparseMethod('moba', { ...x, causal: false }, {})).rejects.toThrow(/causal prefill/);
    await expect(runSparseMethod('nope', x, {})).rejects.toThrow(/no sparse method "nope"/);
    expect(SPARSE_METHODS.map((m) => m.id)).toEqual(['moba', 'flashmoba', 'flexprefill', 'sale', 'sparsed', 'think', 'nalaformer', 'vmoba', 'draft', 'tokenselect', 'window']);
  });
});

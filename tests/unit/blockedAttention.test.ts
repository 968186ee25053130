import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { denseAttention, queryBlockRows } from '../../src/compute/attention';
import { referenceAttention } from '../../src/core/referenceAttention';
import { syntheticQKV } from '../../src/core/synthetic';
import { golden, inputsOf, maxAbsDiff, maxRelDiff } from './goldens';

describe('query-blocked dense attention equals the PyTorch goldens for both kernel variants, every block size, joined or streamed', () => {
  for (const c of golden.cases) {
    it(c.name, async () => {
      await tf.setBackend('cpu');
      const combos = (['batched', 'perHead'] as const).flatMap((v) => [1, 2, 3, 5, 64].flatMap((b) => [Infinity, 0].map((stream) => [v, b, stream] as const)));
      for (const [variant, bq, streamBytes] of combos) {
        const before = tf.memory().numTensors;
        const r = await denseAttention(inputsOf(c), { causal: c.causal, scale: c.scale, layout: c.layout }, { scores: true, weights: true, output: true, stats: true }, { variant, blockRows: bq, streamBytes });
        expect(tf.memory().numTensors).toBe(before);
        expect(maxRelDiff(r.scores!, c.scores)).toBeLessThanOrEqual(1e-5);
        expect(maxAbsDiff(r.weights!, c.weights)).toBeLessThanOrEqual(1e-5);
        expect(maxAbsDiff(r.output!, c.output)).toBeLessThanOrEqual(1e-5);
        expect(maxAbsDiff(r.stats!.entropy, c.stats.entropy)).toBeLessThanOrEqual(1e-5);
        expect(maxAbsDiff(r.stats!.distance, c.stats.distance)).toBeLessThanOrEqual(1e-5);
        expect(maxAbsDiff(r.stats!.sinkMass, c.stats.sinkMass)).toBeLessThanOrEqual(1e-5);
      }
    });
  }

  it('matches the plain-JS loop at N = 300 with the default blocks (3 blocks of up to 128 rows), GQA, causal and not', async () => {
    expect(queryBlockRows(300)).toBe(128);
    const tokens = Array.from({ length: 300 }, (_, i) => `w${i % 40}`);
    const inputs = syntheticQKV({ tokens, pattern: 'mixed', heads: 6, kvHeads: 2, headDim: 16, temperature: 0.7, seed: 3 });
    for (const [causal, variant] of [[true, 'batched'], [false, 'batched'], [true, 'perHead'], [false, 'perHead']] as const) {
      const r = await denseAttention(inputs, { causal }, undefined, { variant, streamBytes: causal ? 0 : undefined });
      const ref = referenceAttention(inputs, { causal });
      expect(maxAbsDiff(r.weights!, ref.weights)).toBeLessThan(2e-6);
      expect(maxAbsDiff(r.output!, ref.output)).toBeLessThan(2e-5);
      expect(maxRelDiff(r.scores!, ref.scores)).toBeLessThan(1e-5);
    }
  });
});

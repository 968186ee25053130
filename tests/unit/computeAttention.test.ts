import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll } from 'vitest';
import { computeAttention, ShapeError } from '../../src/index';

// tf.memory() needs an initialised backend before the first call.
beforeAll(async () => {
  await tf.setBackend('cpu');
});
import { golden, inputsOf, maxAbsDiff, maxRelDiff } from './goldens';

describe('computeAttention on the tfjs cpu backend against PyTorch goldens', () => {
  for (const c of golden.cases) {
    it(c.name, async () => {
      const before = tf.memory().numTensors;
      const r = await computeAttention(inputsOf(c), { causal: c.causal, scale: c.scale, layout: c.layout, backend: 'cpu' });
      expect(tf.memory().numTensors).toBe(before);
      expect(r.backend).toBe('cpu');
      expect(r.weights.length).toBe(c.H * c.Nq * c.Nk);
      expect(r.output.length).toBe(c.H * c.Nq * c.dv);
      expect(maxRelDiff(r.scores, c.scores)).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(r.weights, c.weights)).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(r.output, c.output)).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(r.stats.entropy, c.stats.entropy)).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(r.stats.distance, c.stats.distance)).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(r.stats.sinkMass, c.stats.sinkMass)).toBeLessThanOrEqual(1e-5);
      expect(r.weights.some((x) => Number.isNaN(x))).toBe(false);
    });
  }

  it('leaks no tensor over repeated calls', async () => {
    const c = golden.cases[2];
    const before = tf.memory().numTensors;
    for (let i = 0; i < 10; i++) await computeAttention(inputsOf(c), { backend: 'cpu' });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('falls back to cpu in Node when asked for a browser backend, and says why', async () => {
    const r = await computeAttention(inputsOf(golden.cases[0]), { backend: 'webgpu' });
    expect(r.backend).toBe('cpu');
    expect(r.fallbacks.map((f) => f.backend)).toEqual(['webgpu', 'webgl', 'wasm']);
    expect(r.fallbacks[0].reason).toMatch(/outside a browser/);
  });

  it('rejects wrong shapes with a message naming the tensor and the expected shape', async () => {
    const c = inputsOf(golden.cases[2]); // H=4, Hkv=2
    await expect(computeAttention({ ...c, k: { shape: [3, 6, 8], data: new Float32Array(144) }, v: { shape: [3, 6, 8], data: new Float32Array(144) } })).rejects.toThrow(/multiple of the KV heads/);
    await expect(computeAttention({ ...c, q: { shape: [4, 6], data: new Float32Array(24) } })).rejects.toThrow(ShapeError);
    await expect(computeAttention({ ...c, q: { shape: [4, 6, 8], data: new Float32Array(10) } })).rejects.toThrow(/10 values but shape \[4, 6, 8\] needs 192/);
    await expect(computeAttention({ ...c, k: { shape: [2, 6, 7], data: new Float32Array(84) } })).rejects.toThrow(/k head dimension is 7 but q has 8/);
  });
});

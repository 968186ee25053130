import { describe, expect, it } from 'vitest';
import { nalaAttention, phiK, phiQ } from '../../src/methods/sparse/nalaformer';

describe('NaLaFormer (ALGORITHMS.md §12.3)', () => {
  it('the test vector: φ_q([3, −4]), φ_k([1, −2]) and their product', () => {
    const fq = phiQ([3, -4]);
    [0.100402, 0, 0, 0.36638].forEach((x, i) => expect(fq[i]).toBeCloseTo(x, 6));
    expect(Array.from(phiK([1, -2]))).toEqual([1, 0, 0, 8]);
    let dot = 0;
    phiK([1, -2]).forEach((x, i) => (dot += x * fq[i]));
    expect(dot).toBeCloseTo(3.031442, 5);
  });

  it('rows are non-negative and sum to about 1 (N·1e−6 in the denominator); opposite signs are ignored', () => {
    const q = { shape: [1, 3, 2], data: Float32Array.from([1, 0, 0, 1, -1, -1]) };
    const k = { shape: [1, 3, 2], data: Float32Array.from([1, 0, 0, 1, -1, 0]) };
    const v = { shape: [1, 3, 1], data: Float32Array.from([1, 2, 3]) };
    const r = nalaAttention({ q, k, v });
    for (let i = 0; i < 3; i++) {
      const rowSum = r.weights.subarray(i * 3, i * 3 + 3).reduce((a, b) => a + b, 0);
      expect(rowSum).toBeGreaterThan(0.99);
      expect(rowSum).toBeLessThanOrEqual(1);
    }
    // Query 0 = [1, 0] sees only key 0 (key 2 = [−1, 0] has the opposite sign).
    expect(r.weights[0]).toBeCloseTo(1, 5);
    expect(r.weights[2]).toBe(0);
    expect(r.output[0]).toBeCloseTo(1, 5);
  });
});

describe('NaLaFormer through the library', () => {
  it('runs non-causal only, and its maps are the implicit weights', async () => {
    const { runSparseMethod } = await import('../../src/index');
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-cpu');
    await tf.setBackend('cpu');
    const { syntheticQKV } = await import('../../src/core/synthetic');
    const x = syntheticQKV({ tokens: Array.from({ length: 12 }, (_, i) => `t${i % 5}`), pattern: 'mixed', heads: 2, kvHeads: 1, headDim: 8, temperature: 1, seed: 4 });
    const r = await runSparseMethod('nalaformer', { ...x, causal: false }, {});
    const want = nalaAttention(x);
    expect(Array.from(r.weights)).toEqual(Array.from(want.weights));
    expect(r.metrics.relFrob).toBeGreaterThan(0);
    expect(Number.isFinite(r.metrics.relFrob)).toBe(true);
    expect(r.gridless).toBe(true);
    await expect(runSparseMethod('nalaformer', { ...x, causal: true }, {})).rejects.toThrow(/non-causal/);
  });
});

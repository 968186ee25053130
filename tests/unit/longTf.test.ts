import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { pooledTf, POOLED_KERNEL } from '../../src/compute/long/tfTiled';
import { emptyStats, MapKernel, type HeadInputs } from '../../src/compute/long/kernel';
import { gaussian, mulberry32 } from '../../src/core/prng';
import { maxAbsDiff } from './goldens';

function head(Nq: number, Nk: number, d: number, seed: number, more: Partial<HeadInputs> = {}): HeadInputs {
  const g = gaussian(mulberry32(seed));
  return { q: Float32Array.from({ length: Nq * d }, () => 2 * g()), k: Float32Array.from({ length: Nk * d }, () => g()), Nq, Nk, d, scale: 1 / Math.sqrt(d), causal: true, ...more };
}

describe('long-context maps on a tfjs backend (cpu here; webgl and webgpu in the browser test)', () => {
  it('the registered kernel and the tiled ops give the WebAssembly kernel\'s map and stats, without leaking tensors', async () => {
    await tf.setBackend('cpu');
    const kern = new MapKernel('simd');
    for (const [x, f] of [
      [head(600, 600, 32, 1), 4],
      [head(300, 700, 16, 2), 8],
      [head(500, 500, 16, 3, { causal: false }), 3],
      [head(520, 520, 16, 4, { window: 70, sinks: 3 }), 5],
    ] as const) {
      const P = Math.ceil(x.Nq / f), Pc = Math.ceil(x.Nk / f);
      const want = new Float32Array(P * Pc);
      const st = emptyStats(x.Nq);
      kern.pooled(x, f, want, st);
      const before = tf.memory().numTensors;
      const a = await pooledTf(x, f);
      // Small tiles, so that the online max and sum cross several key tiles and row blocks.
      const b = await pooledTf(x, f, { tiled: true, rowBlock: 64, keyTile: 128 });
      expect(tf.memory().numTensors).toBe(before);
      expect(a.path).toBe('kernel');
      expect(b.path).toBe('tiled');
      expect(maxAbsDiff(a.map, want)).toBe(0);
      expect(maxAbsDiff(b.map, want)).toBeLessThan(3e-6);
      expect(maxAbsDiff(b.stats.max, st.max)).toBeLessThan(1e-4);
      const live = [...st.sum.keys()].filter((i) => st.sum[i] > 0);
      for (const i of live.filter((_, n) => n % 37 === 0)) {
        expect(b.stats.sum[i]).toBeCloseTo(st.sum[i], 3);
        expect(b.stats.entropy[i]).toBeCloseTo(st.entropy[i], 3);
        expect(b.stats.distance[i]).toBeCloseTo(st.distance[i], 1);
        expect(b.stats.sink[i]).toBeCloseTo(st.sink[i], 5);
      }
    }
    expect(tf.getKernel(POOLED_KERNEL, 'cpu')).toBeDefined();
  });
});

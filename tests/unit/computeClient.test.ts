import { describe, expect, it } from 'vitest';
import { ComputeClient } from '../../src/compute/client';
import type { EngineRequest } from '../../src/compute/engine';
import { syntheticQKV } from '../../src/core/synthetic';
import { referenceAttention } from '../../src/core/referenceAttention';

function req(seed: number, N = 12): EngineRequest {
  const tokens = Array.from({ length: N }, (_, i) => `t${i % 5}`);
  return { inputs: syntheticQKV({ tokens, pattern: 'mixed', heads: 4, kvHeads: 2, headDim: 8, temperature: 1, seed }), options: { causal: true }, backend: 'cpu' };
}

describe('ComputeClient (main-thread path, as in Node or when no worker can start)', () => {
  it('runs on the main thread when workers are off, and says so', async () => {
    const c = new ComputeClient({ worker: false });
    expect(c.where).toBe('main thread');
    const r = await c.request('a', req(1));
    expect(r.status).toBe('done');
    if (r.status !== 'done') return;
    expect(r.cached).toBe(false);
    expect(r.result.backend).toBe('cpu');
    const ref = referenceAttention(req(1).inputs, { causal: true });
    let m = 0;
    for (let i = 0; i < ref.weights.length; i++) m = Math.max(m, Math.abs(ref.weights[i] - r.result.weights![i]));
    expect(m).toBeLessThan(1e-5);
  });

  it('keeps only the newest waiting request: older waiting ones are superseded', async () => {
    const c = new ComputeClient({ worker: false });
    const first = c.request('k1', req(1));
    const second = c.request('k2', req(2)); // waits behind k1 …
    const third = c.request('k3', req(3)); // … and is replaced by k3
    const [a, b, d] = await Promise.all([first, second, third]);
    expect(a.status).toBe('done');
    expect(b).toEqual({ status: 'superseded', key: 'k2' });
    expect(d.status).toBe('done');
    expect(d.key).toBe('k3');
  });

  it('answers a repeated key from the cache with the same arrays', async () => {
    const c = new ComputeClient({ worker: false });
    const a = await c.request('same', req(4));
    const b = await c.request('same', req(4));
    expect(a.status === 'done' && a.cached).toBe(false);
    expect(b.status === 'done' && b.cached).toBe(true);
    if (a.status === 'done' && b.status === 'done') expect(b.result.weights).toBe(a.result.weights);
  });

  it('evicts the least recently used results beyond its byte budget', async () => {
    // one result of H=4, N=12 holds scores + weights (2 × 4·12·12 floats) + output (4·12·8) = 6144 bytes
    const c = new ComputeClient({ worker: false, cacheBytes: 13_000 });
    await c.request('x', req(1));
    await c.request('y', req(2));
    await c.request('x', req(1)); // x is now the most recent
    await c.request('z', req(3)); // over budget: y goes
    const x = await c.request('x', req(1));
    const y = await c.request('y', req(2));
    expect(x.status === 'done' && x.cached).toBe(true);
    expect(y.status === 'done' && y.cached).toBe(false);
  });

  it('rejects with the engine error message for bad inputs', async () => {
    const c = new ComputeClient({ worker: false });
    const bad = req(1);
    bad.inputs.q = { shape: [4, 12], data: new Float32Array(48) };
    await expect(c.request('bad', bad)).rejects.toThrow(/q has shape \[4, 12\]/);
  });

  it('reports tensors where tfjs runs (none left after requests)', async () => {
    const c = new ComputeClient({ worker: false });
    await c.request('m1', req(5));
    const before = (await c.memory()).numTensors;
    await c.request('m2', req(6));
    expect((await c.memory()).numTensors).toBe(before);
  });
});

/**
 * Long-context measurements for `npm run bench` (window.qkLong on bench.html): the WebAssembly
 * kernel on one thread, the worker engine, and a plain-JavaScript loop doing the same work
 * (scores, softmax, max-pooling), all on the same random inputs. FLOPs count the attention
 * map's products only: 2·d per visible (query, key) pair.
 */
import { emptyStats, MapKernel, type HeadInputs } from '../compute/long/kernel';
import { LongEngine } from '../compute/long/engine';
import type { KernelVariant } from '../compute/long/kernelWat';
import { mulberry32, gaussian } from '../core/prng';
import { runAttention } from '../compute/engine';
import { activate, liveTensors, type BackendName } from '../compute/backends';
import { pooledTf } from '../compute/long/tfTiled';

function randomHead(N: number, d: number, seed = 1): { q: Float32Array; k: Float32Array } {
  const g = gaussian(mulberry32(seed));
  return { q: Float32Array.from({ length: N * d }, () => 2 * g()), k: Float32Array.from({ length: N * d }, () => g()) };
}

export const mapFlops = (N: number, d: number, causal: boolean) => 2 * d * (causal ? (N * (N + 1)) / 2 : N * N);

/** Median of `reps` timed runs after one warm-up, in ms. */
async function timed(reps: number, fn: () => unknown | Promise<unknown>): Promise<number> {
  await fn();
  const ts: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await fn();
    ts.push(performance.now() - t0);
  }
  return ts.sort((a, b) => a - b)[Math.floor(reps / 2)];
}

/** The plain-JavaScript loop: one pooled map of one head, row by row (no N² buffer). */
function jsPooled(x: HeadInputs, f: number, out: Float32Array): void {
  const { q, k, Nq, Nk, d, scale, causal } = x;
  const Pc = Math.ceil(Nk / f);
  const row = new Float32Array(Nk);
  out.fill(-1);
  for (let i = 0; i < Nq; i++) {
    const len = causal ? Math.min(Nk, i + (Nk - Nq) + 1) : Nk;
    let m = -Infinity;
    for (let j = 0; j < len; j++) {
      let s = 0;
      for (let t = 0; t < d; t++) s += q[i * d + t] * k[j * d + t];
      s *= scale;
      row[j] = s;
      if (s > m) m = s;
    }
    let l = 0;
    for (let j = 0; j < len; j++) l += row[j] = Math.exp(row[j] - m);
    const o = Math.floor(i / f) * Pc;
    for (let j = 0; j < len; j++) {
      const p = row[j] / l;
      const c = o + Math.floor(j / f);
      if (p > out[c]) out[c] = p;
    }
  }
}

export const qkLong = {
  /**
   * A golden case (tests/golden/attention.json) through the kernel in this browser: every head's
   * exact weights (masked cells as 0) and the per-head means of the row stats.
   */
  goldenCase(c: { H: number; Hkv: number; Nq: number; Nk: number; d: number; causal: boolean; scale: number | null; layout: 'contiguous' | 'interleaved'; q: number[]; k: number[] }, variant: KernelVariant) {
    const kern = new MapKernel(variant);
    const q = Float32Array.from(c.q);
    const k = Float32Array.from(c.k);
    const weights: number[] = [];
    const entropy: number[] = [];
    for (let h = 0; h < c.H; h++) {
      const kv = c.layout === 'contiguous' ? Math.floor(h / (c.H / c.Hkv)) : h % c.Hkv;
      const x: HeadInputs = { q: q.subarray(h * c.Nq * c.d, (h + 1) * c.Nq * c.d), k: k.subarray(kv * c.Nk * c.d, (kv + 1) * c.Nk * c.d), Nq: c.Nq, Nk: c.Nk, d: c.d, scale: c.scale ?? 1 / Math.sqrt(c.d), causal: c.causal };
      const out = new Float32Array(c.Nq * c.Nk);
      const st = emptyStats(c.Nq);
      kern.pooled(x, 1, out, st);
      for (const v of out) weights.push(Math.max(0, v));
      const live = [...st.sum.keys()].filter((i) => st.sum[i] > 0);
      entropy.push(live.length ? live.reduce((a, i) => a + st.entropy[i], 0) / live.length : 0);
    }
    return { variant: kern.variant, weights, entropy };
  },
  /** One head's pooled map on this thread with the kernel (`variant` forced, or the best supported). */
  async kernel(N: number, d: number, causal: boolean, f: number, variant?: KernelVariant) {
    const kern = new MapKernel(variant);
    kern.warmUp();
    const { q, k } = randomHead(N, d);
    const x: HeadInputs = { q, k, Nq: N, Nk: N, d, scale: 1 / Math.sqrt(d), causal };
    const out = new Float32Array(Math.ceil(N / f) ** 2);
    const st = emptyStats(N);
    const ms = await timed(3, () => kern.pooled(x, f, out, st));
    return { variant: kern.variant, ms, gflops: mapFlops(N, d, causal) / ms / 1e6 };
  },
  /** The plain-JavaScript loop on the same work. */
  async js(N: number, d: number, causal: boolean, f: number) {
    const { q, k } = randomHead(N, d);
    const x: HeadInputs = { q, k, Nq: N, Nk: N, d, scale: 1 / Math.sqrt(d), causal };
    const out = new Float32Array(Math.ceil(N / f) ** 2);
    const ms = await timed(1, () => jsPooled(x, f, out));
    return { ms, gflops: mapFlops(N, d, causal) / ms / 1e6 };
  },
  /**
   * The foundation's tfjs path on one backend: one head's weights `[N, N]` read back (the dense
   * kernel with its query blocks), timed after a warm-up; FLOPs as above (QKᵀ only).
   */
  async tfjs(backend: BackendName, N: number, d: number) {
    const { q, k } = randomHead(N, d);
    const inputs = { q: { shape: [1, N, d], data: q }, k: { shape: [1, N, d], data: k }, v: { shape: [1, N, 1], data: new Float32Array(N) } };
    let used = '';
    const ms = await timed(1, async () => {
      const r = await runAttention({ inputs, options: { causal: true }, backend, want: { weights: true } });
      used = r.backend;
    });
    return { backend: used, ms, gflops: mapFlops(N, d, true) / ms / 1e6 };
  },
  /**
   * The long path on a tfjs backend (the registered kernel on wasm/cpu, tiled ops on webgl/
   * webgpu) for one head of `Nq` queries × `Nk` keys (causal, the queries last), against the
   * WebAssembly kernel on this thread: the largest difference of the pooled maps, time, GFLOP/s,
   * tensors left behind. With `dense`, also whether the foundation's dense path managed the same keys.
   */
  async tfPooled(backend: BackendName, Nq: number, Nk: number, d: number, f: number, dense = false) {
    const why = await activate(backend);
    if (why) return { error: why };
    const g = gaussian(mulberry32(5));
    const q = Float32Array.from({ length: Nq * d }, () => 2 * g());
    const k = Float32Array.from({ length: Nk * d }, () => g());
    const x: HeadInputs = { q, k, Nq, Nk, d, scale: 1 / Math.sqrt(d), causal: true };
    const want = new Float32Array(Math.ceil(Nq / f) * Math.ceil(Nk / f));
    new MapKernel().pooled(x, f, want, emptyStats(Nq));
    const before = liveTensors();
    let r = await pooledTf(x, f);
    const ms = await timed(1, async () => (r = await pooledTf(x, f)));
    let maxDiff = 0;
    for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(want[i] - r.map[i]));
    const pairs = Nq * Nk - (Nq * (Nq - 1)) / 2;
    let denseOutcome: string | undefined;
    if (dense) {
      try {
        const res = await runAttention({ inputs: { q: { shape: [1, Nq, d], data: q }, k: { shape: [1, Nk, d], data: k }, v: { shape: [1, Nk, 1], data: new Float32Array(Nk) } }, options: { causal: true }, backend, want: { weights: true } });
        denseOutcome = res.backend === backend ? `computed on ${backend}` : `fell back to ${res.backend}: ${res.fallbacks.map((b) => `${b.backend}: ${b.reason}`).join('; ')}`;
      } catch (e) {
        denseOutcome = `failed: ${(e as Error).message}`;
      }
    }
    return { backend, path: r.path, maxDiff, ms, gflops: (2 * d * pairs) / ms / 1e6, leaked: liveTensors() - before, dense: denseOutcome };
  },
  /** All H heads' pooled maps through the worker engine (inputs already in the workers). */
  async engine(N: number, H: number, d: number, causal: boolean, f: number, workers?: number) {
    const eng = new LongEngine({ workers });
    const g = gaussian(mulberry32(3));
    const q = Float32Array.from({ length: H * N * d }, () => 2 * g());
    const k = Float32Array.from({ length: H * N * d }, () => g());
    eng.setInputs({ q, k, H, Hkv: H, Nq: N, Nk: N, d, kvOf: Array.from({ length: H }, (_, h) => h), scale: 1 / Math.sqrt(d) });
    const heads = Array.from({ length: H }, (_, h) => h);
    await eng.pooled([0], f, { causal });
    const ms = await timed(1, () => eng.pooled(heads, f, { causal }));
    const r = { workers: eng.workers, variant: eng.last.variant, workerMs: eng.last.ms, ms, gflops: (H * mapFlops(N, d, causal)) / ms / 1e6, kernelMemory: eng.last.memory };
    eng.dispose();
    return r;
  },
};

(window as unknown as { qkLong: typeof qkLong }).qkLong = qkLong;

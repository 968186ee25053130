import { emptyStats, MapKernel, type HeadInputs } from './kernel';
import type { FromLongWorker, LongInputs, LongMask, PooledPart, ToLongWorker } from './protocol';
import { syntheticQKV } from '../../core/synthetic';

/**
 * The long-context worker's state and message handling (also run in the page when no worker can
 * start). A pooled request takes every `parts`-th chunk of `chunk` pooled rows starting at
 * `part`, so two workers share a causal map evenly.
 */
export class LongServer {
  private kernel: MapKernel | null = null;
  private inputs: LongInputs | null = null;
  private tfjs = false;

  private head(h: number, mask: LongMask): HeadInputs {
    const x = this.inputs!;
    if (!(h >= 0 && h < x.H)) throw new Error(`head ${h} is not one of the ${x.H} heads`);
    const kv = x.kvOf[h];
    return { q: x.q.subarray(h * x.Nq * x.d, (h + 1) * x.Nq * x.d), k: x.k.subarray(kv * x.Nk * x.d, (kv + 1) * x.Nk * x.d), Nq: x.Nq, Nk: x.Nk, d: x.d, scale: x.scale, ...mask };
  }

  async handle(msg: ToLongWorker, progress: (m: FromLongWorker) => void): Promise<{ reply: FromLongWorker; transfer: ArrayBuffer[] }> {
    const t0 = performance.now();
    try {
      if (!this.kernel) {
        // The page's compiled module when it sends one (shared optimised code), else this realm's.
        const m = msg.kind === 'inputs' || msg.kind === 'synthetic' ? msg : null;
        this.kernel = m?.module && m.variant ? new MapKernel(m.variant, m.module) : new MapKernel();
        this.kernel.warmUp();
      }
      const k = this.kernel;
      switch (msg.kind) {
        case 'inputs':
          this.inputs = msg.inputs;
          return { reply: { id: msg.id, kind: 'done', variant: k.variant, ms: performance.now() - t0, memory: k.memoryBytes }, transfer: [] };
        case 'memory': {
          // Live tfjs tensors, when a tfjs backend was ever used here (0 otherwise: tfjs is not even loaded).
          const tensors = this.tfjs ? (await import('@tensorflow/tfjs-core')).memory().numTensors : 0;
          return { reply: { id: msg.id, kind: 'done', variant: k.variant, ms: 0, memory: k.memoryBytes, tensors }, transfer: [] };
        }
        case 'synthetic': {
          // Drawn here rather than in the page (0.8 s at 8 × 8192 × 64 on this machine); the page gets copies.
          const g = syntheticQKV(msg.spec);
          const [H, N, d] = g.q.shape;
          const x: LongInputs = { q: g.q.data, k: g.k.data, H, Hkv: g.k.shape[0], Nq: N, Nk: N, d, kvOf: msg.kvOf, scale: msg.scale };
          this.inputs = x;
          const copy = { ...x, q: x.q.slice(), k: x.k.slice() };
          return { reply: { id: msg.id, kind: 'done', inputs: copy, variant: k.variant, ms: performance.now() - t0, memory: k.memoryBytes }, transfer: [copy.q.buffer, copy.k.buffer] };
        }
        case 'pooled': {
          if (!this.inputs) throw new Error('no inputs were sent');
          const { Nq, Nk } = this.inputs;
          const P = Math.ceil(Nq / msg.f);
          const Pc = Math.ceil(Nk / msg.f);
          const mine: number[] = [];
          for (let R = 0; R < P; R++) if (Math.floor(R / msg.chunk) % msg.parts === msg.part) mine.push(R);
          const parts: PooledPart[] = [];
          let done = 0;
          let used = 'kernel';
          if (msg.backend && msg.backend !== 'kernel') {
            // A tfjs backend (loaded only now): its registered kernel or its tiled ops, all rows here.
            const { activate } = await import('../backends');
            this.tfjs = true;
            const why = await activate(msg.backend);
            if (why) throw new Error(`the ${msg.backend} backend is not available: ${why}`);
            used = msg.backend;
          }
          for (const h of msg.heads) {
            if (used !== 'kernel') {
              const { pooledTf } = await import('./tfTiled');
              const r = await pooledTf(this.head(h, msg.mask), msg.f);
              // A lost WebGL context reads back zeros: refuse its numbers (the page falls back to the kernel).
              const { webglContextLost } = await import('../backends');
              if (used === 'webgl' && webglContextLost()) throw new Error('the WebGL context was lost (a GPU reset or out of memory)');
              const qrows = Int32Array.from({ length: Nq }, (_, i) => i);
              parts.push({ head: h, f: msg.f, rows: Int32Array.from({ length: P }, (_, R) => R), map: r.map, qrows, stats: r.stats });
              progress({ id: msg.id, kind: 'progress', rows: P });
              continue;
            }
            const map = new Float32Array(mine.length * Pc);
            const stats = emptyStats(Nq);
            const at = new Int32Array(P);
            mine.forEach((R, i) => (at[R] = i));
            k.pooled(this.head(h, msg.mask), msg.f, map, stats, mine, () => {
              if (++done % 16 === 0) progress({ id: msg.id, kind: 'progress', rows: 16 });
            }, (R) => at[R]);
            const qrows = Int32Array.from(mine.flatMap((R) => Array.from({ length: Math.max(0, Math.min(Nq, R * msg.f + msg.f) - R * msg.f) }, (_, t) => R * msg.f + t)));
            const pick = (a: Float32Array) => Float32Array.from(qrows, (r) => a[r]);
            parts.push({ head: h, f: msg.f, rows: Int32Array.from(mine), map, qrows, stats: { max: pick(stats.max), sum: pick(stats.sum), entropy: pick(stats.entropy), distance: pick(stats.distance), sink: pick(stats.sink) } });
          }
          const transfer = parts.flatMap((p) => [p.rows.buffer, p.map.buffer, p.qrows.buffer, ...Object.values(p.stats).map((a: Float32Array) => a.buffer)]) as ArrayBuffer[];
          return { reply: { id: msg.id, kind: 'done', parts, variant: used === 'kernel' ? k.variant : `tfjs ${used}`, backend: used, ms: performance.now() - t0, memory: k.memoryBytes }, transfer };
        }
        case 'window': {
          if (!this.inputs) throw new Error('no inputs were sent');
          const w = k.window(this.head(msg.head, msg.mask), { max: msg.max, sum: msg.sum }, msg.r0, msg.r1, msg.c0, msg.c1);
          return { reply: { id: msg.id, kind: 'done', window: w, variant: k.variant, ms: performance.now() - t0, memory: k.memoryBytes }, transfer: [w.buffer as ArrayBuffer] };
        }
      }
    } catch (e) {
      return { reply: { id: msg.id, kind: 'error', error: (e as Error).message ?? String(e) }, transfer: [] };
    }
  }
}

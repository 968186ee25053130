import { emptyStats, kernelModule, kernelSupport, type RowStats } from './kernel';
import { LongServer } from './serve';
import type { FromLongWorker, LongBackend, LongInputs, LongMask, PooledPart, ToLongWorker } from './protocol';
import type { SyntheticSpec } from '../../core/synthetic';

/** One head's max-pooled map: `map [P, Pc]`, cell (R, C) the largest weight of its f × f cells (−1: all masked). */
export interface PooledMap {
  head: number;
  f: number;
  P: number;
  Pc: number;
  map: Float32Array;
  stats: RowStats;
}

/** Thrown to the callers of requests that {@link LongEngine.cancel} stopped. */
export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

interface Slot {
  post(msg: ToLongWorker, transfer: Transferable[], onProgress: (rows: number) => void): Promise<FromLongWorker & { kind: 'done' }>;
  stop(): void;
}

let nextId = 1;

function workerSlot(): Slot {
  const w = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'qk-scope-long' });
  const waiting = new Map<number, { ok: (m: FromLongWorker & { kind: 'done' }) => void; fail: (e: Error) => void; progress: (rows: number) => void }>();
  w.onmessage = (e: MessageEvent<FromLongWorker>) => {
    const m = e.data;
    const p = waiting.get(m.id);
    if (!p) return;
    if (m.kind === 'progress') return p.progress(m.rows);
    waiting.delete(m.id);
    if (m.kind === 'error') p.fail(new Error(m.error));
    else p.ok(m);
  };
  w.onerror = (e) => {
    for (const p of waiting.values()) p.fail(new Error(`the long-context worker failed: ${e.message}`));
    waiting.clear();
  };
  return {
    post: (msg, transfer, progress) =>
      new Promise((ok, fail) => {
        waiting.set(msg.id, { ok, fail, progress });
        w.postMessage(msg, transfer);
      }),
    stop: () => {
      w.terminate();
      for (const p of waiting.values()) p.fail(new CancelledError());
      waiting.clear();
    },
  };
}

/** The same server in the page (no worker, e.g. Node): requests run one at a time after a yield. */
function pageSlot(): Slot {
  const server = new LongServer();
  let stopped = false;
  return {
    post: (msg, _transfer, progress) =>
      new Promise((ok, fail) =>
        setTimeout(async () => {
          if (stopped) return fail(new CancelledError());
          const { reply } = await server.handle(msg, (m) => m.kind === 'progress' && progress(m.rows));
          if (stopped) return fail(new CancelledError());
          if (reply.kind === 'error') fail(new Error(reply.error));
          else ok(reply as FromLongWorker & { kind: 'done' });
        }, 0),
      ),
    stop: () => {
      stopped = true;
    },
  };
}

/**
 * Long-context attention maps without `[H, N, N]`: the page keeps the queries and keys, and
 * `workers` Web Workers (one per core, by default) each compute a share of the pooled rows with
 * the WebAssembly SIMD kernel. A request can be cancelled: the workers stop at once (they are
 * terminated) and new ones start with the same inputs on the next request.
 */
export class LongEngine {
  private slots: Slot[] | null = null;
  private inputs: LongInputs | null = null;
  private sent: Promise<unknown> | null = null;
  readonly workers: number;
  private readonly useWorkers: boolean;
  /** What the last request measured: kernel variant, worker time and the kernels' memory. */
  last = { variant: '', ms: 0, memory: 0 };

  constructor(opts: { workers?: number; inPage?: boolean } = {}) {
    this.useWorkers = !opts.inPage && typeof Worker !== 'undefined';
    const cores = typeof navigator !== 'undefined' && navigator.hardwareConcurrency ? navigator.hardwareConcurrency : 2;
    this.workers = this.useWorkers ? Math.max(1, Math.min(opts.workers ?? cores, 8)) : 1;
  }

  private start(): Slot[] {
    if (!this.slots) {
      this.slots = Array.from({ length: this.workers }, () => (this.useWorkers ? workerSlot() : pageSlot()));
      this.sent = null;
    }
    if (this.inputs && !this.sent) {
      const x = this.inputs;
      this.sent = Promise.all(this.slots.map((s) => s.post({ id: nextId++, kind: 'inputs', inputs: x, ...this.shared() }, [], () => {})));
    }
    return this.slots;
  }

  /**
   * Draws the synthetic source's Q and K in a worker (not in the page, which would stall) and
   * makes them the inputs; returns the page's copy.
   */
  async synthetic(spec: SyntheticSpec, kvOf: number[], scale: number): Promise<LongInputs> {
    this.inputs = null;
    const slots = this.start();
    const r = await slots[0].post({ id: nextId++, kind: 'synthetic', spec, kvOf, scale, ...this.shared() }, [], () => {});
    this.setInputs(r.inputs!);
    return r.inputs!;
  }

  /** The page's compiled kernel, handed to the workers (they share V8's optimised code). */
  private shared(): { module?: WebAssembly.Module; variant?: 'fma' | 'simd' } {
    if (!this.useWorkers) return {};
    const variant = kernelSupport();
    return variant ? { module: kernelModule(variant), variant } : {};
  }

  /** Sets the inputs every later request reads (they are copied to each worker). */
  setInputs(x: LongInputs): void {
    this.inputs = x;
    this.sent = null;
  }

  /**
   * Max-pooled maps of `heads` at pool factor `f` (f = 1: the exact weights), with each query
   * row's stats. `onProgress(done, total)` counts pooled rows.
   */
  async pooled(heads: number[], f: number, mask: LongMask, onProgress?: (done: number, total: number) => void, backend: LongBackend = 'kernel'): Promise<PooledMap[]> {
    const x = this.inputs;
    if (!x) throw new Error('no long-context inputs are set');
    const slots = this.start();
    await this.sent;
    const P = Math.ceil(x.Nq / f);
    const Pc = Math.ceil(x.Nk / f);
    const total = P * heads.length;
    let done = 0;
    const chunk = Math.max(1, Math.ceil(32 / f));
    // A tfjs backend runs in the first worker only (one GPU; its WebAssembly is single-threaded).
    const used = backend === 'kernel' ? slots : slots.slice(0, 1);
    const replies = await Promise.all(
      used.map((s, part) =>
        s.post({ id: nextId++, kind: 'pooled', heads, f, mask, part, parts: used.length, chunk, backend }, [], (rows) => {
          done += rows;
          onProgress?.(Math.min(done, total), total);
        }),
      ),
    );
    const out = heads.map((head) => ({ head, f, P, Pc, map: new Float32Array(P * Pc), stats: emptyStats(x.Nq) }));
    for (const r of replies) {
      for (const part of r.parts as PooledPart[]) {
        const m = out[heads.indexOf(part.head)];
        part.rows.forEach((R, i) => m.map.set(part.map.subarray(i * Pc, (i + 1) * Pc), R * Pc));
        for (const key of ['max', 'sum', 'entropy', 'distance', 'sink'] as const) {
          const to = m.stats[key];
          const from = part.stats[key];
          part.qrows.forEach((q, i) => (to[q] = from[i]));
        }
      }
    }
    this.last = { variant: replies[0].variant, ms: Math.max(...replies.map((r) => r.ms)), memory: replies.reduce((a, r) => a + r.memory, 0) };
    onProgress?.(total, total);
    return out;
  }

  /** Exact weights of rows `[r0, r1)` × keys `[c0, c1)` of one head, from its row stats. */
  async window(head: number, mask: LongMask, stats: Pick<RowStats, 'max' | 'sum'>, r0: number, r1: number, c0: number, c1: number): Promise<Float32Array> {
    if (!this.inputs) throw new Error('no long-context inputs are set');
    const slots = this.start();
    await this.sent;
    const msg: WithoutId<ToLongWorker> = { kind: 'window', head, mask, r0, r1, c0, c1, max: stats.max, sum: stats.sum };
    const r = await slots[0].post({ ...msg, id: nextId++ } as ToLongWorker, [], () => {});
    return r.window!;
  }

  /** Live tfjs tensors in the workers (a leak check: the kernel path makes none) and the kernels' memory. */
  async memory(): Promise<{ tensors: number; kernelBytes: number }> {
    const slots = this.start();
    const r = await Promise.all(slots.map((s) => s.post({ id: nextId++, kind: 'memory' }, [], () => {})));
    return { tensors: r.reduce((a, x) => a + (x.tensors ?? 0), 0), kernelBytes: r.reduce((a, x) => a + x.memory, 0) };
  }

  /** Stops every running request (their promises reject with {@link CancelledError}). */
  cancel(): void {
    for (const s of this.slots ?? []) s.stop();
    this.slots = null;
    this.sent = null;
  }

  dispose(): void {
    this.cancel();
    this.inputs = null;
  }
}

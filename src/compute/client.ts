import type { BackendName } from './backends';
import type { EngineRequest, EngineResult, ProbeResult } from './engine';
import { tensorBuffers, type FromWorker, type ModelCompareReport, type ModelLayerQKV, type ToWorker } from './protocol';
import type { ModelConfig } from '../core/modelSpec';
import { ByteLru } from '../core/lru';
import type { QKV, Tensor } from '../core/tensor';

/** What a request came to: a result, or replaced by a newer request before it ran. */
export type Outcome = { status: 'done'; key: string; result: EngineResult; cached: boolean } | { status: 'superseded'; key: string };

export interface ComputeClientOptions {
  /** Run tfjs in a Web Worker (default: when the page can create one). */
  worker?: boolean;
  /** Test hook: backends that must fail to initialise. */
  forcedFailures?: BackendName[];
  /** Fastest backend remembered from an earlier probe, used by `auto`. */
  fastest?: BackendName | null;
  /** A backend to initialise as soon as the worker starts (the one the first request will use). */
  warm?: BackendName | null;
  /** Result cache budget in bytes (default 512 MiB). */
  cacheBytes?: number;
}

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

interface Pending {
  key: string;
  req: EngineRequest;
  cache: boolean;
  resolve: (o: Outcome) => void;
  reject: (e: Error) => void;
}

function bytesOf(r: EngineResult): number {
  return (r.scores?.byteLength ?? 0) + (r.weights?.byteLength ?? 0) + (r.output?.byteLength ?? 0);
}

/**
 * Inputs as they should cross to the worker: a typed array that is a view into a larger buffer
 * (an imported file's q, k, v are views of the file) would be cloned with its whole buffer, so
 * such views are copied to their own buffer first. Whole-buffer arrays are sent as they are.
 */
function compactInputs(x: QKV): QKV {
  const own = (t: Tensor): Tensor => (t.data.byteOffset === 0 && t.data.byteLength === t.data.buffer.byteLength ? t : { shape: t.shape, data: t.data.slice() });
  return { q: own(x.q), k: own(x.k), v: own(x.v) };
}

/**
 * The page's handle on the compute layer. Runs requests in a Web Worker (falling back to the
 * main thread when no worker can run), keeps only the newest request while one is running,
 * and caches results by request key.
 */
export class ComputeClient {
  private worker: Worker | null = null;
  private mainHandler: Promise<typeof import('./handler')> | null = null;
  private nextId = 1;
  private replies = new Map<number, (m: FromWorker) => void>();
  private running: Pending | null = null;
  private queued: Pending | null = null;
  private cache: ByteLru<EngineResult>;
  private readonly config: ToWorker;
  /** Why the worker is not used, when it is not. */
  workerProblem: string | null = null;

  constructor(opts: ComputeClientOptions = {}) {
    this.cache = new ByteLru(opts.cacheBytes ?? 512 * 2 ** 20, bytesOf);
    this.config = { id: 0, kind: 'config', forcedFailures: opts.forcedFailures ?? [], fastest: opts.fastest ?? null, warm: opts.warm ?? null };
    const wantWorker = opts.worker ?? typeof Worker !== 'undefined';
    if (wantWorker) {
      try {
        this.worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'qk-scope-compute' });
        this.worker.onmessage = (e: MessageEvent<FromWorker>) => {
          const cb = this.replies.get(e.data.id);
          this.replies.delete(e.data.id);
          cb?.(e.data);
        };
        this.worker.onerror = (e) => this.abandonWorker(`the compute worker failed: ${e.message || 'script error'}`);
        this.replies.set(0, () => undefined);
        this.worker.postMessage(this.config);
      } catch (e) {
        this.workerProblem = `no Web Worker: ${(e as Error).message}`;
        this.worker = null;
      }
    } else {
      this.workerProblem = 'Web Workers are not available here';
    }
  }

  /** `worker` or `main thread`: where tfjs runs. */
  get where(): 'worker' | 'main thread' {
    return this.worker ? 'worker' : 'main thread';
  }

  private abandonWorker(why: string): void {
    if (!this.worker) return;
    this.workerProblem = why;
    this.worker.terminate();
    this.worker = null;
    // Re-send whatever was waiting for the worker on the main thread.
    const waiting = [...this.replies.entries()];
    this.replies.clear();
    for (const [, cb] of waiting) cb({ id: -1, ok: false, error: 'retry-on-main' });
  }

  private async send(msg: WithoutId<ToWorker>, transfer: ArrayBuffer[] = []): Promise<FromWorker> {
    const id = this.nextId++;
    const full = { ...msg, id } as ToWorker;
    if (this.worker) {
      const w = this.worker;
      const reply = await new Promise<FromWorker>((resolve) => {
        this.replies.set(id, resolve);
        w.postMessage(full, transfer);
      });
      if (!(reply.ok === false && reply.error === 'retry-on-main')) return reply;
    }
    if (!this.mainHandler) {
      this.mainHandler = import('./handler');
      const h = await this.mainHandler;
      await h.handle(this.config);
    }
    const h = await this.mainHandler;
    return h.handle(full);
  }

  /**
   * Computes attention for `key` (a deterministic description of the request). A cached key
   * answers at once; otherwise the request runs next, replacing any request still waiting.
   * `cache: false` leaves the result out of the cache (the caller keeps it elsewhere).
   */
  request(key: string, req: EngineRequest, opts: { cache?: boolean } = {}): Promise<Outcome> {
    const hit = this.cache.get(key);
    if (hit) {
      if (this.queued) {
        this.queued.resolve({ status: 'superseded', key: this.queued.key });
        this.queued = null;
      }
      return Promise.resolve({ status: 'done', key, result: hit, cached: true });
    }
    return new Promise<Outcome>((resolve, reject) => {
      const p: Pending = { key, req, resolve, reject, cache: opts.cache ?? true };
      if (!this.running) this.start(p);
      else {
        if (this.queued) this.queued.resolve({ status: 'superseded', key: this.queued.key });
        this.queued = p;
      }
    });
  }

  private start(p: Pending): void {
    this.running = p;
    this.send({ kind: 'attention', req: this.worker ? { ...p.req, inputs: compactInputs(p.req.inputs) } : p.req })
      .then((reply) => {
        if (reply.ok && reply.kind === 'attention') {
          if (p.cache) this.cache.set(p.key, reply.result);
          p.resolve({ status: 'done', key: p.key, result: reply.result, cached: false });
        } else if (!reply.ok) p.reject(new Error(reply.error));
        else p.reject(new Error('unexpected reply from the compute worker'));
      })
      .catch((e: Error) => p.reject(e))
      .finally(() => {
        this.running = null;
        const next = this.queued;
        this.queued = null;
        if (next) this.start(next);
      });
  }

  /** Measures every backend (see `probe` in the engine); `auto` then uses the fastest. */
  async probe(): Promise<ProbeResult> {
    const reply = await this.send({ kind: 'probe' });
    if (reply.ok && reply.kind === 'probe') return reply.result;
    throw new Error(reply.ok ? 'unexpected reply' : reply.error);
  }

  /** Live tfjs tensors and bytes where tfjs runs (for leak checks). */
  /** Test hook: loses the worker's WebGL context; resolves with whether there was one to lose. */
  async loseWebglContext(): Promise<boolean> {
    const reply = await this.send({ kind: 'lose-context' });
    return reply.ok && reply.kind === 'lose-context' ? reply.lost : false;
  }

  async memory(): Promise<{ numTensors: number; numBytes: number; backend: string }> {
    const reply = await this.send({ kind: 'memory' });
    if (reply.ok && reply.kind === 'memory') return { numTensors: reply.numTensors, numBytes: reply.numBytes, backend: reply.backend };
    throw new Error(reply.ok ? 'unexpected reply' : reply.error);
  }

  /**
   * Uploads a checkpoint's weights (read and checked on the page) to the backend where tfjs
   * runs; their buffers are transferred, not copied. Replaces the model loaded before.
   */
  async loadModel(config: ModelConfig, weights: Map<string, Tensor>, backend: BackendName): Promise<{ backend: string; ms: number }> {
    const list = [...weights.entries()];
    const reply = await this.send({ kind: 'model-load', config, weights: list, backend }, this.worker ? tensorBuffers(list.map(([, t]) => t)) : []);
    if (reply.ok && reply.kind === 'model-load') return { backend: reply.backend, ms: reply.ms };
    throw new Error(reply.ok ? 'unexpected reply' : reply.error);
  }

  /** Runs token ids through the loaded model: every layer's Q/K/V (and the pre-RoPE copies) and the logits. */
  async runModel(ids: number[]): Promise<{ layers: ModelLayerQKV[]; logits: Tensor | null; backend: string; ms: number }> {
    const reply = await this.send({ kind: 'model-run', ids });
    if (reply.ok && reply.kind === 'model-run') return reply;
    throw new Error(reply.ok ? 'unexpected reply' : reply.error);
  }

  /**
   * Runs `ids` through the loaded model and through a second model made from `weights` (same
   * config), and reports how far apart their attention, hidden states and logits are. The second
   * model is freed afterwards; the weights' buffers are transferred.
   */
  async compareModel(config: ModelConfig, weights: Map<string, Tensor>, ids: number[], at?: { layer: number; head: number }): Promise<ModelCompareReport> {
    const list = [...weights.entries()];
    const reply = await this.send({ kind: 'model-compare', config, weights: list, ids, at }, this.worker ? tensorBuffers(list.map(([, t]) => t)) : []);
    if (reply.ok && reply.kind === 'model-compare') return reply.report;
    throw new Error(reply.ok ? 'unexpected reply' : reply.error);
  }

  /** Stops the worker. */
  dispose(): void {
    this.worker?.terminate();
    this.worker = null;
  }
}

import { KERNEL_WASM } from './kernelWasm.gen';
import type { KernelVariant } from './kernelWat';

/** One head's inputs for the map kernel: `q [Nq, d]`, `k [Nk, d]` (row-major views). */
export interface HeadInputs {
  q: Float32Array;
  k: Float32Array;
  Nq: number;
  Nk: number;
  d: number;
  /** Logit scale, usually 1/√d. */
  scale: number;
  causal: boolean;
  /** Sliding window (needs `causal`): query i sees only its last `window` keys. */
  window?: number;
  /** With a window: the first `sinks` keys stay visible too (StreamingLLM's attention sinks). */
  sinks?: number;
}

/** The kernel's lower key bound of query row r0 (−2³⁰: none) and the count of sink keys. */
function lowerBound(x: HeadInputs, r0: number): { lo0: number; sinkn: number } {
  if (!x.window || !x.causal) return { lo0: -(2 ** 30), sinkn: 0 };
  return { lo0: r0 + (x.Nk - x.Nq) - x.window + 1, sinkn: x.sinks ?? 0 };
}

/**
 * Per query row: the softmax's max and sum (which make any weight exact from q·k), the row's
 * entropy (nats), mean attention distance and weight on key 0. Rows with no visible key have
 * sum 0.
 */
export interface RowStats {
  max: Float32Array;
  sum: Float32Array;
  entropy: Float32Array;
  distance: Float32Array;
  sink: Float32Array;
}

export function emptyStats(N: number): RowStats {
  return { max: new Float32Array(N), sum: new Float32Array(N), entropy: new Float32Array(N), distance: new Float32Array(N), sink: new Float32Array(N) };
}

/** Keys visible to query row i: `[0, len)`; the last Nq queries are the last Nq keys under a causal mask. */
export function visibleKeys(i: number, Nq: number, Nk: number, causal: boolean): number {
  return causal ? Math.max(0, Math.min(Nk, i + (Nk - Nq) + 1)) : Nk;
}

const up = (x: number, m: number) => Math.ceil(x / m) * m;

interface Exports {
  memory: WebAssembly.Memory;
  scores(q: number, k: number, out: number, rows: number, nc: number, d: number, stride: number, scale: number): void;
  softmax(s: number, rows: number, nc: number, stride: number, len0: number, inc: number, cap: number, lo0: number, sinkn: number, qpos0: number, stats: number): void;
  normalize(s: number, rows: number, nc: number, stride: number, len0: number, inc: number, cap: number, lo0: number, sinkn: number, col0: number, stats: number): void;
  colmax(s: number, rows: number, nc: number, stride: number, out: number): void;
  hpool(src: number, n: number, f: number, out: number): void;
}

function decode(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The fastest kernel variant this engine can run (`fma` needs relaxed SIMD), or null without SIMD. */
export function kernelSupport(): KernelVariant | null {
  if (typeof WebAssembly === 'undefined') return null;
  if (WebAssembly.validate(decode(KERNEL_WASM.fma) as BufferSource)) return 'fma';
  if (WebAssembly.validate(decode(KERNEL_WASM.simd) as BufferSource)) return 'simd';
  return null;
}

const compiled = new Map<KernelVariant, WebAssembly.Module>();

/** The compiled kernel of a variant, once per realm (the module is under 4 KB: compiling it synchronously is allowed on a page's main thread). */
export function kernelModule(variant: KernelVariant): WebAssembly.Module {
  let m = compiled.get(variant);
  if (!m) {
    m = new WebAssembly.Module(decode(KERNEL_WASM[variant]) as BufferSource);
    compiled.set(variant, m);
  }
  return m;
}

/**
 * QK Scope's own attention-map kernel: WebAssembly SIMD, one thread. It computes the weights of
 * a block of query rows against the keys they see (`scores`: 4×8 register tiles over packed
 * panels; `softmax`: a vector exp with the row sums), max-pools them, and recomputes any window
 * exactly from the row stats. It never holds more than one block of rows × keys.
 */
export class MapKernel {
  readonly variant: KernelVariant;
  private x: Exports;
  private f32: Float32Array;
  /** The head whose keys are packed now (by identity of its array and offset). */
  private packed: { k: Float32Array; Nk: number; d: number } | null = null;
  private kPtr = 0;
  private kBytes = 0;

  /**
   * `module`: a compiled kernel to instantiate (the engine compiles once and hands the same
   * module to every worker, so V8's optimised code, which it makes after the first busy
   * milliseconds, is shared and survives a worker's restart); by default this realm's copy.
   */
  constructor(variant: KernelVariant | null = kernelSupport(), module?: WebAssembly.Module) {
    if (!variant) throw new Error('this browser has no WebAssembly SIMD');
    this.variant = variant;
    const mod = module ?? kernelModule(variant);
    this.x = new WebAssembly.Instance(mod, {}).exports as unknown as Exports;
    this.f32 = new Float32Array(this.x.memory.buffer);
  }

  /**
   * Runs the kernel for a few milliseconds on a small made-up block so that V8 optimises it
   * (WebAssembly starts in a baseline tier that is several times slower here) before real work.
   */
  warmUp(): void {
    const d = 64, n = 512;
    const q = new Float32Array(32 * d).fill(0.01);
    const k = new Float32Array(n * d).fill(0.02);
    const x: HeadInputs = { q, k, Nq: 32, Nk: n, d, scale: 0.125, causal: false };
    const out = new Float32Array(8 * 128);
    for (let i = 0; i < 12; i++) this.pooled(x, 4, out, emptyStats(32));
    this.packed = null;
  }

  /** Bytes of the module's memory (it grows to the largest block seen, never shrinks). */
  get memoryBytes(): number {
    return this.x.memory.buffer.byteLength;
  }

  private ensure(bytes: number): void {
    const have = this.x.memory.buffer.byteLength;
    if (bytes > have) this.x.memory.grow(Math.ceil((bytes - have) / 65536));
    if (this.f32.buffer !== this.x.memory.buffer) this.f32 = new Float32Array(this.x.memory.buffer);
  }

  /** Packs keys `[c0, c1)` of `k [Nk, d]` into 8-column panels at byte `at`; returns the panel bytes. */
  private packKeys(k: Float32Array, d: number, c0: number, c1: number, at: number): number {
    const n = up(c1 - c0, 8);
    const bytes = n * d * 4;
    this.ensure(at + bytes);
    const f = this.f32;
    const base = at >> 2;
    f.fill(0, base, base + n * d);
    for (let c = c0; c < c1; c++) {
      const cc = c - c0;
      const p = base + (cc >> 3) * d * 8 + (cc & 7);
      const src = c * d;
      for (let t = 0; t < d; t++) f[p + t * 8] = k[src + t];
    }
    return bytes;
  }

  /** Packs query rows `[r0, r1)` into 4-row panels at byte `at`. */
  private packQueries(q: Float32Array, d: number, r0: number, r1: number, at: number): number {
    const n = up(r1 - r0, 4);
    const bytes = n * d * 4;
    this.ensure(at + bytes);
    const f = this.f32;
    const base = at >> 2;
    f.fill(0, base, base + n * d);
    for (let r = r0; r < r1; r++) {
      const rr = r - r0;
      const p = base + (rr >> 2) * d * 4 + (rr & 3);
      const src = r * d;
      for (let t = 0; t < d; t++) f[p + t * 4] = q[src + t];
    }
    return bytes;
  }

  /** Keeps the head's keys packed across blocks (repacked when another head comes). */
  private keys(x: HeadInputs): void {
    const p = this.packed;
    if (p && p.k === x.k && p.Nk === x.Nk && p.d === x.d) return;
    this.kPtr = 0;
    this.kBytes = this.packKeys(x.k, x.d, 0, x.Nk, 0);
    this.packed = { k: x.k, Nk: x.Nk, d: x.d };
  }

  /**
   * Weights of query rows `[r0, r1)` against the keys they see, in the module's memory, plus
   * their row stats. Returns the float offset of the block (row stride `stride`), the number of
   * columns computed (`nc`, a multiple of 8) and the stats' float offset ([max, Σe, Σe·x, Σe·dist] per row).
   */
  block(x: HeadInputs, r0: number, r1: number): { at: number; stride: number; nc: number; stats: number } {
    this.keys(x);
    const { d, Nq, Nk, causal } = x;
    const rows = r1 - r0;
    const stride = up(Nk, 8);
    const kEnd = visibleKeys(r1 - 1, Nq, Nk, causal);
    const nc = Math.max(8, up(kEnd, 8));
    const qAt = this.kPtr + this.kBytes;
    const qBytes = this.packQueries(x.q, d, r0, r1, qAt);
    const sAt = qAt + qBytes;
    const sBytes = up(rows, 4) * stride * 4;
    const stAt = sAt + sBytes;
    this.ensure(stAt + rows * 16);
    this.x.scores(qAt, this.kPtr, sAt, up(rows, 4), nc, d, stride, x.scale);
    // Unclamped: the kernel adds one key per row and masks lengths ≤ 0 (rows before any key).
    const len0 = causal ? r0 + (Nk - Nq) + 1 : Nk;
    const { lo0, sinkn } = lowerBound(x, r0);
    this.x.softmax(sAt, rows, nc, stride, len0, causal ? 1 : 0, Nk, lo0, sinkn, r0 + (Nk - Nq), stAt);
    return { at: sAt >> 2, stride, nc, stats: stAt >> 2 };
  }

  /** The module's memory as floats (valid until the next call that may grow it). */
  get heap(): Float32Array {
    return this.f32;
  }

  /**
   * Max-pooled weights of one head: cell (R, C) is the largest weight of rows `[R·f, R·f + f)`
   * and columns `[C·f, C·f + f)`; −1 where every cell is masked. Computes the query rows of
   * pooled rows `rows` (all by default), writes them into `out [⌈Nq/f⌉, ⌈Nk/f⌉]` and their row
   * stats into `stats`. `onRow` is called after each pooled row (progress). `slot(R)` puts
   * pooled row R at row `slot(R)` of `out` instead (a worker's compact share).
   */
  pooled(x: HeadInputs, f: number, out: Float32Array, stats: RowStats, rows?: Iterable<number>, onRow?: (R: number) => void, slot?: (R: number) => number): void {
    const { Nq, Nk } = x;
    const P = Math.ceil(Nq / f);
    const Pc = Math.ceil(Nk / f);
    // Blocks of whole pooled rows, about 32 query rows each (fewer per call costs call overhead).
    const g = Math.max(1, Math.floor(32 / f));
    const which = rows ? [...rows] : Array.from({ length: P }, (_, R) => R);
    let w = 0;
    while (w < which.length) {
      // A run of consecutive pooled rows, at most g long.
      let take = 1;
      while (take < g && w + take < which.length && which[w + take] === which[w] + take) take++;
      const R0 = which[w];
      w += take;
      const r0 = R0 * f;
      const r1 = Math.min(Nq, (R0 + take) * f);
      const b = this.block(x, r0, r1);
      const cmAt = (b.stats << 2) + (r1 - r0) * 16;
      const hpAt = cmAt + b.nc * 4;
      if (f > 1) this.ensure(hpAt + (Math.ceil(b.nc / f) + 4) * 4);
      const heap = this.heap;
      for (let r = r0; r < r1; r++) {
        const so = b.stats + (r - r0) * 4;
        const l = heap[so + 1];
        stats.max[r] = heap[so];
        stats.sum[r] = l;
        stats.entropy[r] = l > 0 ? Math.log(l) - heap[so + 2] / l : 0;
        stats.distance[r] = l > 0 ? heap[so + 3] / l : 0;
        stats.sink[r] = l > 0 ? Math.max(0, heap[b.at + (r - r0) * b.stride]) : 0;
      }
      const live = Math.min(b.nc, Nk);
      for (let gi = 0; gi < take; gi++) {
        const R = R0 + gi;
        const a = R * f;
        const z = Math.min(Nq, a + f);
        const o = (slot ? slot(R) : R) * Pc;
        if (f === 1) {
          const src = b.at + (a - r0) * b.stride;
          out.set(heap.subarray(src, src + live), o);
          out.fill(-1, o + live, o + Pc);
        } else {
          this.x.colmax((b.at + (a - r0) * b.stride) << 2, z - a, b.nc, b.stride, cmAt);
          this.x.hpool(cmAt, live, f, hpAt);
          const n = Math.ceil(live / f);
          out.set(heap.subarray(hpAt >> 2, (hpAt >> 2) + n), o);
          out.fill(-1, o + n, o + Pc);
        }
        onRow?.(R);
      }
    }
  }

  /**
   * Exact weights of the window rows `[r0, r1)` × columns `[c0, c1)` from the row stats
   * (`max`, `sum`): row-major `[r1 − r0, c1 − c0]`, −1 where masked.
   */
  window(x: HeadInputs, stats: Pick<RowStats, 'max' | 'sum'>, r0: number, r1: number, c0: number, c1: number): Float32Array {
    const { d, Nq, Nk, causal } = x;
    const rows = r1 - r0;
    const cols = c1 - c0;
    const out = new Float32Array(rows * cols);
    if (rows <= 0 || cols <= 0) return out;
    this.packed = null; // the window's key panel overwrites the packed head
    const kBytes = this.packKeys(x.k, d, c0, c1, 0);
    const qAt = kBytes;
    const qBytes = this.packQueries(x.q, d, r0, r1, qAt);
    const stride = up(cols, 8);
    const sAt = qAt + qBytes;
    const stAt = sAt + up(rows, 4) * stride * 4;
    this.ensure(stAt + rows * 8);
    this.x.scores(qAt, 0, sAt, up(rows, 4), stride, d, stride, x.scale);
    const f = this.f32;
    for (let r = 0; r < rows; r++) {
      const l = stats.sum[r0 + r];
      f[(stAt >> 2) + 2 * r] = stats.max[r0 + r];
      f[(stAt >> 2) + 2 * r + 1] = l > 0 ? 1 / l : 0;
    }
    const { lo0, sinkn } = lowerBound(x, r0);
    this.x.normalize(sAt, rows, stride, stride, causal ? r0 + (Nk - Nq) + 1 : Nk, causal ? 1 : 0, Nk, lo0, sinkn, c0, stAt);
    const h = this.f32;
    for (let r = 0; r < rows; r++) out.set(h.subarray((sAt >> 2) + r * stride, (sAt >> 2) + r * stride + cols), r * cols);
    return out;
  }
}

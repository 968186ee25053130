import * as tf from '@tensorflow/tfjs-core';
import { attentionDims, type QKV } from '../core/tensor';
import { headMapping } from '../core/headMap';
import type { AttentionOptions } from '../core/referenceAttention';

/** Which results to read back from the backend (reading back `[H, N, N]` is not free). */
export interface Want {
  scores?: boolean;
  weights?: boolean;
  output?: boolean;
  /** Per-head entropy, mean attention distance and sink mass, computed on the backend. */
  stats?: boolean;
}

export const WANT_ALL: Required<Want> = { scores: true, weights: true, output: true, stats: true };

export interface DenseResult {
  scores?: Float32Array;
  weights?: Float32Array;
  output?: Float32Array;
  stats?: { entropy: Float32Array; distance: Float32Array; sinkMass: Float32Array };
}

/**
 * Rows per query block: a quarter of the rows, between 128 and 256. Measured on WASM here
 * (npm run bench harness, H = 12, d = 64): smaller blocks save flops under the causal mask but
 * pay per-op overhead; 128 rows beat 64 and 256 at N = 256 and 512, and 256 was fastest at 1024.
 */
export function queryBlockRows(Nq: number): number {
  return Math.max(128, Math.min(256, Math.ceil(Nq / 4)));
}

/**
 * How the matrix products are issued.
 * - `batched`: one batched matMul over all heads per query block (one dispatch).
 * - `perHead`: one 2-D matMul per head and block, against Kᵀ transposed once per call.
 * Neither wins everywhere: in `npm run bench` here (H = 12, d = 64) batched was faster on WASM
 * at N = 256 and 1024, per-head faster on SwiftShader WebGL at N = 1024 but slower at 256.
 * (A micro-benchmark that reused one K tensor across calls showed per-head 2-D products on WASM
 * 3–9× faster; a real request, which never reuses K, did not — most likely XNNPACK's cache of
 * packed weights, not verified.)
 * So the backend probe measures both and each backend uses its faster one.
 */
export type KernelVariant = 'batched' | 'perHead';

/** The variant used when none is given and no probe has measured one. */
export const DEFAULT_VARIANT: Record<string, KernelVariant> = { wasm: 'batched', webgl: 'batched', cpu: 'batched', webgpu: 'batched' };

export interface KernelOptions {
  /** Query rows per block; default {@link queryBlockRows}. */
  blockRows?: number;
  /** Default: {@link DEFAULT_VARIANT} for the active backend. */
  variant?: KernelVariant;
  /** Read back block by block above this many result bytes; default {@link STREAM_BYTES}. */
  streamBytes?: number;
}

/** Results larger than this are read back block by block instead of joined in the backend. */
export const STREAM_BYTES = 256 * 2 ** 20;

interface Block {
  i0: number;
  rows: number;
  /** Keys visible to the block's last row: the block reads keys [0, kEnd). */
  kEnd: number;
}

type Pieces = Record<'scores' | 'weights' | 'output' | 'mass' | 'entropy' | 'distance' | 'sink', tf.Tensor[]>;

interface Ctx {
  Nk: number;
  dv: number;
  off: number;
  causal: boolean;
  want: Want;
}

/**
 * Masks, normalises and summarises one block's logits `[…, rows, kEnd]` (any leading axes),
 * and pushes what `want` asks for onto `out`, padded back to Nk keys (keys past kEnd are masked
 * for every row of the block; padding in the backend's memory is cheaper than assembling the
 * full matrix in JavaScript).
 */
function finishBlock(logits: tf.Tensor, outputOf: (w: tf.Tensor) => tf.Tensor, b: Block, c: Ctx, out: Pieces): void {
  const { i0, rows, kEnd } = b;
  const rank = logits.rank;
  // Only blocks whose first row cannot see every key up to kEnd need the mask.
  let allowed: tf.Tensor2D | null = null;
  if (c.causal && i0 + c.off < kEnd - 1) {
    const r = tf.reshape(tf.range(i0 + c.off, i0 + rows + c.off, 1, 'int32'), [rows, 1]);
    const col = tf.reshape(tf.range(0, kEnd, 1, 'int32'), [1, kEnd]);
    allowed = tf.cast(tf.lessEqual(col, r), 'float32') as tf.Tensor2D;
    logits = tf.add(logits, tf.mul(tf.sub(1, allowed), -1e9));
  }
  let weights = tf.softmax(logits);
  // Rows with no visible key (only when Nq > Nk) would be uniform: zero them (ALGORITHMS.md §0.3).
  if (allowed && i0 + c.off < 0) weights = tf.mul(weights, allowed);
  const padK = (x: tf.Tensor, value: number) => {
    if (kEnd === c.Nk) return x;
    const pads = Array.from({ length: rank }, (_, i) => (i === rank - 1 ? [0, c.Nk - kEnd] : [0, 0])) as [number, number][];
    return tf.pad(x, pads, value);
  };
  if (c.want.scores) out.scores.push(padK(logits, -Infinity));
  if (c.want.weights) out.weights.push(padK(weights, 0));
  if (c.want.output) out.output.push(outputOf(weights));
  if (c.want.stats) {
    // Per row: mass, entropy −Σ w ln w, distance Σ w·|i' − j|, sink mass w[…, 0].
    out.mass.push(tf.sum(weights, -1));
    out.entropy.push(tf.neg(tf.sum(tf.mul(weights, tf.log(tf.maximum(weights, 1e-30))), -1)));
    const r = tf.reshape(tf.range(i0 + c.off, i0 + rows + c.off, 1, 'float32'), [rows, 1]);
    const col = tf.reshape(tf.range(0, kEnd, 1, 'float32'), [1, kEnd]);
    out.distance.push(tf.sum(tf.mul(weights, tf.abs(tf.sub(r, col))), -1));
    const begin = Array(rank).fill(0);
    const size = [...weights.shape.slice(0, rank - 1), 1];
    out.sink.push(tf.reshape(tf.slice(weights, begin, size), weights.shape.slice(0, rank - 1)));
  }
}

/** Pieces of a block where no row sees any key: −∞ scores, zero weights, output and stats. */
function emptyBlock(lead: number[], rows: number, c: Ctx, out: Pieces): void {
  if (c.want.scores) out.scores.push(tf.fill([...lead, rows, c.Nk], -Infinity));
  if (c.want.weights) out.weights.push(tf.zeros([...lead, rows, c.Nk]));
  if (c.want.output) out.output.push(tf.zeros([...lead, rows, c.dv]));
  if (c.want.stats) for (const n of ['mass', 'entropy', 'distance', 'sink'] as const) out[n].push(tf.zeros([...lead, rows]));
}

/**
 * Dense multi-head attention on the active tfjs backend, computed in blocks of query rows.
 *
 * Query head h reads KV head κ(h) (ALGORITHMS.md §0.2). Under the causal mask a block of rows
 * `[i0, i0 + rows)` can only see keys `[0, i0 + rows + Nk − Nq)`, so it multiplies only those:
 * QKᵀ, the softmax and the product with V cost about half of the unmasked computation, and no
 * single tensor is larger than `H × rows × Nk` (which keeps WebGL under its texture limit).
 * The result is exactly the dense softmax over each row (masked keys have zero weight).
 * With the batched variant and the contiguous layout, grouped heads are computed without
 * copying K and V: a block of Q is viewed as `[Hkv, g·rows, d]`.
 *
 * Returns only what `want` asks for, as typed arrays; masked scores are `-Infinity`, and a fully
 * masked row has zero weights and a zero output. Every intermediate tensor is disposed.
 */
export async function denseAttention(inputs: QKV, opts: AttentionOptions = {}, want: Want = WANT_ALL, kernel: KernelOptions = {}): Promise<DenseResult> {
  const { H, Hkv, Nq, Nk, d, dv, g } = attentionDims(inputs);
  const causal = opts.causal ?? true;
  const scale = opts.scale ?? 1 / Math.sqrt(d);
  const layout = opts.layout ?? 'contiguous';
  const off = Nk - Nq;
  const bq = Math.max(1, Math.floor(kernel.blockRows ?? queryBlockRows(Nq)));
  const variant = kernel.variant ?? DEFAULT_VARIANT[tf.getBackend()] ?? 'batched';
  const map = headMapping(H, Hkv, layout);
  const ctx: Ctx = { Nk, dv, off, causal, want };

  const blocks: Block[] = [];
  for (let i0 = 0; i0 < Nq; i0 += bq) {
    const rows = Math.min(bq, Nq - i0);
    const kEnd = causal ? Math.max(0, Math.min(Nk, i0 + rows + off)) : Nk;
    blocks.push({ i0, rows, kEnd });
  }

  const grouped = variant === 'batched' && g > 1 && layout === 'contiguous';
  // Inputs, prepared once for every block.
  const base = tf.tidy(() => {
    const q = tf.mul(tf.tensor3d(inputs.q.data, [H, Nq, d]), scale) as tf.Tensor3D;
    let k: tf.Tensor3D = tf.tensor3d(inputs.k.data, [Hkv, Nk, d]);
    let v: tf.Tensor3D = tf.tensor3d(inputs.v.data, [Hkv, Nk, dv]);
    if (variant === 'perHead') {
      // Kᵀ per KV head, transposed once per call rather than once per product.
      return { qs: tf.unstack(q), kT: tf.unstack(k).map((x) => tf.transpose(x)), vs: tf.unstack(v) };
    }
    if (g > 1 && !grouped) {
      const idx = tf.tensor1d(map, 'int32');
      k = tf.gather(k, idx);
      v = tf.gather(v, idx);
    }
    return { q, k, v };
  });

  /** One block's results, each `[H, rows, …]`. Call inside tf.tidy. */
  const blockPieces = (b: Block): Pieces => {
    const out: Pieces = { scores: [], weights: [], output: [], mass: [], entropy: [], distance: [], sink: [] };
    const { rows, kEnd, i0 } = b;
    if (kEnd === 0) {
      emptyBlock([H], rows, ctx, out);
      return out;
    }
    if (variant === 'perHead') {
      const { qs, kT, vs } = base as { qs: tf.Tensor2D[]; kT: tf.Tensor2D[]; vs: tf.Tensor2D[] };
      const kTb = kT.map((x) => (kEnd === Nk ? x : tf.slice(x, [0, 0], [d, kEnd])));
      const vb = vs.map((x) => (kEnd === Nk ? x : tf.slice(x, [0, 0], [kEnd, dv])));
      const heads: Pieces = { scores: [], weights: [], output: [], mass: [], entropy: [], distance: [], sink: [] };
      for (let h = 0; h < H; h++) {
        const qb = rows === Nq ? qs[h] : tf.slice(qs[h], [i0, 0], [rows, d]);
        finishBlock(tf.matMul(qb, kTb[map[h]]), (w) => tf.matMul(w as tf.Tensor2D, vb[map[h]]), b, ctx, heads);
      }
      for (const [n, xs] of Object.entries(heads) as [keyof Pieces, tf.Tensor[]][]) if (xs.length) out[n].push(tf.stack(xs));
      return out;
    }
    const { q, k, v } = base as { q: tf.Tensor3D; k: tf.Tensor3D; v: tf.Tensor3D };
    const Hk = grouped ? Hkv : H;
    const qb = tf.slice(q, [0, i0, 0], [H, rows, d]);
    const kb = kEnd === Nk ? k : tf.slice(k, [0, 0, 0], [Hk, kEnd, d]);
    const vb = kEnd === Nk ? v : tf.slice(v, [0, 0, 0], [Hk, kEnd, dv]);
    const logits = grouped ? tf.reshape(tf.matMul(tf.reshape(qb, [Hkv, g * rows, d]), kb, false, true), [H, rows, kEnd]) : tf.matMul(qb, kb, false, true);
    const outputOf = (w: tf.Tensor) => (grouped ? tf.reshape(tf.matMul(tf.reshape(w, [Hkv, g * rows, kEnd]), vb), [H, rows, dv]) : tf.matMul(w as tf.Tensor3D, vb));
    finishBlock(logits, outputOf, b, ctx, out);
    return out;
  };

  const tailOf = (n: string) => (n === 'scores' || n === 'weights' ? Nk : n === 'output' ? dv : 1);
  const wantedBytes = 4 * H * Nq * ((want.scores ? Nk : 0) + (want.weights ? Nk : 0) + (want.output ? dv : 0));
  let got: Record<string, Float32Array> = {};
  const live: tf.Tensor[] = [];
  try {
    if (wantedBytes <= (kernel.streamBytes ?? STREAM_BYTES)) {
      // Small results: join the blocks in the backend and read each result back once.
      const joined = tf.tidy(() => {
        const all: Record<string, tf.Tensor[]> = {};
        for (const b of blocks) for (const [n, xs] of Object.entries(blockPieces(b))) if (xs.length) (all[n] ??= []).push(xs[0]);
        return Object.fromEntries(Object.entries(all).map(([n, xs]) => [n, xs.length === 1 ? xs[0] : tf.concat(xs, 1)]));
      });
      live.push(...Object.values(joined));
      const names = Object.keys(joined);
      const arrays = await Promise.all(names.map((n) => joined[n].data() as Promise<Float32Array>));
      got = Object.fromEntries(names.map((n, i) => [n, arrays[i]]));
    } else {
      // Large results: read each block back and free it before the next, so the backend never
      // holds more than one block of results (the WASM heap cannot hold two copies at N = 4096).
      for (const b of blocks) {
        const pieces = tf.tidy(() => Object.fromEntries(Object.entries(blockPieces(b)).filter(([, xs]) => xs.length).map(([n, xs]) => [n, xs[0]])));
        const names = Object.keys(pieces);
        live.push(...Object.values(pieces));
        const arrays = await Promise.all(names.map((n) => pieces[n].data() as Promise<Float32Array>));
        names.forEach((n, i) => {
          const X = tailOf(n);
          const dst = (got[n] ??= new Float32Array(H * Nq * X));
          const src = arrays[i];
          // A head's rows of this block are contiguous in the result.
          for (let h = 0; h < H; h++) dst.set(src.subarray(h * b.rows * X, (h + 1) * b.rows * X), (h * Nq + b.i0) * X);
        });
        for (const t of Object.values(pieces)) t.dispose();
        live.length = 0;
      }
    }
    const res: DenseResult = { scores: got.scores, weights: got.weights, output: got.output };
    if (got.scores && causal) {
      // The diagonal blocks hold masked logits shifted by −1e9: report them as −∞.
      for (let h = 0; h < H; h++)
        for (let i = 0; i < Nq; i++) {
          const row = (h * Nq + i) * Nk;
          const end = Math.min(Nk, i + off + 1 + bq);
          for (let j = Math.max(0, i + off + 1); j < end; j++) got.scores[row + j] = -Infinity;
        }
    }
    if (want.stats) res.stats = rowMeans(got, H, Nq);
    return res;
  } finally {
    for (const t of live) t.dispose();
    tf.dispose(base as unknown as tf.TensorContainer);
  }
}

/** Averages per-row statistics `[H, Nq]` over the rows that attend to at least one key. */
function rowMeans(got: Record<string, Float32Array>, H: number, Nq: number): NonNullable<DenseResult['stats']> {
  const entropy = new Float32Array(H);
  const distance = new Float32Array(H);
  const sinkMass = new Float32Array(H);
  for (let h = 0; h < H; h++) {
    let e = 0;
    let dsum = 0;
    let s = 0;
    let n = 0;
    for (let i = 0; i < Nq; i++) {
      const at = h * Nq + i;
      if (!(got.mass[at] > 0)) continue;
      e += got.entropy[at];
      dsum += got.distance[at];
      s += got.sink[at];
      n++;
    }
    entropy[h] = n ? e / n : 0;
    distance[h] = n ? dsum / n : 0;
    sinkMass[h] = n ? s / n : 0;
  }
  return { entropy, distance, sinkMass };
}

/**
 * The bare floor the benchmark compares against: the batched `QKᵀ` matmul and softmax alone
 * (MHA shapes, no mask, no output), read back. Dense attention cannot be cheaper than this.
 */
export async function bareFloor(inputs: QKV): Promise<Float32Array> {
  const { H, Nq, Nk, d, Hkv } = attentionDims(inputs);
  if (Hkv !== H) throw new Error('the bare floor is measured on MHA shapes (Hkv = H)');
  const w = tf.tidy(() => tf.softmax(tf.matMul(tf.tensor3d(inputs.q.data, [H, Nq, d]), tf.tensor3d(inputs.k.data, [H, Nk, d]), false, true)));
  try {
    return (await w.data()) as Float32Array;
  } finally {
    w.dispose();
  }
}

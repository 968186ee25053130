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
 * Rows per query block: a quarter of the rows, between 64 and 256. Measured on WASM and WebGL
 * here (npm run bench): smaller blocks save flops under the causal mask but pay per-op overhead;
 * 256 rows was fastest at N = 1024.
 */
export function queryBlockRows(Nq: number): number {
  return Math.max(64, Math.min(256, Math.ceil(Nq / 4)));
}

interface Block {
  i0: number;
  rows: number;
  /** Keys visible to the block's last row: the block reads keys [0, kEnd). */
  kEnd: number;
}

/**
 * Dense multi-head attention on the active tfjs backend, computed in blocks of query rows.
 *
 * Query head h reads KV head κ(h) (ALGORITHMS.md §0.2). With the contiguous layout, grouped
 * heads are computed without copying K and V: a block of Q is viewed as `[Hkv, g·rows, d]` so
 * each KV head multiplies its whole group at once. Under the causal mask a block of rows
 * `[i0, i0 + rows)` can only see keys `[0, i0 + rows + Nk − Nq)`, so it multiplies only those:
 * QKᵀ, the softmax and the product with V cost about half of the unmasked computation, and no
 * single tensor is larger than `H × rows × Nk` (which keeps WebGL under its texture limit).
 * The result is exactly the dense softmax over each row (masked keys have zero weight).
 *
 * Returns only what `want` asks for, as typed arrays; masked scores are `-Infinity`, and a fully
 * masked row has zero weights and a zero output. Every intermediate tensor is disposed.
 */
export async function denseAttention(inputs: QKV, opts: AttentionOptions = {}, want: Want = WANT_ALL, blockRows?: number): Promise<DenseResult> {
  const { H, Hkv, Nq, Nk, d, dv, g } = attentionDims(inputs);
  const causal = opts.causal ?? true;
  const scale = opts.scale ?? 1 / Math.sqrt(d);
  const layout = opts.layout ?? 'contiguous';
  const off = Nk - Nq;
  const grouped = g > 1 && layout === 'contiguous';
  const bq = Math.max(1, Math.floor(blockRows ?? queryBlockRows(Nq)));

  const blocks: Block[] = [];
  for (let i0 = 0; i0 < Nq; i0 += bq) {
    const rows = Math.min(bq, Nq - i0);
    const kEnd = causal ? Math.max(0, Math.min(Nk, i0 + rows + off)) : Nk;
    blocks.push({ i0, rows, kEnd });
  }

  // Inputs live for the whole call; each block's results are kept until read back.
  const base = tf.tidy(() => {
    const q = tf.mul(tf.tensor3d(inputs.q.data, [H, Nq, d]), scale) as tf.Tensor3D;
    let k: tf.Tensor3D = tf.tensor3d(inputs.k.data, [Hkv, Nk, d]);
    let v: tf.Tensor3D = tf.tensor3d(inputs.v.data, [Hkv, Nk, dv]);
    if (g > 1 && !grouped) {
      const idx = tf.tensor1d(headMapping(H, Hkv, layout), 'int32');
      k = tf.gather(k, idx);
      v = tf.gather(v, idx);
    }
    return { q, k, v };
  });
  let kept: Record<string, tf.Tensor> = {};
  try {
    kept = tf.tidy(() => {
      const parts: Record<string, tf.Tensor[]> = { scores: [], weights: [], output: [], mass: [], entropy: [], distance: [], sink: [] };
      for (const b of blocks) {
        const { rows, kEnd, i0 } = b;
        const Hk = grouped ? Hkv : H;
        if (kEnd === 0) {
          // No visible key for any row of this block: zero weights and output, no stats.
          if (want.scores) parts.scores.push(tf.fill([H, rows, Nk], -Infinity));
          if (want.weights) parts.weights.push(tf.zeros([H, rows, Nk]));
          if (want.output) parts.output.push(tf.zeros([H, rows, dv]));
          if (want.stats) for (const n of ['mass', 'entropy', 'distance', 'sink']) parts[n].push(tf.zeros([H, rows]));
          continue;
        }
        const qb = tf.slice(base.q, [0, i0, 0], [H, rows, d]);
        const kb = kEnd === Nk ? base.k : tf.slice(base.k, [0, 0, 0], [Hk, kEnd, d]);
        const vb = kEnd === Nk ? base.v : tf.slice(base.v, [0, 0, 0], [Hk, kEnd, dv]);
        let logits: tf.Tensor3D = grouped
          ? tf.reshape<tf.Rank.R3>(tf.matMul(tf.reshape(qb, [Hkv, g * rows, d]), kb, false, true), [H, rows, kEnd])
          : tf.matMul(qb, kb, false, true);
        // Only keys past the block's first row can be masked.
        let allowed: tf.Tensor2D | null = null;
        if (causal && i0 + off < kEnd - 1) {
          const r = tf.reshape(tf.range(i0 + off, i0 + rows + off, 1, 'int32'), [rows, 1]);
          const c = tf.reshape(tf.range(0, kEnd, 1, 'int32'), [1, kEnd]);
          allowed = tf.cast(tf.lessEqual(c, r), 'float32') as tf.Tensor2D;
          logits = tf.add(logits, tf.mul(tf.sub(1, allowed), -1e9));
        }
        let weights: tf.Tensor3D = tf.softmax(logits);
        // Rows with no visible key (only when Nq > Nk) would be uniform: zero them (ALGORITHMS.md §0.3).
        if (allowed && i0 + off < 0) weights = tf.mul(weights, allowed);
        // Keys past kEnd are masked for every row of the block: pad them back (in the backend's
        // own memory, which is cheaper than assembling the full matrix in JavaScript).
        const padK = <T extends tf.Tensor>(x: T, value: number) => (kEnd === Nk ? x : tf.pad(x, [[0, 0], [0, 0], [0, Nk - kEnd]], value));
        if (want.scores) parts.scores.push(padK(logits, -Infinity));
        if (want.weights) parts.weights.push(padK(weights, 0));
        if (want.output) {
          parts.output.push(grouped ? tf.reshape(tf.matMul(tf.reshape(weights, [Hkv, g * rows, kEnd]), vb), [H, rows, dv]) : tf.matMul(weights, vb));
        }
        if (want.stats) {
          // Per row: mass, entropy −Σ w ln w, distance Σ w·|i' − j|, sink mass w[·,·,0].
          parts.mass.push(tf.sum(weights, -1));
          parts.entropy.push(tf.neg(tf.sum(tf.mul(weights, tf.log(tf.maximum(weights, 1e-30))), -1)));
          const r = tf.reshape(tf.range(i0 + off, i0 + rows + off, 1, 'float32'), [rows, 1]);
          const c = tf.reshape(tf.range(0, kEnd, 1, 'float32'), [1, kEnd]);
          parts.distance.push(tf.sum(tf.mul(weights, tf.abs(tf.sub(r, c))), -1));
          parts.sink.push(tf.reshape(tf.slice(weights, [0, 0, 0], [H, rows, 1]), [H, rows]));
        }
      }
      const out: Record<string, tf.Tensor> = {};
      for (const [n, xs] of Object.entries(parts)) if (xs.length) out[n] = xs.length === 1 ? xs[0] : tf.concat(xs, 1);
      return out;
    });
    const names = Object.keys(kept);
    const arrays = await Promise.all(names.map((n) => kept[n].data() as Promise<Float32Array>));
    const got: Record<string, Float32Array> = Object.fromEntries(names.map((n, i) => [n, arrays[i]]));
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
    for (const t of Object.values(kept)) t.dispose();
    base.q.dispose();
    base.k.dispose();
    base.v.dispose();
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

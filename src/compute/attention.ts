import * as tf from '@tensorflow/tfjs';
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

/** Additive causal bias `[Nq, Nk]`: 0 where `j ≤ i + (Nk − Nq)`, −1e9 elsewhere (ALGORITHMS.md App. C). */
function causalParts(Nq: number, Nk: number): { allowed: tf.Tensor2D; bias: tf.Tensor2D } {
  const off = Nk - Nq;
  const rows = tf.range(off, Nq + off, 1, 'int32').reshape([Nq, 1]);
  const cols = tf.range(0, Nk, 1, 'int32').reshape([1, Nk]);
  const allowed = tf.cast(tf.lessEqual(cols, rows), 'float32') as tf.Tensor2D;
  const bias = tf.mul(tf.sub(1, allowed), -1e9) as tf.Tensor2D;
  return { allowed, bias };
}

/**
 * Dense multi-head attention on the active tfjs backend. Query head h reads KV head κ(h)
 * (ALGORITHMS.md §0.2). With the contiguous layout, grouped heads are computed without copying
 * K and V: Q is viewed as `[Hkv, g·Nq, d]` so each KV head multiplies its whole group at once.
 *
 * Returns only what `want` asks for, as typed arrays; masked scores are `-Infinity`, and a fully
 * masked row has zero weights and a zero output. Every intermediate tensor is disposed.
 */
export async function denseAttention(inputs: QKV, opts: AttentionOptions = {}, want: Want = WANT_ALL): Promise<DenseResult> {
  const { H, Hkv, Nq, Nk, d, dv, g } = attentionDims(inputs);
  const causal = opts.causal ?? true;
  const scale = opts.scale ?? 1 / Math.sqrt(d);
  const layout = opts.layout ?? 'contiguous';
  const off = Nk - Nq;
  const grouped = g > 1 && layout === 'contiguous';

  const keep = tf.tidy(() => {
    const q = tf.tensor3d(inputs.q.data, [H, Nq, d]);
    let k: tf.Tensor3D = tf.tensor3d(inputs.k.data, [Hkv, Nk, d]);
    let v: tf.Tensor3D = tf.tensor3d(inputs.v.data, [Hkv, Nk, dv]);
    if (g > 1 && !grouped) {
      const idx = tf.tensor1d(headMapping(H, Hkv, layout), 'int32');
      k = tf.gather(k, idx);
      v = tf.gather(v, idx);
    }
    const qs = tf.mul(q, scale);
    let logits: tf.Tensor3D = grouped
      ? (tf.matMul(qs.reshape([Hkv, g * Nq, d]), k, false, true).reshape([H, Nq, Nk]) as tf.Tensor3D)
      : tf.matMul(qs, k, false, true);
    let allowed: tf.Tensor2D | null = null;
    if (causal && off < Nk - 1) {
      const parts = causalParts(Nq, Nk);
      allowed = parts.allowed;
      logits = tf.add(logits, parts.bias);
    }
    let weights: tf.Tensor3D = tf.softmax(logits);
    // Rows with no visible key (only when Nq > Nk) would be uniform: zero them (ALGORITHMS.md §0.3).
    if (allowed && off < 0) weights = tf.mul(weights, allowed);
    const out: Record<string, tf.Tensor> = {};
    if (want.scores) out.scores = logits;
    if (want.weights) out.weights = weights;
    if (want.output) {
      out.output = grouped
        ? tf.matMul(weights.reshape([Hkv, g * Nq, Nk]), v).reshape([H, Nq, dv])
        : tf.matMul(weights, v);
    }
    if (want.stats) {
      // Entropy −Σ w ln w, distance Σ w·|i' − j|, sink mass w[·,·,0], each averaged over rows with mass.
      const rowMass = tf.sum(weights, -1);
      const valid = tf.cast(tf.greater(rowMass, 0), 'float32');
      const nValid = tf.maximum(tf.sum(valid, -1), 1);
      const mean = (perRow: tf.Tensor) => tf.div(tf.sum(tf.mul(perRow, valid), -1), nValid);
      const ent = tf.neg(tf.sum(tf.mul(weights, tf.log(tf.maximum(weights, 1e-30))), -1));
      const rows = tf.range(off, Nq + off, 1, 'float32').reshape([Nq, 1]);
      const cols = tf.range(0, Nk, 1, 'float32').reshape([1, Nk]);
      const dist = tf.sum(tf.mul(weights, tf.abs(tf.sub(rows, cols))), -1);
      const sink = tf.sum(tf.slice(weights, [0, 0, 0], [H, Nq, 1]), -1);
      out.entropy = mean(ent);
      out.distance = mean(dist);
      out.sinkMass = mean(sink);
    }
    return out;
  });

  try {
    const names = Object.keys(keep);
    const arrays = await Promise.all(names.map((n) => keep[n].data() as Promise<Float32Array>));
    const got: Record<string, Float32Array> = {};
    names.forEach((n, i) => (got[n] = arrays[i]));
    if (got.scores && causal) {
      for (let h = 0; h < H; h++)
        for (let i = 0; i < Nq; i++) {
          const base = (h * Nq + i) * Nk;
          for (let j = Math.max(0, i + off + 1); j < Nk; j++) got.scores[base + j] = -Infinity;
        }
    }
    const res: DenseResult = { scores: got.scores, weights: got.weights, output: got.output };
    if (got.entropy) res.stats = { entropy: got.entropy, distance: got.distance, sinkMass: got.sinkMass };
    return res;
  } finally {
    for (const t of Object.values(keep)) t.dispose();
  }
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

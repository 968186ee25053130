import { kvHeadOf, type HeadLayout } from '../../core/headMap';
import { ropeInvFreq, ropeRotate } from '../../core/rope';
import { emptySelection, reasonCode, topkStable, type BlockSelection } from './selection';
import type { QKV } from '../../core/tensor';

export interface TokenSelectParams {
  /** Attention-sink tokens always kept (`n_init`). */
  nInit: number;
  /** Most recent tokens always kept (`n_local`). */
  nLocal: number;
  /** Middle tokens selected per query chunk (`top_k`). */
  topk: number;
  /** Query chunk size in prefill (`PREFILL_CHUNK_SIZE`, 512 in the code). */
  chunk: number;
  /** `QUERY_ROTATE`: rotate the chunk's queries with RoPE at `n_local + r` before averaging. */
  rotate: boolean;
  base: number;
  /** `KERNEL_SIZE`: optional max-pool smoothing of the votes (0 = off; odd sizes keep the length). */
  kernel: number;
  /** Quirk T1: the kernel maps query head h to KV head h mod Hkv ('interleaved'); the intent is contiguous. */
  mapping: HeadLayout;
}

/** One query chunk's decision (§10 steps 1–7). */
export interface TokenSelectChunk {
  start: number;
  end: number;
  /** False when n_init + k + n_local ≥ end: the chunk attends to every earlier token. */
  selecting: boolean;
  /** Candidates [n_init, end − n_local) and their summed per-head softmax votes. */
  candidates: [number, number];
  votes: Float32Array | null;
  /** Per-head softmax criticality `[H, candidates]` (the heat strips). */
  criticality: Float32Array | null;
  selected: number[];
  overhead: number;
}

/** Soft voting (§10 step 5): `S[j] = Σ_h softmax_j(z[h, :])`, float32. */
export function softVote(z: Float32Array, H: number, n: number): { votes: Float32Array; soft: Float32Array } {
  const soft = new Float32Array(H * n);
  const votes = new Float32Array(n);
  for (let h = 0; h < H; h++) {
    let m = -Infinity;
    for (let j = 0; j < n; j++) m = Math.max(m, z[h * n + j]);
    let s = 0;
    for (let j = 0; j < n; j++) s += Math.exp(z[h * n + j] - m);
    for (let j = 0; j < n; j++) soft[h * n + j] = Math.exp(z[h * n + j] - m) / s;
  }
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let h = 0; h < H; h++) s += soft[h * n + j];
    votes[j] = s;
  }
  return { votes, soft };
}

/** `max_pool1d(x, K, stride 1, padding (K − 1) / 2)`: the same length for odd K. */
export function maxPoolSame(x: Float32Array, K: number): Float32Array {
  if (K <= 1) return x;
  const pad = Math.floor((K - 1) / 2);
  const n = x.length + 2 * pad - K + 1;
  const out = new Float32Array(n);
  for (let o = 0; o < n; o++) {
    let m = -Infinity;
    for (let t = o - pad; t < o - pad + K; t++) if (t >= 0 && t < x.length) m = Math.max(m, x[t]);
    out[o] = m;
  }
  return out;
}

/**
 * TokenSelect (§10) in prefill: queries in chunks; for each chunk a fingerprint query (the mean
 * of its queries, each rotated to `n_local + r` when `rotate`) scores every middle key with a raw
 * dot product against un-rotated keys; per-head softmaxes vote, and the top-k tokens by vote join
 * the sinks and the local window, shared by every head. The selection is token-level (block 1)
 * with one row per query chunk; causal.
 */
export function tokenSelect({ q, k }: Pick<QKV, 'q' | 'k'>, p: TokenSelectParams): { selection: BlockSelection; chunks: TokenSelectChunk[]; overhead: number } {
  const [H, N, d] = q.shape;
  const Hkv = k.shape[0];
  if (p.rotate && d % 2 !== 0) throw new Error(`QUERY_ROTATE applies RoPE, which needs an even head dimension; this one is ${d}`);
  if (!(p.kernel === 0 || p.kernel % 2 === 1)) throw new Error(`the smoothing kernel must be 0 (off) or odd so the votes keep their length; ${p.kernel} is even`);
  const selection = emptySelection(H, N, N, p.chunk, 1);
  const { nRows, codes } = selection;
  const inv = p.rotate ? ropeInvFreq(d, p.base) : null;
  const rot = new Float32Array(d);
  const chunks: TokenSelectChunk[] = [];
  let overhead = 0;
  for (let c = 0; c < nRows; c++) {
    const s = c * p.chunk;
    const e = Math.min(N, s + p.chunk);
    const lo = p.nInit;
    const hi = e - p.nLocal;
    const rowOf = (h: number) => (h * nRows + c) * N;
    if (p.nInit + p.topk + p.nLocal >= e) {
      for (let h = 0; h < H; h++) codes.fill(reasonCode('forced'), rowOf(h), rowOf(h) + e);
      chunks.push({ start: s, end: e, selecting: false, candidates: [lo, Math.max(lo, hi)], votes: null, criticality: null, selected: [], overhead: 0 });
      continue;
    }
    // Fingerprint per head: the mean of the chunk's (rotated) queries, float32.
    const fp = new Float32Array(H * d);
    for (let h = 0; h < H; h++) {
      const acc = new Float64Array(d);
      for (let r = 0; r < e - s; r++) {
        const off = (h * N + s + r) * d;
        if (inv) {
          ropeRotate(q.data, off, d, p.nLocal + r, inv, rot);
          for (let x = 0; x < d; x++) acc[x] += rot[x];
        } else for (let x = 0; x < d; x++) acc[x] += q.data[off + x];
      }
      for (let x = 0; x < d; x++) fp[h * d + x] = acc[x] / (e - s);
    }
    const n = hi - lo;
    const z = new Float32Array(H * n);
    for (let h = 0; h < H; h++) {
      const kv = kvHeadOf(h, H, Hkv, p.mapping);
      for (let j = 0; j < n; j++) {
        let dot = 0;
        const ko = (kv * N + lo + j) * d;
        for (let x = 0; x < d; x++) dot += fp[h * d + x] * k.data[ko + x];
        z[h * n + j] = dot;
      }
    }
    const { votes: raw, soft } = softVote(z, H, n);
    const votes = maxPoolSame(raw, p.kernel);
    const selected = topkStable(votes, p.topk).map((j) => j + lo).sort((a, b) => a - b);
    const ov = 2 * d * H * (e - p.nInit - p.nLocal);
    overhead += ov;
    for (let h = 0; h < H; h++) {
      const row = rowOf(h);
      for (let j = 0; j < Math.min(p.nInit, e); j++) codes[row + j] = reasonCode('sink');
      for (const j of selected) codes[row + j] = reasonCode('topk');
      for (let j = Math.max(0, hi); j < e; j++) codes[row + j] = reasonCode('local');
    }
    chunks.push({ start: s, end: e, selecting: true, candidates: [lo, hi], votes, criticality: soft, selected, overhead: ov });
  }
  return { selection, chunks, overhead };
}

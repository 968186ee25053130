import { kvHeadOf } from '../../core/headMap';
import type { QKV, Tensor } from '../../core/tensor';

/** ThinK's parameters (ALGORITHMS.md §12.4). */
export interface ThinkParams {
  /** λ: the share of key channels pruned per head. */
  lambda: number;
  /** The most recent keys keep every channel. */
  recent: number;
  /** Queries of the observation window (the last ones). */
  obs: number;
}

export interface ThinkResult {
  /** Channel scores `[H, d]`: (Σ over the window of q²) · (Σ over keys of k²). */
  scores: Float32Array;
  /** Pruned channels per query head, ascending. */
  pruned: number[][];
  /** Keys per query head with the pruned channels zeroed outside the recent window `[H, N, d]`, and values expanded to H heads. */
  k: Tensor;
  v: Tensor;
  /** Share of the key cache saved: ⌊λd⌋/d of the keys outside the recent window. */
  cacheSaving: number;
  overhead: number;
}

/**
 * ThinK's query-driven key-channel pruning (§12.4), per query head (after repeat_kv): score each
 * channel by `‖Q_obs[:, c] · K[:, c]ᵀ‖²_F = (Σ q²)(Σ k²)`, prune the ⌊λ·d⌋ lowest (lower index
 * first on ties), and let keys outside the recent window use only the kept channels — with the
 * full-d scale 1/√d, as the code. The pruning is query-independent in prefill, so the attention
 * is dense attention on the returned keys (pruned channels zeroed), which the usual kernel computes.
 */
export function thinkPrune({ q, k, v }: QKV, p: ThinkParams): ThinkResult {
  const [H, N, d] = q.shape;
  const Hkv = k.shape[0];
  const dv = v.shape[2];
  const obs = Math.max(1, Math.min(N, p.obs));
  const cut = Math.floor(p.lambda * d);
  const scores = new Float32Array(H * d);
  const pruned: number[][] = [];
  const kOut = new Float32Array(H * N * d);
  const vOut = new Float32Array(H * N * dv);
  const firstRecent = Math.max(0, N - p.recent);
  for (let h = 0; h < H; h++) {
    const g = kvHeadOf(h, H, Hkv, 'contiguous');
    for (let c = 0; c < d; c++) {
      let sq = 0;
      for (let i = N - obs; i < N; i++) sq += q.data[(h * N + i) * d + c] ** 2;
      let sk = 0;
      for (let j = 0; j < N; j++) sk += k.data[(g * N + j) * d + c] ** 2;
      scores[h * d + c] = sq * sk;
    }
    const order = Array.from({ length: d }, (_, c) => c).sort((a, b) => scores[h * d + a] - scores[h * d + b] || a - b);
    const drop = order.slice(0, cut).sort((a, b) => a - b);
    pruned.push(drop);
    kOut.set(k.data.subarray(g * N * d, (g + 1) * N * d), h * N * d);
    vOut.set(v.data.subarray(g * N * dv, (g + 1) * N * dv), h * N * dv);
    for (let j = 0; j < firstRecent; j++) for (const c of drop) kOut[(h * N + j) * d + c] = 0;
  }
  return {
    scores,
    pruned,
    k: { shape: [H, N, d], data: kOut },
    v: { shape: [H, N, dv], data: vOut },
    cacheSaving: (cut / d) * (firstRecent / N),
    overhead: H * 2 * d * (obs + N + 1),
  };
}

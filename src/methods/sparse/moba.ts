import { kvHeadOf } from '../../core/headMap';
import { blockCount, emptySelection, meanPoolBlocks, reasonCode, topkStable, type BlockSelection } from './selection';
import type { QKV } from '../../core/tensor';

/** MoBA's parameters (ALGORITHMS.md §4.1) and FlashMoBA's illustrative key convolution (§4.2). */
export interface MobaParams {
  /** Block size B (`moba_chunk_size`). */
  block: number;
  /** Blocks per query, counting the query's own block (`moba_topk`). */
  topk: number;
  /** FlashMoBA: width W of the causal box filter on the routing keys (0 or 1: none). */
  convWidth?: number;
}

export interface MobaSelection {
  selection: BlockSelection;
  /** Gate scores after causal routing `[H, N, nb]`: +∞ for the current block, −∞ for future blocks. */
  gate: Float32Array;
  /** The keys the gate pooled (convolved for FlashMoBA), `[Hkv, N, d]`. */
  routingKeys: Float32Array;
}

/**
 * FlashMoBA's key convolution, illustrative (§4.2: every detail unverified): causal depthwise
 * `k̃[t] = Σ_{w<W} k[t−w] / W`, with zeros before the start. `[Hkv, N, d]` → same shape.
 */
export function causalBoxFilter(k: Float32Array, Hkv: number, N: number, d: number, W: number): Float32Array {
  if (W <= 1) return k;
  const out = new Float32Array(k.length);
  for (let g = 0; g < Hkv; g++)
    for (let t = 0; t < N; t++)
      for (let c = 0; c < d; c++) {
        let s = 0;
        for (let w = 0; w < W && t - w >= 0; w++) s += k[(g * N + t - w) * d + c];
        out[(g * N + t) * d + c] = s / W;
      }
  return out;
}

/**
 * MoBA's per-query block selection (§4.1), causal prefill (`Nq = Nk = N`):
 * 1. key blocks are mean-pooled (a partial last block over its real tokens);
 * 2. the gate `s[i, J] = q[h, i] · K̄[κ(h), J]`, float32, with no 1/√d scale;
 * 3. future blocks get −∞, the query's own block +∞ (always routed);
 * 4. `Sel(i) = topkStable(s[i, :], min(k, nb)) ∩ {J ≤ I}` — the effective set (Quirk M1).
 * The own block is marked `forced`, the others `topk`.
 */
export function mobaSelect({ q, k }: Pick<QKV, 'q' | 'k'>, p: MobaParams): MobaSelection {
  const [H, N, d] = q.shape;
  const Hkv = k.shape[0];
  const B = p.block;
  const nb = blockCount(N, B);
  const routingKeys = causalBoxFilter(k.data, Hkv, N, d, p.convWidth ?? 0);
  const pooled = Array.from({ length: Hkv }, (_, g) => meanPoolBlocks(routingKeys, g * N * d, N, d, B));
  const selection = emptySelection(H, N, N, 1, B);
  const gate = new Float32Array(H * N * nb);
  const row = new Float32Array(nb);
  const forced = reasonCode('forced');
  const top = reasonCode('topk');
  for (let h = 0; h < H; h++) {
    const kb = pooled[kvHeadOf(h, H, Hkv, 'contiguous')];
    for (let i = 0; i < N; i++) {
      const I = Math.floor(i / B);
      const qo = (h * N + i) * d;
      for (let J = 0; J < nb; J++) {
        if (J > I) row[J] = -Infinity;
        else if (J === I) row[J] = Infinity;
        else {
          let s = 0;
          for (let c = 0; c < d; c++) s += q.data[qo + c] * kb[J * d + c];
          row[J] = s; // stored as float32, as the reference computes the gate
        }
      }
      gate.set(row, (h * N + i) * nb);
      const base = (h * N + i) * nb;
      for (const J of topkStable(row, p.topk)) if (J <= I) selection.codes[base + J] = J === I ? forced : top;
    }
  }
  return { selection, gate, routingKeys };
}

/**
 * MoBA's estimation overhead (§4.1): per query head, the gate `2·d·N·nb` and the key pooling
 * `N·d` (the official wrapper expands the KV heads before pooling, so it pools once per query
 * head); FlashMoBA's convolution adds `N·d·W` per KV head.
 */
export function mobaOverheadFlops(H: number, Hkv: number, N: number, d: number, B: number, convWidth = 0): number {
  const nb = blockCount(N, B);
  return H * (2 * d * N * nb + N * d) + (convWidth > 1 ? Hkv * N * d * convWidth : 0);
}

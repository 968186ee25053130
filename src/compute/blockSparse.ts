import * as tf from '@tensorflow/tfjs-core';
import { attentionDims, type QKV } from '../core/tensor';
import { kvHeadOf } from '../core/headMap';
import type { AttentionOptions } from '../core/referenceAttention';
import { allowedBy, type BlockSelection, type TokenRule } from '../core/blockSelection';

/**
 * A sparse pattern as the kernel takes it: the selected key blocks per head and query row
 * (non-zero = selected), an optional token rule (window, sinks) inside them, and the tile height.
 */
export type SparseSpec = Pick<BlockSelection, 'rowsPer' | 'nRows' | 'block' | 'nkb' | 'codes'> & {
  rule: TokenRule | null;
  /** Query rows per tile; default: `rowsPer` for block-level selections, the key block size otherwise. */
  tile?: number;
};

export interface SparseKernelResult {
  /** `[H, Nq, Nk]`, zero outside the allowed set (read back only when asked). */
  weights?: Float32Array;
  /** `[H, Nq, dv]`. */
  output: Float32Array;
  /** Allowed (query, key) pairs over all heads. */
  pairs: number;
  /** Pairs the kernel computed: the tiles' key blocks, including the union over a tile's rows and padding. */
  computed: number;
}

/** Values per batch of tiles (the logits of one batched product), to bound memory. */
const BATCH_VALUES = 4 * 2 ** 20;

interface Tile {
  h: number;
  i0: number;
  rows: number;
  blocks: number[];
}

/**
 * Block-sparse attention that skips unselected blocks: each tile of query rows gathers only the
 * key and value blocks its rows selected (their union), computes `softmax(σ·q·kᵀ + mask)·v`
 * over them, and the work falls with the density. Tiles with the same number of blocks (rounded
 * up to a power of two, padded with masked blocks) are batched into one gather and two
 * matMuls. The token mask inside the gathered blocks (the row's own selection, the causal rule
 * `j ≤ i + Nk − Nq`, the window and sinks) is an additive −1e9, and masked weights are then
 * zeroed exactly, so a fully masked row gives zero weights and a zero output (§0.3, App. C).
 */
export async function blockSparseAttention(inputs: QKV, options: AttentionOptions, spec: SparseSpec, wantWeights: boolean): Promise<SparseKernelResult> {
  const { H, Hkv, Nq, Nk, d, dv } = attentionDims(inputs);
  const causal = options.causal ?? true;
  const scale = options.scale ?? 1 / Math.sqrt(d);
  const layout = options.layout ?? 'contiguous';
  const { rowsPer, nRows, block, nkb, codes, rule } = spec;
  if (codes.length !== H * nRows * nkb) throw new Error(`sparse codes have ${codes.length} entries; expected H·nRows·nkb = ${H}·${nRows}·${nkb}`);
  if (nRows !== Math.ceil(Nq / rowsPer) || nkb !== Math.ceil(Nk / block)) throw new Error(`sparse geometry ${nRows}×${nkb} does not fit ${Nq} queries × ${Nk} keys in rows of ${rowsPer} and blocks of ${block}`);
  const tile = Math.max(1, spec.tile ?? (rowsPer > 1 ? rowsPer : block));
  const off = Nk - Nq;
  const allowed = allowedBy({ ...spec, Nq, Nk }, rule, causal);

  // Tiles and the union of the key blocks their rows selected.
  const tiles: Tile[] = [];
  const seen = new Uint8Array(nkb);
  for (let h = 0; h < H; h++)
    for (let i0 = 0; i0 < Nq; i0 += tile) {
      const rows = Math.min(tile, Nq - i0);
      seen.fill(0);
      for (let r = Math.floor(i0 / rowsPer); r <= Math.floor((i0 + rows - 1) / rowsPer); r++) {
        const base = (h * nRows + r) * nkb;
        for (let J = 0; J < nkb; J++) if (codes[base + J]) seen[J] = 1;
      }
      const lastKey = causal ? i0 + rows - 1 + off : Nk - 1;
      const blocks: number[] = [];
      for (let J = 0; J < nkb; J++) if (seen[J] && J * block <= lastKey) blocks.push(J);
      if (blocks.length) tiles.push({ h, i0, rows, blocks });
    }

  const output = new Float32Array(H * Nq * dv);
  const weights = wantWeights ? new Float32Array(H * Nq * Nk) : undefined;
  let pairs = 0;
  let computed = 0;
  // Buckets of tiles by their exact block count (padding to a common count cost up to 60 % extra
  // work in the bench at 10 % density), then batches bounded in size.
  const buckets = new Map<number, Tile[]>();
  for (const t of tiles) {
    const L = t.blocks.length;
    if (!buckets.has(L)) buckets.set(L, []);
    buckets.get(L)!.push(t);
  }
  // The scale folds into the queries once, instead of into every batch's logits.
  const qFlat = tf.tidy(() => tf.mul(tf.tensor2d(inputs.q.data, [H * Nq, d]), scale));
  const kFlat = tf.tensor2d(inputs.k.data, [Hkv * Nk, d]);
  const vFlat = tf.tensor2d(inputs.v.data, [Hkv * Nk, dv]);
  try {
    for (const [L, list] of buckets) {
      const width = L * block;
      const per = Math.max(1, Math.floor(BATCH_VALUES / (tile * width)));
      for (let b0 = 0; b0 < list.length; b0 += per) {
        const batch = list.slice(b0, b0 + per);
        const nT = batch.length;
        const qIdx = new Int32Array(nT * tile);
        const kIdx = new Int32Array(nT * width);
        batch.forEach((t, n) => {
          const kv = kvHeadOf(t.h, H, Hkv, layout);
          for (let r = 0; r < tile; r++) qIdx[n * tile + r] = t.h * Nq + Math.min(t.i0 + r, Nq - 1);
          for (let s = 0; s < L; s++) {
            const J = t.blocks[s];
            for (let c = 0; c < block; c++) kIdx[n * width + s * block + c] = kv * Nk + Math.min(J * block + c, Nk - 1);
          }
        });
        // One mask for the whole batch when every tile's is the same: whole block-level tiles
        // (every row chose the tile's blocks), full key blocks, no token rule, and the causal
        // diagonal block, if any, last in each tile. Otherwise a mask per tile.
        const shared = sharedMask(batch, { tile, block, rowsPer, Nq, Nk, causal, rule });
        let bias: Float32Array | null = null;
        const empty = new Uint8Array(nT * tile);
        if (shared) {
          pairs += nT * shared.pairs;
          computed += nT * tile * width;
        } else {
          const b = new Float32Array(nT * tile * width).fill(-1e9);
          bias = b;
          // Rows of the batch with no allowed key: a softmax over only masked logits is uniform, not 0.
          empty.fill(1);
          const ruled = !!rule && (rule.window !== undefined || rule.sinks !== undefined);
          batch.forEach((t, n) => {
            for (let r = 0; r < t.rows; r++) {
              const i = t.i0 + r;
              const base = (n * tile + r) * width;
              const sel = (t.h * nRows + Math.floor(i / rowsPer)) * nkb;
              const last = Math.min(Nk - 1, causal ? i + off : Nk - 1);
              for (let s = 0; s < t.blocks.length; s++) {
                const J = t.blocks[s];
                if (codes[sel + J] === 0) continue; // another row of the tile chose this block
                const j0 = J * block;
                if (ruled) {
                  for (let c = 0; c < block; c++) {
                    if (allowed(t.h, i, j0 + c)) {
                      b[base + s * block + c] = 0;
                      empty[n * tile + r] = 0;
                      pairs++;
                    }
                  }
                } else if (last >= j0) {
                  // Without a token rule the allowed keys of a selected block are a prefix: j0 … min(block end, last).
                  const n1 = Math.min(block, last - j0 + 1);
                  b.fill(0, base + s * block, base + s * block + n1);
                  empty[n * tile + r] = 0;
                  pairs += n1;
                }
              }
            }
            computed += t.rows * t.blocks.length * block;
          });
        }
        const [o, p] = tf.tidy(() => {
          const qi = tf.tensor2d(qIdx, [nT, tile], 'int32');
          const ki = tf.tensor2d(kIdx, [nT, width], 'int32');
          const qg = tf.gather(qFlat, qi); // [nT, tile, d], already scaled
          const kg = tf.gather(kFlat, ki); // [nT, width, d]
          const vg = tf.gather(vFlat, ki); // [nT, width, dv]
          const scores = tf.matMul(qg, kg, false, true);
          const mask = bias ? tf.tensor3d(bias, [nT, tile, width]) : shared!.mask;
          const logits = mask ? tf.add(scores, mask) : scores;
          // exp(−1e9 − max) is exactly 0 in float32, so masked weights of a row with any allowed
          // key are already 0; rows with none (padding, or an empty selection) are zeroed below.
          const probs = tf.softmax(logits);
          return [tf.matMul(probs, vg), wantWeights ? probs : null] as const;
        });
        shared?.mask?.dispose();
        try {
          const od = (await o.data()) as Float32Array;
          const pd = p ? ((await p.data()) as Float32Array) : null;
          batch.forEach((t, n) => {
            for (let r = 0; r < t.rows; r++) {
              const i = t.i0 + r;
              if (empty[n * tile + r]) continue; // zero weights and a zero output (§0.3)
              output.set(od.subarray((n * tile + r) * dv, (n * tile + r + 1) * dv), (t.h * Nq + i) * dv);
              if (pd && weights) {
                const wBase = (t.h * Nq + i) * Nk;
                const base = (n * tile + r) * width;
                for (let s = 0; s < t.blocks.length; s++) {
                  const j0 = t.blocks[s] * block;
                  const n1 = Math.min(block, Nk - j0);
                  weights.set(pd.subarray(base + s * block, base + s * block + n1), wBase + j0);
                }
              }
            }
          });
        } finally {
          o.dispose();
          p?.dispose();
        }
      }
    }
  } finally {
    qFlat.dispose();
    kFlat.dispose();
    vFlat.dispose();
  }
  return { weights, output, pairs, computed };
}

/**
 * The mask every tile of a batch shares, or null when the tiles differ. Shared when the tiles
 * are whole block-level tiles (`rowsPer` = tile: every row chose the tile's blocks), no token
 * rule applies, every key block is full, and — for a causal map — each tile's last block is
 * its own diagonal block (block = tile, so the mask is triangular there and open elsewhere) or
 * no tile has it. `mask` is null when nothing is masked; `pairs` are the allowed pairs per tile.
 */
function sharedMask(batch: Tile[], g: { tile: number; block: number; rowsPer: number; Nq: number; Nk: number; causal: boolean; rule: TokenRule | null }): { mask: tf.Tensor | null; pairs: number } | null {
  const { tile, block } = g;
  if (g.rule || g.rowsPer !== tile || g.Nq !== g.Nk) return null;
  const L = batch[0].blocks.length;
  const width = L * block;
  let diag: boolean | null = null;
  for (const t of batch) {
    if (t.rows !== tile) return null;
    if (t.blocks.some((J) => (J + 1) * block > g.Nk)) return null;
    const last = t.blocks[L - 1];
    const own = g.causal && block === tile && last * block === t.i0;
    if (g.causal && !own && last * block + block - 1 > t.i0) return null; // a block past the diagonal
    if (diag === null) diag = own;
    else if (diag !== own) return null;
  }
  if (!diag) return { mask: null, pairs: tile * width };
  const m = new Float32Array(tile * width);
  const j0 = (L - 1) * block;
  for (let r = 0; r < tile; r++) m.fill(-1e9, r * width + j0 + r + 1, (r + 1) * width);
  return { mask: tf.tensor3d(m, [1, tile, width]), pairs: tile * (L - 1) * block + (tile * (tile + 1)) / 2 };
}

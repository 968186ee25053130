import { ByteLru } from '../core/lru';

/** One query head's attention, kept so that a new allocation recomputes only the heads that moved. */
export interface HeadEntry {
  weights: Float32Array;
  output: Float32Array;
  scores?: Float32Array;
  entropy: number;
  distance: number;
  sinkMass: number;
}

/**
 * Per-head results, least recently used first out, bounded in bytes (default 320 MiB: two
 * configurations of 32 heads at N = 1024, 132 MB each, so going back to the previous one is free). KDGQA and
 * DGQA move a few query heads between KV heads when a parameter changes; with this cache only
 * those heads are computed again (a head's map depends only on its query head and its KV head).
 */
export class HeadCache extends ByteLru<HeadEntry> {
  constructor(budget = 320 * 2 ** 20) {
    super(budget, (e) => e.weights.byteLength + e.output.byteLength + (e.scores?.byteLength ?? 0));
  }
}

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
 * A least-recently-used cache of per-head results, bounded in bytes. KDGQA and DGQA move a few
 * query heads between KV heads when a parameter changes; with this cache only those heads are
 * computed again (each head's map depends only on its query head and the KV head it reads).
 */
export class HeadCache {
  private map = new Map<string, HeadEntry>();
  private bytes = 0;
  constructor(private readonly budget = 256 * 2 ** 20) {}

  private static size(e: HeadEntry): number {
    return e.weights.byteLength + e.output.byteLength + (e.scores?.byteLength ?? 0);
  }

  get(key: string): HeadEntry | undefined {
    const e = this.map.get(key);
    if (e) {
      this.map.delete(key);
      this.map.set(key, e);
    }
    return e;
  }

  set(key: string, e: HeadEntry): void {
    const old = this.map.get(key);
    if (old) {
      this.bytes -= HeadCache.size(old);
      this.map.delete(key);
    }
    const b = HeadCache.size(e);
    if (b > this.budget) return;
    this.map.set(key, e);
    this.bytes += b;
    for (const [k, v] of this.map) {
      if (this.bytes <= this.budget) break;
      this.map.delete(k);
      this.bytes -= HeadCache.size(v);
    }
  }

  get size(): number {
    return this.map.size;
  }
}

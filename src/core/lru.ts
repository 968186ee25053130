/**
 * A least-recently-used map bounded by the total `sizeOf` of its values (bytes, or 1 per entry
 * to bound the count). A value larger than
 * the whole budget is not kept. Reading a key makes it the most recent.
 */
export class ByteLru<V> {
  private map = new Map<string, V>();
  private used = 0;
  constructor(
    private readonly budget: number,
    private readonly sizeOf: (v: V) => number,
  ) {}

  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  set(key: string, v: V): void {
    const old = this.map.get(key);
    if (old !== undefined) {
      this.used -= this.sizeOf(old);
      this.map.delete(key);
    }
    const b = this.sizeOf(v);
    if (b > this.budget) return;
    this.map.set(key, v);
    this.used += b;
    for (const [k, x] of this.map) {
      if (this.used <= this.budget) break;
      this.map.delete(k);
      this.used -= this.sizeOf(x);
    }
  }

  get size(): number {
    return this.map.size;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.used;
  }
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { QKV } from '../../src/core/tensor';

export interface GoldenCase {
  name: string;
  H: number;
  Hkv: number;
  Nq: number;
  Nk: number;
  d: number;
  dv: number;
  causal: boolean;
  scale: number | null;
  layout: 'contiguous' | 'interleaved';
  q: number[];
  k: number[];
  v: number[];
  scores: (number | null)[];
  weights: number[];
  output: number[];
  stats: { entropy: number[]; distance: number[]; sinkMass: number[] };
}

/** Goldens written by scripts/make_goldens.py (PyTorch). */
export const golden: { torch: string; cases: GoldenCase[] } = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'golden', 'attention.json'), 'utf8'),
);

export function inputsOf(c: GoldenCase): QKV {
  return {
    q: { shape: [c.H, c.Nq, c.d], data: Float32Array.from(c.q) },
    k: { shape: [c.Hkv, c.Nk, c.d], data: Float32Array.from(c.k) },
    v: { shape: [c.Hkv, c.Nk, c.dv], data: Float32Array.from(c.v) },
  };
}

/** Largest |a − b| (both -Infinity/null count as equal; one infinite and one not is Infinity). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number | null>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i] === null ? -Infinity : (b[i] as number);
    if (x === y) continue;
    if (!Number.isFinite(x) || !Number.isFinite(y)) return Infinity;
    m = Math.max(m, Math.abs(x - y));
  }
  return m;
}

/** Largest |a − b| / max(1, |b|): scores of the extreme-logit cases reach 1e5. */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number | null>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i] === null ? -Infinity : (b[i] as number);
    if (x === y) continue;
    if (!Number.isFinite(x) || !Number.isFinite(y)) return Infinity;
    m = Math.max(m, Math.abs(x - y) / Math.max(1, Math.abs(y)));
  }
  return m;
}

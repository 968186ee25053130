import { argmaxFirst, argminFirst, roundHalfEven, sumF32 } from '../core/numeric';
import type { DgqaStep } from './types';

/** KDGQA allocation modes: the faithful min-max of the code, or the labelled proportional intent mode. */
export type KdgqaMode = 'minmax' | 'proportional';

/**
 * KDGQA (ALGORITHMS.md §2.1): key-head norms → min-max → r = n̂/Σn̂·H (float32) → round half to
 * even → fix the total (first argmax −1 / first argmin +1). Equal norms (or G = 1) divide 0 by 0
 * in the code; the spec falls back to a uniform split [U], flagged by `fallback`.
 */
export function kdgqaAllocation(norms: number[], H: number, mode: KdgqaMode = 'minmax'): { a: number[]; raw: number[] | null; fallback: boolean } {
  const G = norms.length;
  const n = norms.map((x) => Math.fround(x));
  let nh: number[];
  if (mode === 'minmax') {
    const lo = Math.min(...n);
    const hi = Math.max(...n);
    if (!(hi > lo)) return { a: uniform(H, G), raw: null, fallback: true };
    const span = Math.fround(hi - lo);
    nh = n.map((x) => Math.fround(Math.fround(x - lo) / span));
  } else {
    nh = n;
  }
  const total = sumF32(nh);
  if (!(total > 0) || !Number.isFinite(total)) return { a: uniform(H, G), raw: null, fallback: true };
  const raw = nh.map((x) => Math.fround(Math.fround(x / total) * H));
  const a = raw.map((x) => roundHalfEven(x));
  let s = a.reduce((p, x) => p + x, 0);
  while (s > H) {
    a[argmaxFirst(a)] -= 1;
    s--;
  }
  while (s < H) {
    a[argminFirst(a)] += 1;
    s++;
  }
  return { a, raw, fallback: false };
}

function uniform(H: number, G: number): number[] {
  // H/G each; when G does not divide H (only reachable through the pure function), the first heads get one more.
  const base = Math.floor(H / G);
  return Array.from({ length: G }, (_, g) => base + (g < H - base * G ? 1 : 0));
}

export type DgqaVariant = 'diff' | 'ema';

/**
 * DGQA's allocation from weights w (ALGORITHMS.md §2.2): round half to even of w/Σw·H, then random
 * fix-ups with the seeded generator (Quirk K3): while Σa > H pick a random KV head and take one
 * query head from it if it has any; while Σa < H give one to a random KV head.
 */
export function dgqaAllocate(w: number[], H: number, rand: () => number): { a: number[]; draws: number; fallback: boolean } {
  const G = w.length;
  const total = sumF32(w);
  if (!(total > 0) || !Number.isFinite(total)) return { a: uniform(H, G), draws: 0, fallback: true };
  const a = w.map((x) => roundHalfEven(Math.fround(Math.fround(x / total) * H)));
  let s = a.reduce((p, x) => p + x, 0);
  let draws = 0;
  while (s > H) {
    const g = Math.floor(rand() * G);
    draws++;
    if (a[g] > 0) {
      a[g] -= 1;
      s--;
    }
  }
  while (s < H) {
    const g = Math.floor(rand() * G);
    draws++;
    a[g] += 1;
    s++;
  }
  return { a, draws, fallback: false };
}

/** DGQA weights: |c − m| (diff) or β·m + (1 − β)·c (ema, Quirk K2: β weights the current magnitudes). */
export function dgqaWeights(m: number[], c: number[], variant: DgqaVariant, beta: number): number[] {
  const b = Math.fround(beta);
  return m.map((x, g) => (variant === 'diff' ? Math.fround(Math.abs(Math.fround(c[g] - x))) : Math.fround(Math.fround(b * x) + Math.fround(Math.fround(1 - b) * c[g]))));
}

export interface DgqaOptions {
  H: number;
  variant: DgqaVariant;
  beta: number;
  /** `eval`: reallocate on every forward; `train`: only when step % window = 0. */
  phase: 'eval' | 'train';
  window: number;
  rand: () => number;
}

/**
 * Runs DGQA's per-layer state over the magnitudes of successive steps (ALGORITHMS.md §2.2):
 * cache c = 0 and a uniform split at the start; eval: a ← alloc(m, c), c ← m on every step;
 * train: when step % W = 0, a ← alloc(m, c), then c ← (c + m)/W (Quirk K4, literal).
 */
export function dgqaTimeline(ms: number[][], o: DgqaOptions): DgqaStep[] {
  const G = ms[0]?.length ?? 0;
  let c = new Array<number>(G).fill(0);
  let a = uniform(o.H, G);
  const out: DgqaStep[] = [];
  ms.forEach((m, t) => {
    let w: number[] | null = null;
    let draws = 0;
    let fallback = false;
    if (o.phase === 'eval' || t % o.window === 0) {
      w = dgqaWeights(m, c, o.variant, o.beta);
      const r = dgqaAllocate(w, o.H, o.rand);
      a = r.a;
      draws = r.draws;
      fallback = r.fallback;
      c = o.phase === 'eval' ? m.slice() : m.map((x, g) => Math.fround(Math.fround(c[g] + x) / o.window));
    }
    out.push({ m: m.slice(), w, a: a.slice(), c: c.slice(), draws, fallback });
  });
  return out;
}

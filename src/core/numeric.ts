/**
 * Numeric rules shared by the methods (ALGORITHMS.md §0.5): PyTorch's rounding and tie rules,
 * reproduced exactly so that allocations match the reference code.
 */

/** Round half to even, as `torch.round`, NumPy and CUDA `rint` do. `Math.round` rounds half up and must not be used. */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.floor(x);
  const diff = x - f;
  if (diff < 0.5) return f;
  if (diff > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** Index of the largest value; the first one on ties (PyTorch `argmax`). */
export function argmaxFirst(a: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

/** Index of the smallest value; the first one on ties (PyTorch `argmin`). */
export function argminFirst(a: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] < a[best]) best = i;
  return best;
}

/** Sum in float32, element by element (as a float32 reduction over a few values). */
export function sumF32(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s = Math.fround(s + a[i]);
  return s;
}

/** Divisors of `n` in increasing order. */
export function divisorsOf(n: number): number[] {
  const out: number[] = [];
  for (let x = 1; x <= n; x++) if (n % x === 0) out.push(x);
  return out;
}

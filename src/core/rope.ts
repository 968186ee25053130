/**
 * Rotary position embedding (ALGORITHMS.md §12.1) in float32, as Hugging Face computes it:
 * `inv_freq_i = 1 / base^(2i/d)`, angle = position · inv_freq_i. The half-split layout
 * (`rotate_half`, Llama) pairs channel i with i + d/2; the interleaved layout pairs 2i with 2i+1.
 */
import { gaussian, mulberry32 } from './prng';

export type RopeLayout = 'half' | 'interleaved';

/** `inv_freq` of a head dimension `d` (even) and base θ, float32 like `torch.arange(0, d, 2).float() / d`. */
export function ropeInvFreq(d: number, base: number): Float32Array {
  const f = new Float32Array(d / 2);
  for (let i = 0; i < d / 2; i++) f[i] = Math.fround(1 / Math.fround(base ** Math.fround((2 * i) / d)));
  return f;
}

/** Rotates one vector `x[off … off + d)` to `position`, writing into `out` at `outOff`. */
export function ropeRotate(x: ArrayLike<number>, off: number, d: number, position: number, invFreq: Float32Array, out: Float32Array, outOff = 0, layout: RopeLayout = 'half'): void {
  if (d % 2 !== 0) throw new Error(`RoPE needs an even head dimension; this one is ${d}`);
  const half = d / 2;
  for (let i = 0; i < half; i++) {
    const angle = Math.fround(position * invFreq[i]);
    const c = Math.fround(Math.cos(angle));
    const s = Math.fround(Math.sin(angle));
    const a = layout === 'half' ? i : 2 * i;
    const b = layout === 'half' ? i + half : 2 * i + 1;
    const x1 = x[off + a];
    const x2 = x[off + b];
    out[outOff + a] = Math.fround(Math.fround(x1 * c) - Math.fround(x2 * s));
    out[outOff + b] = Math.fround(Math.fround(x2 * c) + Math.fround(x1 * s));
  }
}

/**
 * The score of a fixed query and key against their distance Δ = m − n under RoPE:
 * (R_m q)·(R_n k) = q·R_{−Δ} k, the same for every m (the relative property). Without RoPE the
 * score is q·k at every distance. `q` and `k` are length-`d` vectors.
 */
export function ropeDistanceCurve(q: ArrayLike<number>, k: ArrayLike<number>, d: number, base: number | null, maxDelta: number, layout: RopeLayout = 'half'): Float64Array {
  const out = new Float64Array(maxDelta + 1);
  const inv = base === null ? null : ropeInvFreq(d, base);
  const rk = new Float32Array(d);
  for (let D = 0; D <= maxDelta; D++) {
    if (inv) ropeRotate(k, 0, d, -D, inv, rk, 0, layout);
    let s = 0;
    for (let c = 0; c < d; c++) s += q[c] * (inv ? rk[c] : k[c]);
    out[D] = s;
  }
  return out;
}

/** A seeded query and key of dimension d (standard normal): the RoPE explorer's default vectors. */
export function seededPair(d: number, seed: number): { q: Float32Array; k: Float32Array } {
  const g = gaussian(mulberry32(seed));
  return { q: Float32Array.from({ length: d }, g), k: Float32Array.from({ length: d }, g) };
}

/**
 * MergeLock (ALGORITHMS.md §12.6, arXiv 2509.01548; no code was available, so the details are
 * [U], derived from the algebra): per KV group g, invertible A_g, B_g ∈ ℝ^{d×d}.
 *   QK pair: W_Q^h ← W_Q^h·A, b_Q ← b_Q·A;  W_K^g ← W_K^g·A^{−T}, b_K ← b_K·A^{−T}  ⇒ q'k'ᵀ = qkᵀ.
 *   VO pair: W_V^g ← W_V^g·B, b_V ← b_V·B;  W_O^h ← B^{−1}·W_O^h (head h's rows)    ⇒ P V' W_O' = P V W_O.
 * Every query head of a group shares its group's A and B. In math orientation (q = x W_Q).
 * Stored layouts: Hugging Face nn.Linear weights are [out, in] (so W_Q^h·A is Aᵀ·block), GPT-2's
 * Conv1D weights are [in, out] (math orientation already).
 * RoPE: invariance needs A to commute with every rotation, i.e. a scaled rotation on each RoPE
 * pair; QK-norm needs A orthogonal. `mergeLockWarnings` says when the chosen A breaks either.
 */
import type { ModelConfig } from '../../core/modelSpec';
import type { Tensor } from '../../core/tensor';
import { gaussian, mulberry32 } from '../../core/prng';

/** A dense d×d matrix, row-major, float64. */
export interface Mat {
  d: number;
  a: Float64Array;
}

export const mat = (d: number, rows: number[][]): Mat => ({ d, a: Float64Array.from(rows.flat()) });

export function matMul(x: Mat, y: Mat): Mat {
  const d = x.d;
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) {
    const v = x.a[i * d + k];
    if (v !== 0) for (let j = 0; j < d; j++) out[i * d + j] += v * y.a[k * d + j];
  }
  return { d, a: out };
}

export function transpose(x: Mat): Mat {
  const d = x.d;
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) out[j * d + i] = x.a[i * d + j];
  return { d, a: out };
}

/** Inverse by Gauss–Jordan elimination with partial pivoting; throws on a singular matrix. */
export function inverse(x: Mat): Mat {
  const d = x.d;
  const m = Float64Array.from(x.a);
  const inv = new Float64Array(d * d);
  for (let i = 0; i < d; i++) inv[i * d + i] = 1;
  for (let c = 0; c < d; c++) {
    let p = c;
    for (let r = c + 1; r < d; r++) if (Math.abs(m[r * d + c]) > Math.abs(m[p * d + c])) p = r;
    if (Math.abs(m[p * d + c]) < 1e-12) throw new Error('the matrix is singular');
    if (p !== c)
      for (let j = 0; j < d; j++) {
        [m[c * d + j], m[p * d + j]] = [m[p * d + j], m[c * d + j]];
        [inv[c * d + j], inv[p * d + j]] = [inv[p * d + j], inv[c * d + j]];
      }
    const piv = m[c * d + c];
    for (let j = 0; j < d; j++) {
      m[c * d + j] /= piv;
      inv[c * d + j] /= piv;
    }
    for (let r = 0; r < d; r++) {
      if (r === c) continue;
      const f = m[r * d + c];
      if (f === 0) continue;
      for (let j = 0; j < d; j++) {
        m[r * d + j] -= f * m[c * d + j];
        inv[r * d + j] -= f * inv[c * d + j];
      }
    }
  }
  return { d, a: inv };
}

/** Largest eigenvalue of a symmetric positive semi-definite matrix (power iteration). */
function topEigen(s: Mat): number {
  const d = s.d;
  let v = new Float64Array(d).fill(1 / Math.sqrt(d));
  let lambda = 0;
  for (let it = 0; it < 500; it++) {
    const w = new Float64Array(d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) w[i] += s.a[i * d + j] * v[j];
    const n = Math.hypot(...w);
    if (n === 0) return 0;
    const next = w.map((x) => x / n);
    if (Math.abs(n - lambda) <= 1e-12 * n) return n;
    lambda = n;
    v = next;
  }
  return lambda;
}

/** 2-norm condition number σ_max / σ_min. */
export function cond(x: Mat): number {
  const s = matMul(transpose(x), x);
  const si = inverse(s);
  return Math.sqrt(topEigen(s) * topEigen(si));
}

/** True when `x` commutes with every RoPE rotation of the layout (a scaled rotation on each pair, zero elsewhere). */
export function commutesWithRope(x: Mat, layout: 'half' | 'interleaved', tol = 1e-9): boolean {
  const d = x.d;
  const half = d / 2;
  const pairOf = (i: number) => (layout === 'half' ? (i < half ? i : i - half) : i >> 1);
  const scale = Math.max(1e-300, ...Array.from(x.a, Math.abs));
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) if (pairOf(i) !== pairOf(j) && Math.abs(x.a[i * d + j]) > tol * scale) return false;
  for (let p = 0; p < half; p++) {
    const [i, j] = layout === 'half' ? [p, p + half] : [2 * p, 2 * p + 1];
    const [a, b, c, e] = [x.a[i * d + i], x.a[i * d + j], x.a[j * d + i], x.a[j * d + j]];
    if (Math.abs(a - e) > tol * scale || Math.abs(b + c) > tol * scale) return false;
  }
  return true;
}

/** True when xᵀx = I (within tol). */
export function isOrthogonal(x: Mat, tol = 1e-9): boolean {
  const s = matMul(transpose(x), x);
  for (let i = 0; i < x.d; i++) for (let j = 0; j < x.d; j++) if (Math.abs(s.a[i * x.d + j] - (i === j ? 1 : 0)) > tol) return false;
  return true;
}

/** The matrices of one lock: per layer, per KV group. */
export interface MergeLockKeys {
  A: Mat[][];
  B: Mat[][];
}

export type AKind = 'rope-commuting' | 'general' | 'orthogonal';

/**
 * Seeded keys for a model: Gaussian entries resampled until cond < 100 ([U]); A is a scaled
 * rotation on each RoPE pair of the layout when `aKind` is 'rope-commuting' (the only kind that
 * keeps a RoPE model's attention), orthogonal (QR of a Gaussian) for QK-norm, or general.
 */
export function sampleMergeLock(c: Pick<ModelConfig, 'layers' | 'kvHeads' | 'headDim'>, seed: number, aKind: AKind, layout: 'half' | 'interleaved' = 'half'): MergeLockKeys {
  const g = gaussian(mulberry32(seed));
  const d = c.headDim;
  const conditioned = (make: () => Mat): Mat => {
    for (let t = 0; t < 1000; t++) {
      const m = make();
      try {
        if (cond(m) < 100) return m;
      } catch {
        /* singular: draw again */
      }
    }
    throw new Error('no well-conditioned matrix in 1000 draws');
  };
  const gauss = () => ({ d, a: Float64Array.from({ length: d * d }, g) });
  const rot = (): Mat => {
    const a = new Float64Array(d * d);
    for (let p = 0; p < d / 2; p++) {
      const [i, j] = layout === 'half' ? [p, p + d / 2] : [2 * p, 2 * p + 1];
      const x = g();
      const y = g();
      a[i * d + i] = x;
      a[i * d + j] = -y;
      a[j * d + i] = y;
      a[j * d + j] = x;
    }
    return { d, a };
  };
  const orth = (): Mat => {
    // Gram–Schmidt on the columns of a Gaussian matrix.
    const m = gauss();
    const q = new Float64Array(d * d);
    for (let j = 0; j < d; j++) {
      const v = Array.from({ length: d }, (_, i) => m.a[i * d + j]);
      for (let k = 0; k < j; k++) {
        let dot = 0;
        for (let i = 0; i < d; i++) dot += v[i] * q[i * d + k];
        for (let i = 0; i < d; i++) v[i] -= dot * q[i * d + k];
      }
      const n = Math.hypot(...v);
      for (let i = 0; i < d; i++) q[i * d + j] = v[i] / n;
    }
    return { d, a: q };
  };
  const makeA = aKind === 'rope-commuting' ? rot : aKind === 'orthogonal' ? orth : gauss;
  const A: Mat[][] = [];
  const B: Mat[][] = [];
  for (let l = 0; l < c.layers; l++) {
    A.push(Array.from({ length: c.kvHeads }, () => conditioned(makeA)));
    B.push(Array.from({ length: c.kvHeads }, () => conditioned(gauss)));
  }
  return { A, B };
}

/** What would break invariance, in words (empty when the keys keep the model's outputs). */
export function mergeLockWarnings(c: Pick<ModelConfig, 'family'>, keys: MergeLockKeys, opts: { layout?: 'half' | 'interleaved'; qkNorm?: boolean } = {}): string[] {
  const out: string[] = [];
  const all = keys.A.flat();
  if (c.family === 'llama' && !all.every((a) => commutesWithRope(a, opts.layout ?? 'half'))) out.push('A does not commute with the RoPE rotations (it is not a scaled rotation on each pair), so the attention changes: q·R_{n−m}·k is not preserved');
  if (opts.qkNorm && !all.every((a) => isOrthogonal(a))) out.push('A is not orthogonal, so QK-norm (which normalises q and k) no longer sees the same vectors and the attention changes');
  return out;
}

/** `rows × d` block times a d×d matrix (or its transpose), in place into `out`. */
function blockTimes(src: Float32Array, rows: number, rowStride: number, colOff: number, m: Mat, mT: boolean, out: Float32Array): void {
  const d = m.d;
  const tmp = new Float64Array(d);
  for (let r = 0; r < rows; r++) {
    const o = r * rowStride + colOff;
    tmp.fill(0);
    for (let k = 0; k < d; k++) {
      const v = src[o + k];
      if (v === 0) continue;
      for (let j = 0; j < d; j++) tmp[j] += v * (mT ? m.a[j * d + k] : m.a[k * d + j]);
    }
    for (let j = 0; j < d; j++) out[o + j] = tmp[j];
  }
}

/** `Mᵀ·block` for a block of d rows (rows r0…r0+d of a [rows, cols] matrix), in place into `out`. */
function leftTimesT(src: Float32Array, cols: number, r0: number, m: Mat, out: Float32Array): void {
  const d = m.d;
  const tmp = new Float64Array(d * cols);
  for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) {
    const v = m.a[k * d + i]; // (Mᵀ)[i][k]
    if (v === 0) continue;
    for (let j = 0; j < cols; j++) tmp[i * cols + j] += v * src[(r0 + k) * cols + j];
  }
  for (let i = 0; i < d * cols; i++) out[r0 * cols + i] = tmp[i];
}

/**
 * The locked weights (canonical Hugging Face names and layouts; every other tensor is shared
 * with `weights`). Query head h uses its KV group's A and B.
 */
export function applyMergeLock(c: ModelConfig, weights: Map<string, Tensor>, keys: MergeLockKeys): Map<string, Tensor> {
  const out = new Map(weights);
  const d = c.headDim;
  const g = c.heads / c.kvHeads;
  const get = (n: string) => {
    const t = weights.get(n);
    if (!t) throw new Error(`the model has no weight "${n}"`);
    return t;
  };
  const copy = (n: string) => {
    const t = { shape: get(n).shape.slice(), data: Float32Array.from(get(n).data) };
    out.set(n, t);
    return t;
  };
  for (let l = 0; l < c.layers; l++) {
    const A = keys.A[l];
    const B = keys.B[l];
    const AinvT = A.map((a) => transpose(inverse(a)));
    const Binv = B.map((b) => inverse(b));
    if (c.family === 'gpt2') {
      const p = `transformer.h.${l}.`;
      const E = c.hidden;
      const w = copy(`${p}attn.c_attn.weight`); // [E, 3E], math orientation
      const b = copy(`${p}attn.c_attn.bias`); // [3E]
      for (let h = 0; h < c.heads; h++) {
        const grp = Math.floor(h / g);
        blockTimes(get(`${p}attn.c_attn.weight`).data, E, 3 * E, h * d, A[grp], false, w.data);
        blockTimes(get(`${p}attn.c_attn.bias`).data, 1, 3 * E, h * d, A[grp], false, b.data);
        blockTimes(get(`${p}attn.c_attn.weight`).data, E, 3 * E, E + h * d, AinvT[grp], false, w.data);
        blockTimes(get(`${p}attn.c_attn.bias`).data, 1, 3 * E, E + h * d, AinvT[grp], false, b.data);
        blockTimes(get(`${p}attn.c_attn.weight`).data, E, 3 * E, 2 * E + h * d, B[grp], false, w.data);
        blockTimes(get(`${p}attn.c_attn.bias`).data, 1, 3 * E, 2 * E + h * d, B[grp], false, b.data);
      }
      const o = copy(`${p}attn.c_proj.weight`); // [E (= H·d), E]; head h's rows ← B⁻¹·rows
      for (let h = 0; h < c.heads; h++) leftTimesT(get(`${p}attn.c_proj.weight`).data, E, h * d, transpose(Binv[Math.floor(h / g)]), o.data);
      continue;
    }
    const p = `model.layers.${l}.self_attn.`;
    const H = c.heads;
    const Hkv = c.kvHeads;
    const hidden = c.hidden;
    // nn.Linear [out, in]: W_Q^h·A in math orientation is Aᵀ·block on the stored rows.
    const q = copy(`${p}q_proj.weight`);
    for (let h = 0; h < H; h++) leftTimesT(get(`${p}q_proj.weight`).data, hidden, h * d, A[Math.floor(h / g)], q.data);
    const k = copy(`${p}k_proj.weight`);
    const v = copy(`${p}v_proj.weight`);
    for (let j = 0; j < Hkv; j++) {
      leftTimesT(get(`${p}k_proj.weight`).data, hidden, j * d, AinvT[j], k.data);
      leftTimesT(get(`${p}v_proj.weight`).data, hidden, j * d, B[j], v.data);
    }
    if (c.qkvBias) {
      const qb = copy(`${p}q_proj.bias`);
      const kb = copy(`${p}k_proj.bias`);
      const vb = copy(`${p}v_proj.bias`);
      for (let h = 0; h < H; h++) blockTimes(get(`${p}q_proj.bias`).data, 1, H * d, h * d, A[Math.floor(h / g)], false, qb.data);
      for (let j = 0; j < Hkv; j++) {
        blockTimes(get(`${p}k_proj.bias`).data, 1, Hkv * d, j * d, AinvT[j], false, kb.data);
        blockTimes(get(`${p}v_proj.bias`).data, 1, Hkv * d, j * d, B[j], false, vb.data);
      }
    }
    // o_proj [hidden, H·d]: head h's columns (math: rows of W_O) ← block·B⁻ᵀ.
    const o = copy(`${p}o_proj.weight`);
    for (let h = 0; h < H; h++) blockTimes(get(`${p}o_proj.weight`).data, hidden, H * d, h * d, Binv[Math.floor(h / g)], true, o.data);
  }
  return out;
}

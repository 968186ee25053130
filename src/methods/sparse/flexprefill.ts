import { kvHeadOf } from '../../core/headMap';
import { blockCount, emptySelection, meanPoolBlocks, reasonCode, topkStable, type BlockSelection } from './selection';
import type { QKV } from '../../core/tensor';

/** FlexPrefill's parameters (ALGORITHMS.md §6). */
export interface FlexParams {
  block: number;
  /** γ: cumulative attention to cover. */
  gamma: number;
  /** τ: a head whose JS distance is below τ is query-aware. */
  tau: number;
  minBudget: number;
  maxBudget: number | null;
  /** Quirk F1: token budgets are divided by a literal 128 (faithful) or by the block size (intent). */
  divisor: '128' | 'b';
  /** Quirk F2: `0·ln 0` is NaN (faithful: the head becomes vertical-slash) or 0 (intent). */
  js: 'faithful' | 'intent';
}

/** What FlexPrefill decided for one head, for the views. */
export interface FlexHead {
  type: 'QA' | 'VS' | 'dense';
  /** JS distance between the pooled estimate and the true block distribution (NaN under Quirk F2). */
  djs: number;
  nV: number;
  nS: number;
  /** Vertical and slash statistics of the last block's attention (token level, length N). */
  v: Float32Array;
  sl: Float32Array;
  /** Their block sums, before the forced +∞ entries, and the estimated distribution ā. */
  Vb: Float32Array;
  Sb: Float32Array;
  abar: Float32Array;
  /** Tokens needed to cover γ of v and of sl (coverCount). */
  coverV: number;
  coverS: number;
}

export interface FlexResult {
  selection: BlockSelection;
  heads: FlexHead[];
  denseFallback: boolean;
  /** The code's ratio Σ|P| / (H·nb²), whose denominator includes the upper triangle (Quirk F4). */
  computationalRatio: number;
  overhead: number;
}

/** `#{m : cumsum(sortDesc(x))[m] ≤ γ} + 1` (can be n + 1), §0.6. */
export function coverCount(x: ArrayLike<number>, gamma: number): number {
  const s = Array.from(x).sort((a, b) => b - a);
  let c = 0;
  let n = 0;
  for (const v of s) {
    c += v;
    if (c <= gamma) n++;
  }
  return n + 1;
}

/** Indices, largest value first (lower index on ties), whose running sum stays ≤ T (§0.6). */
export function coverPrefix(x: ArrayLike<number>, T: number): number[] {
  const order = topkStable(x, x.length);
  const out: number[] = [];
  let c = 0;
  for (const i of order) {
    c += x[i];
    if (c > T) break;
    out.push(i);
  }
  return out;
}

/**
 * Square-root Jensen–Shannon divergence (natural log), in float32 as the reference computes it.
 * Faithful: an exact zero gives `0·ln 0 = NaN` (Quirk F2); intent: such terms count 0.
 */
export function jsDistance(p: ArrayLike<number>, q: ArrayLike<number>, intent = false): number {
  const f = Math.fround;
  let a = 0;
  let b = 0;
  for (let i = 0; i < p.length; i++) {
    const m = f((p[i] + q[i]) / 2);
    const tp = p[i] === 0 && intent ? 0 : f(p[i] * Math.log(f(p[i] / m)));
    const tq = q[i] === 0 && intent ? 0 : f(q[i] * Math.log(f(q[i] / m)));
    a = f(a + tp);
    b = f(b + tq);
  }
  return f(Math.sqrt(f(f(0.5 * a) + f(0.5 * b))));
}

/**
 * FlexPrefill's block selection per query head (§6): the last block of queries gives the true
 * vertical and slash distributions; their γ-cover sets the budgets (/128, Quirk F1); the JS
 * distance between the pooled estimate ā and the true block distribution decides query-aware
 * (QA) against vertical-slash (VS); the first key-block column and the main block diagonal are
 * forced; QA heads add one global γ·nb cover of the block-causal estimate (Quirk F3).
 * Causal prefill only; `N ≤ max(2b, ⌈min_budget/b⌉·b)` falls back to dense causal attention.
 */
export function flexPrefillSelect({ q, k }: Pick<QKV, 'q' | 'k'>, p: FlexParams): FlexResult {
  const [H, N, d] = q.shape;
  const Hkv = k.shape[0];
  const b = p.block;
  const nb = blockCount(N, b);
  const sel = emptySelection(H, N, N, b, b);
  const code = { forced: reasonCode('forced'), vertical: reasonCode('vertical'), slash: reasonCode('slash'), qa: reasonCode('query-aware') };
  const minB = Math.ceil(p.minBudget / b);
  const maxB = p.maxBudget === null ? nb : Math.min(Math.ceil(p.maxBudget / b), nb);
  const heads: FlexHead[] = [];
  const empty = new Float32Array(0);
  if (N <= Math.max(2 * b, minB * b)) {
    for (let h = 0; h < H; h++) {
      for (let I = 0; I < nb; I++) for (let J = 0; J <= I; J++) sel.codes[(h * nb + I) * nb + J] = code.forced;
      heads.push({ type: 'dense', djs: NaN, nV: nb, nS: nb, v: empty, sl: empty, Vb: empty, Sb: empty, abar: empty, coverV: 0, coverS: 0 });
    }
    // The code reports a computational ratio of 1 for its dense fallback.
    return { selection: sel, heads, denseFallback: true, computationalRatio: 1, overhead: 0 };
  }
  const inv = 1 / Math.sqrt(d);
  const div = p.divisor === '128' ? 128 : b;
  const clamp = (x: number) => Math.max(minB, Math.min(maxB, x));
  let overhead = 0;
  let selected = 0;
  const A = new Float32Array(b * N);
  const row = new Float64Array(N);
  for (let h = 0; h < H; h++) {
    const g = kvHeadOf(h, H, Hkv, 'contiguous');
    const kOff = g * N * d;
    // 1–2. The last b queries, pre-scaled, against every key (causal inside the last square), fp32.
    for (let i = 0; i < b; i++) {
      const qi = N - b + i;
      const qo = (h * N + qi) * d;
      let max = -Infinity;
      for (let j = 0; j <= qi; j++) {
        let s = 0;
        for (let c = 0; c < d; c++) s += q.data[qo + c] * inv * k.data[kOff + j * d + c];
        row[j] = Math.fround(s);
        if (row[j] > max) max = row[j];
      }
      let z = 0;
      for (let j = 0; j <= qi; j++) z += row[j] = Math.exp(row[j] - max);
      for (let j = 0; j < N; j++) A[i * N + j] = j <= qi ? row[j] / z : 0; // rounded to float32 on store
    }
    // 3. Vertical and slash statistics.
    const v = new Float32Array(N);
    const sl = new Float32Array(N);
    for (let i = 0; i < b; i++) {
      const qi = N - b + i;
      for (let j = 0; j <= qi; j++) {
        const w = A[i * N + j] / b;
        v[j] += w;
        sl[N - 1 - (qi - j)] += w;
      }
    }
    // 4–5. Budgets (Quirk F1) and block sums.
    const coverV = coverCount(v, p.gamma);
    const coverS = coverCount(sl, p.gamma);
    let nV = clamp(Math.floor(coverV / div) + 1);
    let nS = clamp(Math.floor(coverS / div) + 1);
    const Vb = new Float32Array(nb);
    const Sb = new Float32Array(nb);
    for (let t = 0; t < N; t++) {
      Vb[Math.floor(t / b)] += v[t];
      Sb[Math.floor(t / b)] += sl[t];
    }
    // 6. The estimate ā: the mean last-block query against the block-mean keys.
    const Kb = meanPoolBlocks(k.data, kOff, N, d, b);
    const qMean = new Float64Array(d);
    for (let i = 0; i < b; i++) for (let c = 0; c < d; c++) qMean[c] += (q.data[(h * N + N - b + i) * d + c] * inv) / b;
    // In float32, as the code: an estimate that underflows must be an exact zero for Quirk F2.
    const abar = Float32Array.from(softmax(Array.from({ length: nb }, (_, J) => dot(qMean, Kb, J * d, d))));
    // 7–8. Query-aware or vertical-slash.
    const djs = jsDistance(abar, Vb, p.js === 'intent');
    const qa = djs < p.tau;
    if (qa) nV = nS = minB;
    // 9–11. Forced blocks, vertical columns and slash diagonals.
    const Vf = Float32Array.from(Vb);
    const Sf = Float32Array.from(Sb);
    Vf[0] = Infinity;
    Sf[nb - 1] = Infinity;
    const put = (I: number, J: number, c: number) => {
      const at = (h * nb + I) * nb + J;
      if (sel.codes[at] === 0) sel.codes[at] = c;
    };
    put(0, 0, code.forced);
    const Jv = topkStable(Vf, nV);
    const offsets = topkStable(Sf, nS).map((T) => nb - 1 - T);
    // Forced first (column 0, main diagonal), then vertical, then slash: the precedence of the reasons.
    for (let I = 0; I < nb; I++) put(I, 0, code.forced);
    for (let I = 0; I < nb; I++) put(I, I, code.forced);
    for (const J of Jv) for (let I = J; I < nb; I++) put(I, J, code.vertical);
    for (const o of offsets) for (let I = 0; I + o < nb; I++) put(I + o, I, code.slash);
    overhead += 2 * d * b * N + 2 * d * nb;
    // 12. QA heads: one global γ·nb cover of the block-causal estimate.
    if (qa) {
      const flat = new Float64Array(nb * nb);
      for (let I = 0; I < nb; I++) {
        const n1 = Math.min(N, (I + 1) * b) - I * b;
        const qb = new Float64Array(d);
        for (let t = I * b; t < I * b + n1; t++) for (let c = 0; c < d; c++) qb[c] += (q.data[(h * N + t) * d + c] * inv) / n1;
        const a = softmax(Array.from({ length: I + 1 }, (_, J) => dot(qb, Kb, J * d, d)));
        for (let J = 0; J <= I; J++) flat[I * nb + J] = a[J];
      }
      for (const f of coverPrefix(flat, p.gamma * nb)) put(Math.floor(f / nb), f % nb, code.qa);
      overhead += 2 * d * nb * nb;
    }
    for (let n = 0; n < nb * nb; n++) if (sel.codes[h * nb * nb + n]) selected++;
    heads.push({ type: qa ? 'QA' : 'VS', djs, nV, nS, v, sl, Vb, Sb, abar, coverV, coverS });
  }
  return { selection: sel, heads, denseFallback: false, computationalRatio: selected / (H * nb * nb), overhead };
}

function dot(a: Float64Array, m: Float32Array, off: number, d: number): number {
  let s = 0;
  for (let c = 0; c < d; c++) s += a[c] * m[off + c];
  return s;
}

function softmax(x: number[]): number[] {
  const max = Math.max(...x);
  const e = x.map((v) => Math.exp(v - max));
  const z = e.reduce((s, v) => s + v, 0);
  return e.map((v) => v / z);
}

import { kvHeadOf } from '../../core/headMap';
import { emptySelection, reasonCode, type BlockSelection } from './selection';
import type { VideoGrid } from './videoGrid';
import type { QKV } from '../../core/tensor';

export interface DraftParams {
  /** The visual tokens' grid (F frames × h × w); any tokens after it are text (§9, the Hunyuan layout). */
  grid: VideoGrid;
  ph: number;
  pw: number;
  /** Sparsity σ: the keep ratio is r = 1 − σ. */
  sparsity: number;
}

/**
 * The reorder of §9 step 5: within each band of `ph` rows of a frame, for each column chunk of
 * width `pw`, each row's `pw` tokens, so every draft cell is one contiguous block of `ph·pw`
 * tokens in cell order; text tokens (after the visual ones) keep their places.
 */
export function draftReorder(g: VideoGrid, ph: number, pw: number, N: number): Int32Array {
  const { T: F, Hp: h, Wp: w } = g;
  const perm = new Int32Array(N);
  let p = 0;
  for (let f = 0; f < F; f++)
    for (let band = 0; band < h / ph; band++)
      for (let c = 0; c < w / pw; c++) for (let y = 0; y < ph; y++) for (let x = 0; x < pw; x++) perm[p++] = (f * h + band * ph + y) * w + c * pw + x;
  for (; p < N; p++) perm[p] = p;
  return perm;
}

/**
 * The per-head keep mask of a draft map (§9 step 3, Quirk R1): `k = int((1 − r)·n)` with
 * `r = 1 − σ`; none removed when `k = 0`, all when `k ≥ n`; otherwise θ is the k-th smallest
 * value and every entry ≥ θ is kept (n − k + 1 entries, plus ties).
 */
export function draftThreshold(values: ArrayLike<number>, sparsity: number): { keep: Uint8Array; theta: number | null } {
  const n = values.length;
  const r = 1 - sparsity;
  const k = Math.trunc((1 - r) * n);
  const keep = new Uint8Array(n);
  if (k === 0) return { keep: keep.fill(1), theta: null };
  if (k >= n) return { keep, theta: null };
  const sorted = Float64Array.from(values).sort();
  const theta = sorted[k - 1];
  for (let e = 0; e < n; e++) keep[e] = values[e] >= theta ? 1 : 0;
  return { keep, theta };
}

export interface DraftResult {
  selection: BlockSelection;
  perm: Int32Array;
  /** Draft cells S and the cell size B = ph·pw. */
  S: number;
  block: number;
  /** The low-resolution attention `[H, S, S]` and its keep mask; θ per head (null: keep all or none). */
  draft: Float32Array;
  keep: Uint8Array;
  theta: (number | null)[];
  /** Tokens after the visual grid (text), kept dense. */
  text: number;
  overhead: number;
}

/**
 * DraftAttention (§9): Q and K of each frame are average-pooled over `ph × pw` cells; the
 * softmax of the pooled scores (per head, 1/√d) is the draft map; its largest entries (Quirk R1)
 * choose which cell pairs are computed, as blocks of the reordered sequence; text rows and
 * columns are dense. Non-causal. The selection is in the reordered (permuted) order.
 */
export function draftSelect({ q, k }: Pick<QKV, 'q' | 'k'>, p: DraftParams): DraftResult {
  const [H, N, d] = q.shape;
  const Hkv = k.shape[0];
  const { T: F, Hp: h, Wp: w } = p.grid;
  const visual = F * h * w;
  if (visual > N) throw new Error(`the grid ${F} × ${h} × ${w} holds ${visual} visual tokens, more than the ${N} of this input; set frames × height × width to at most ${N} tokens`);
  if (!(p.ph >= 1 && h % p.ph === 0)) throw new Error(`the pool height ${p.ph} must divide the grid height ${h}`);
  if (!(p.pw >= 1 && w % p.pw === 0)) throw new Error(`the pool width ${p.pw} must divide the grid width ${w}`);
  const nb = h / p.ph;
  const nw = w / p.pw;
  const S = F * nb * nw;
  const B = p.ph * p.pw;
  const cellOf = draftCellOf(p.grid, p.ph, p.pw);
  const pool = (x: Float32Array, G: number): Float32Array => {
    const out = new Float32Array(G * S * d);
    const acc = new Float64Array(G * S * d);
    for (let g = 0; g < G; g++)
      for (let t = 0; t < visual; t++) {
        const o = (g * S + cellOf(t)) * d;
        const src = (g * N + t) * d;
        for (let c = 0; c < d; c++) acc[o + c] += x[src + c];
      }
    for (let e = 0; e < acc.length; e++) out[e] = acc[e] / B;
    return out;
  };
  const qb = pool(q.data, H);
  const kb = pool(k.data, Hkv);
  const scale = 1 / Math.sqrt(d);
  const draft = new Float32Array(H * S * S);
  const keep = new Uint8Array(H * S * S);
  const theta: (number | null)[] = [];
  const row = new Float64Array(S);
  for (let hd = 0; hd < H; hd++) {
    const g = kvHeadOf(hd, H, Hkv, 'contiguous');
    for (let a = 0; a < S; a++) {
      let m = -Infinity;
      for (let b = 0; b < S; b++) {
        let s = 0;
        for (let c = 0; c < d; c++) s += qb[(hd * S + a) * d + c] * kb[(g * S + b) * d + c];
        row[b] = Math.fround(Math.fround(s) * scale);
        m = Math.max(m, row[b]);
      }
      let z = 0;
      for (let b = 0; b < S; b++) z += (row[b] = Math.exp(row[b] - m));
      for (let b = 0; b < S; b++) draft[(hd * S + a) * S + b] = row[b] / z;
    }
    const t = draftThreshold(draft.subarray(hd * S * S, (hd + 1) * S * S), p.sparsity);
    keep.set(t.keep, hd * S * S);
    theta.push(t.theta);
  }
  const perm = draftReorder(p.grid, p.ph, p.pw, N);
  const selection = emptySelection(H, N, N, B, B);
  const nbk = selection.nkb;
  const on = reasonCode('threshold');
  const dense = reasonCode('forced');
  for (let hd = 0; hd < H; hd++)
    for (let a = 0; a < nbk; a++)
      for (let b = 0; b < nbk; b++) {
        // A block row or column holding text is dense; visual cell pairs follow the draft mask.
        const code = a >= S || b >= S ? dense : keep[(hd * S + a) * S + b] ? on : 0;
        selection.codes[(hd * nbk + a) * nbk + b] = code;
      }
  // Pooling reads every visual q and k once; the draft map is S² dot products and a softmax per head.
  const overhead = (H + Hkv) * visual * d + H * (2 * d * S * S + 3 * S * S);
  return { selection, perm, S, block: B, draft, keep, theta, text: N - visual, overhead };
}

/**
 * How well the draft predicts the true attention (§9 "draft-vs-true correlation"): the dense
 * weights pooled to cells (mean over a query cell's tokens of the sum over a key cell's tokens,
 * visual tokens only) against the draft map, Pearson's r per head.
 */
export function draftCorrelation(dense: Float32Array, draft: Float32Array, H: number, N: number, S: number, cellOf: (t: number) => number, visual: number): number[] {
  const out: number[] = [];
  const P = new Float64Array(S * S);
  const count = new Float64Array(S);
  for (let t = 0; t < visual; t++) count[cellOf(t)]++;
  for (let h = 0; h < H; h++) {
    P.fill(0);
    for (let i = 0; i < visual; i++) {
      const a = cellOf(i);
      const base = (h * N + i) * N;
      for (let j = 0; j < visual; j++) P[a * S + cellOf(j)] += dense[base + j];
    }
    for (let a = 0; a < S; a++) for (let b = 0; b < S; b++) P[a * S + b] /= count[a] || 1;
    const D = draft.subarray(h * S * S, (h + 1) * S * S);
    out.push(pearson(P, D));
  }
  return out;
}

function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let e = 0; e < n; e++) {
    mx += x[e];
    my += y[e];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let e = 0; e < n; e++) {
    sxy += (x[e] - mx) * (y[e] - my);
    sxx += (x[e] - mx) ** 2;
    syy += (y[e] - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0;
}

/** The draft cell of original visual token `t`. */
export function draftCellOf(g: VideoGrid, ph: number, pw: number): (t: number) => number {
  const { Hp: h, Wp: w } = g;
  const nb = h / ph;
  const nw = w / pw;
  return (t) => {
    const f = Math.floor(t / (h * w));
    const y = Math.floor((t % (h * w)) / w);
    return (f * nb + Math.floor(y / ph)) * nw + Math.floor((t % w) / pw);
  };
}

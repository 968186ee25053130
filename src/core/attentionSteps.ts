import type { QKV } from './tensor';

/** One head's queries, keys and values on the first `n` tokens (row-major `[n, d]`, `[n, dv]`). */
export interface HeadWindow {
  tokens: string[];
  n: number;
  d: number;
  dv: number;
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  causal: boolean;
  /** The logit scale (1/√d unless the source says otherwise). */
  scale: number;
  /** Query head and the KV head it reads. */
  head: number;
  kvHead: number;
}

/** Every intermediate matrix of one head's attention, `[n, n]` except the output `[n, dv]`. */
export interface AttentionSteps {
  /** q_i · k_j */
  raw: Float32Array;
  /** raw × scale */
  scaled: Float32Array;
  /** scaled, with −∞ where the causal mask hides key j from query i */
  masked: Float32Array;
  /** softmax of each masked row */
  weights: Float32Array;
  /** weights × V */
  output: Float32Array;
}

/**
 * Head `h`'s window on the first `n` tokens of a Q/K/V source (contiguous grouping: query head
 * h reads KV head ⌊h / (H/Hkv)⌋). With a causal mask the window's attention is exactly the full
 * sequence's on those rows (a query never sees a later token); without one, the window's rows
 * are normalised over the window only.
 */
export function headWindow(x: QKV, tokens: readonly string[], h: number, n: number, opts: { causal: boolean; scale: number | null }): HeadWindow {
  const [H, N, d] = x.q.shape;
  const [Hkv, , dv] = x.v.shape;
  if (h < 0 || h >= H) throw new Error(`head ${h} is not one of the ${H} heads`);
  const m = Math.max(1, Math.min(n, N));
  const kvHead = Math.floor(h / (H / Hkv));
  const rows = (t: Float32Array, head: number, width: number) => t.slice(head * N * width, head * N * width + m * width);
  return { tokens: tokens.slice(0, m), n: m, d, dv, q: rows(x.q.data, h, d), k: rows(x.k.data, kvHead, d), v: rows(x.v.data, kvHead, dv), causal: opts.causal, scale: opts.scale ?? 1 / Math.sqrt(d), head: h, kvHead };
}

/** The attention of a head window, one step at a time (float64 sums, stored as float32). */
export function attentionSteps(w: HeadWindow): AttentionSteps {
  const { n, d, dv } = w;
  const raw = new Float32Array(n * n);
  const scaled = new Float32Array(n * n);
  const masked = new Float32Array(n * n);
  const weights = new Float32Array(n * n);
  const output = new Float32Array(n * dv);
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += w.q[i * d + c] * w.k[j * d + c];
      raw[i * n + j] = s;
      scaled[i * n + j] = s * w.scale;
      const hidden = w.causal && j > i;
      masked[i * n + j] = hidden ? -Infinity : s * w.scale;
      if (!hidden) max = Math.max(max, s * w.scale);
    }
    let sum = 0;
    const e = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      e[j] = masked[i * n + j] === -Infinity ? 0 : Math.exp(scaled[i * n + j] - max);
      sum += e[j];
    }
    for (let j = 0; j < n; j++) weights[i * n + j] = e[j] / sum;
    for (let c = 0; c < dv; c++) {
      let o = 0;
      for (let j = 0; j < n; j++) o += (e[j] / sum) * w.v[j * dv + c];
      output[i * dv + c] = o;
    }
  }
  return { raw, scaled, masked, weights, output };
}

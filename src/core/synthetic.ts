import { gaussian, hashString, mulberry32 } from './prng';
import { kvHeadOf, type HeadLayout } from './headMap';
import type { QKV } from './tensor';

/** Patterns of the synthetic teaching source. */
export const PATTERNS = ['mixed', 'random', 'previous', 'self', 'sink', 'local', 'block', 'induction'] as const;
export type Pattern = (typeof PATTERNS)[number];

/** One sentence per pattern, shown in the UI next to the picker. */
export const PATTERN_INFO: Record<Pattern, { label: string; sentence: string }> = {
  mixed: { label: 'Mixed (one pattern per head)', sentence: 'Each head gets a different pattern below, cycling previous-token, self, sink, local, block, induction and random, so the head grid shows them side by side.' },
  random: { label: 'Random', sentence: 'Queries and keys are independent Gaussian vectors, so attention has no structure beyond chance: a baseline to compare the others against.' },
  previous: { label: 'Previous token', sentence: 'Each query matches the key of the token just before it, the first step of an induction circuit.' },
  self: { label: 'Diagonal (self)', sentence: 'Each query matches its own key, so every token attends mostly to itself.' },
  sink: { label: 'Attention sink', sentence: 'Every query matches the first token\'s key, the "attention sink" that real language models park unused attention on.' },
  local: { label: 'Local window', sentence: 'Each query matches the keys of itself and the few tokens before it (the window grows with the head index), like sliding-window attention.' },
  block: { label: 'Block-structured', sentence: 'Tokens attend within their own block of four consecutive tokens, the structure block-sparse methods like MoBA exploit.' },
  induction: { label: 'Copy / induction', sentence: 'A query matches the key of the token that followed an earlier occurrence of the same word, as induction heads do; without an earlier occurrence it falls back to the first token.' },
};

const MIXED_CYCLE: Pattern[] = ['previous', 'self', 'sink', 'local', 'block', 'induction', 'random'];

/** Parameters of the synthetic source (all seeded, so the same inputs give the same tensors). */
export interface SyntheticSpec {
  tokens: string[];
  pattern: Pattern;
  heads: number;
  kvHeads: number;
  headDim: number;
  /** Divides the logits of the pattern: low temperature gives sharp attention. */
  temperature: number;
  seed: number;
  layout?: HeadLayout;
  /** A video-like source on this grid instead of text (the pattern and tokens then come from the grid). */
  grid?: GridSpec;
}

/** Pattern used by query head `h`. */
export function patternOfHead(pattern: Pattern, h: number): Pattern {
  return pattern === 'mixed' ? MIXED_CYCLE[h % MIXED_CYCLE.length] : pattern;
}

type Slice = [number, number];

/**
 * Where each kind of code lives in a d-dimensional key. From d = 8 on, the kinds get disjoint
 * slices (positions about half, word types and blocks a quarter each, the sink one dimension of
 * its own), so a sink or block query cannot be fooled by a position code. Below 8 every kind
 * shares all d dimensions and the patterns are visibly noisier — itself a lesson about small d.
 */
function slices(d: number): { pos: Slice; word: Slice; block: Slice; sink: Slice } {
  if (d < 8) return { pos: [0, d], word: [0, d], block: [0, d], sink: [0, d] };
  const p = Math.floor((d - 1) / 2);
  const w = Math.floor((d - 1 - p) / 2);
  return { pos: [0, p], word: [p, p + w], block: [p + w, d - 1], sink: [d - 1, d] };
}

/**
 * `n` unit codes of length `d`, non-zero only in `slice`. The first codes (as many as the slice
 * has dimensions) are made exactly orthogonal by Gram–Schmidt; later ones are random.
 */
function codes(rand: () => number, n: number, d: number, [lo, hi]: Slice, out: Float32Array = new Float32Array(n * d)): Float32Array {
  const g = gaussian(rand);
  const dim = hi - lo;
  for (let t = 0; t < n; t++) {
    const o = t * d;
    for (let c = lo; c < hi; c++) out[o + c] = g();
    if (t < dim) {
      for (let u = 0; u < t; u++) {
        let dot = 0;
        for (let c = lo; c < hi; c++) dot += out[o + c] * out[u * d + c];
        for (let c = lo; c < hi; c++) out[o + c] -= dot * out[u * d + c];
      }
    }
    let nrm = 0;
    for (let c = lo; c < hi; c++) nrm += out[o + c] * out[o + c];
    const inv = nrm > 1e-12 ? 1 / Math.sqrt(nrm) : 0;
    if (inv === 0) out[o + lo] = 1;
    else for (let c = lo; c < hi; c++) out[o + c] *= inv;
  }
  return out;
}

/**
 * Builds seeded Q `[H, N, d]`, K `[Hkv, N, d]`, V `[Hkv, N, d]` whose attention shows the pattern.
 *
 * Every KV head draws unit codes, each kind in its own slice of the dimensions (see `slices`): one
 * per position `e_t`, one per word type `u_w`, one per block of four `c_b`, and a sink code `s`. Key `j` is the sum
 * `e_j + u_{word(j−1)} + c_{block(j)} + [j = 0]·s`, so one key carries every pattern and query heads
 * that share a KV head (GQA) can still differ. A query picks one code, scaled so that the matching
 * logit (after the 1/√d of attention) is `(3 + ln N) / temperature`, e.g. `q_i ∝ e_{i−1}` for previous-token.
 */
export function syntheticQKV(spec: SyntheticSpec): QKV {
  if (spec.grid) return videoQKV({ ...spec, grid: spec.grid });
  const { tokens, heads: H, kvHeads: Hkv, headDim: d, temperature, seed } = spec;
  const N = tokens.length;
  const layout = spec.layout ?? 'contiguous';
  if (N < 1) throw new Error('the synthetic source needs at least one token');
  if (H % Hkv !== 0) throw new Error(`${H} query heads cannot share ${Hkv} KV heads evenly; pick a divisor of ${H}`);
  const q = new Float32Array(H * N * d);
  const k = new Float32Array(Hkv * N * d);
  const v = new Float32Array(Hkv * N * d);
  const words = tokens.map((t) => t.toLowerCase());
  const nBlocks = Math.ceil(N / 4);

  // Per KV head codes, each in its own slice of the d dimensions so that the components of a key
  // do not interfere: positions, word types, blocks, and one dimension for the sink (d ≥ 8).
  const sl = slices(d);
  const pos: Float32Array[] = [];
  const blocks: Float32Array[] = [];
  const sinks: Float32Array[] = [];
  const wordCode = new Map<string, Float32Array>();
  const codeOf = (kv: number, w: string): Float32Array => {
    const key = `${kv}\u0000${w}`;
    let c = wordCode.get(key);
    if (!c) {
      c = new Float32Array(d);
      codes(mulberry32(hashString(w) ^ Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(kv + 7, 0x85ebca6b)), 1, d, sl.word, c);
      wordCode.set(key, c);
    }
    return c;
  };
  for (let kv = 0; kv < Hkv; kv++) {
    const rand = mulberry32((seed * 1000003 + kv * 7919 + 17) >>> 0);
    const e = codes(rand, N, d, sl.pos);
    const b = codes(rand, nBlocks, d, sl.block);
    const s = codes(rand, 1, d, sl.sink);
    pos.push(e);
    blocks.push(b);
    sinks.push(s);
    const gv = gaussian(rand);
    for (let i = 0; i < N * d; i++) v[kv * N * d + i] = gv();
    for (let j = 0; j < N; j++) {
      const off = (kv * N + j) * d;
      const prevWord = j > 0 ? codeOf(kv, words[j - 1]) : null;
      const bj = Math.floor(j / 4) * d;
      for (let c = 0; c < d; c++) {
        k[off + c] = e[j * d + c] + b[bj + c] + (prevWord ? prevWord[c] : 0) + (j === 0 ? s[c] : 0);
      }
    }
  }

  // Queries. The attention logit is q·k/√d, so a query √d·(strength/T)·code scores strength/T on its
  // match. strength = 3 + ln N keeps the match ahead of the N unmatched keys at any length.
  const strength = 3 + Math.log(N);
  for (let h = 0; h < H; h++) {
    const kv = kvHeadOf(h, H, Hkv, layout);
    const p = patternOfHead(spec.pattern, h);
    const rand = mulberry32((seed * 31 + h * 104729 + 3) >>> 0);
    const jitter = 0.8 + 0.4 * rand(); // heads of one pattern differ a little in sharpness
    const amp = (Math.sqrt(d) * strength * jitter) / Math.max(temperature, 1e-3);
    const e = pos[kv];
    const g = gaussian(rand);
    for (let i = 0; i < N; i++) {
      const off = (h * N + i) * d;
      const add = (src: Float32Array, so: number, w: number) => {
        for (let c = 0; c < d; c++) q[off + c] += amp * w * src[so + c];
      };
      switch (p) {
        case 'random':
          // keys have norm ≈ 2 (a sum of about four unit codes): logits then have a std of ≈ 1.5/T
          for (let c = 0; c < d; c++) q[off + c] = (g() * 0.75 * Math.sqrt(d)) / Math.max(temperature, 1e-3);
          break;
        case 'previous':
          add(e, Math.max(i - 1, 0) * d, 1);
          break;
        case 'self':
          add(e, i * d, 1);
          break;
        case 'sink':
          add(sinks[kv], 0, 1);
          break;
        case 'local': {
          const w = 2 + (h % 3);
          for (let m = 0; m < w && i - m >= 0; m++) add(e, (i - m) * d, 1);
          break;
        }
        case 'block':
          add(blocks[kv], Math.floor(i / 4) * d, 1);
          break;
        case 'induction': {
          add(codeOf(kv, words[i]), 0, 1);
          add(sinks[kv], 0, 0.6);
          break;
        }
        default:
          break;
      }
    }
  }
  return { q: { shape: [H, N, d], data: q }, k: { shape: [Hkv, N, d], data: k }, v: { shape: [Hkv, N, d], data: v } };
}

/** A video-like grid of tokens: `T` frames of `Hp × Wp` latent patches (ALGORITHMS.md §0.1). */
export interface GridSpec {
  T: number;
  Hp: number;
  Wp: number;
}

/** Head patterns of the synthetic video source, cycled over the heads. */
export const VIDEO_PATTERNS = ['place', 'frame', 'object', 'random'] as const;
export type VideoPattern = (typeof VIDEO_PATTERNS)[number];
export const VIDEO_PATTERN_INFO: Record<VideoPattern, string> = {
  place: 'the same place in every frame, and its neighbours (a spatial head: 2D chunks suit it)',
  frame: 'nearby patches of its own frame and the frames next to it (a local spatio-temporal head: 3D chunks suit it)',
  object: 'the moving square in every frame, wherever it is (an object-tracking head); other patches look at their own place',
  random: 'no structure (a baseline)',
};

/** Token labels of a grid: `f1 r2 c3` is frame 1, row 2, column 3 (flattened time-slowest). */
export function gridTokens(g: GridSpec): string[] {
  const out: string[] = [];
  for (let t = 0; t < g.T; t++) for (let y = 0; y < g.Hp; y++) for (let x = 0; x < g.Wp; x++) out.push(`f${t} r${y} c${x}`);
  return out;
}

/** Whether patch (y, x) of frame t is on the square that moves one column right per frame. */
export function onMovingSquare(g: GridSpec, t: number, y: number, x: number): boolean {
  const side = Math.max(1, Math.round(Math.min(g.Hp, g.Wp) / 3));
  const y0 = Math.floor((g.Hp - side) / 2);
  const x0 = (t + Math.floor(g.Wp / 4)) % Math.max(1, g.Wp - side + 1);
  return y >= y0 && y < y0 + side && x >= x0 && x < x0 + side;
}

/**
 * A seeded video-like source on a `T × Hp × Wp` grid, for the methods built for video
 * transformers (VMoBA, DraftAttention). Keys carry smooth codes of their place and their frame
 * (random Fourier features, so nearby places and frames have similar codes) and, on a square
 * that moves across the frames, an object code. Query heads cycle through VIDEO_PATTERNS.
 * Shapes as {@link syntheticQKV}; attention is meant to be bidirectional.
 */
export function videoQKV(spec: Omit<SyntheticSpec, 'tokens' | 'pattern'> & { grid: GridSpec }): QKV {
  const { grid: g, heads: H, kvHeads: Hkv, headDim: d, temperature, seed } = spec;
  const N = g.T * g.Hp * g.Wp;
  if (N < 1) throw new Error('the video grid needs at least one token');
  if (H % Hkv !== 0) throw new Error(`${H} query heads cannot share ${Hkv} KV heads evenly; pick a divisor of ${H}`);
  const layout = spec.layout ?? 'contiguous';
  // Slices: place features about half of d, frame features a quarter, the object code the rest.
  const dp = Math.max(1, Math.floor(d / 2));
  const df = Math.max(0, Math.floor(d / 4));
  const q = new Float32Array(H * N * d);
  const k = new Float32Array(Hkv * N * d);
  const v = new Float32Array(Hkv * N * d);
  const place: Float32Array[] = [];
  const frame: Float32Array[] = [];
  const object: Float32Array[] = [];
  const feature = (rand: () => number, n: number, coords: (i: number) => number[], scale: number, width: number): Float32Array => {
    // cos(ω·p + φ)·√(2/width): similarity ≈ exp(−|Δp|² / (2·scale²)) between positions p.
    const gs = gaussian(rand);
    const dims = coords(0).length;
    const w = Array.from({ length: width }, () => Array.from({ length: dims }, () => gs() / scale));
    const ph = Array.from({ length: width }, () => rand() * 2 * Math.PI);
    const out = new Float32Array(n * width);
    for (let i = 0; i < n; i++) {
      const p = coords(i);
      for (let c = 0; c < width; c++) {
        let a = ph[c];
        for (let e = 0; e < dims; e++) a += w[c][e] * p[e];
        out[i * width + c] = Math.cos(a) * Math.sqrt(2 / width);
      }
    }
    return out;
  };
  for (let kv = 0; kv < Hkv; kv++) {
    const rand = mulberry32((seed * 1000003 + kv * 7919 + 29) >>> 0);
    place.push(feature(rand, g.Hp * g.Wp, (i) => [Math.floor(i / g.Wp), i % g.Wp], 1.2, dp));
    frame.push(df > 0 ? feature(rand, g.T, (t) => [t], 0.8, df) : new Float32Array(0));
    const o = codes(rand, 1, d, d > dp + df ? [dp + df, d] : [0, d]);
    object.push(o);
    const gv = gaussian(rand);
    for (let i = 0; i < N * d; i++) v[kv * N * d + i] = gv();
    for (let t = 0; t < g.T; t++)
      for (let y = 0; y < g.Hp; y++)
        for (let x = 0; x < g.Wp; x++) {
          const tok = (t * g.Hp + y) * g.Wp + x;
          const off = (kv * N + tok) * d;
          const pi = y * g.Wp + x;
          for (let c = 0; c < dp; c++) k[off + c] += place[kv][pi * dp + c];
          for (let c = 0; c < df; c++) k[off + dp + c] += frame[kv][t * df + c];
          if (onMovingSquare(g, t, y, x)) for (let c = 0; c < d; c++) k[off + c] += o[c];
        }
  }
  const strength = 3 + Math.log(N);
  for (let h = 0; h < H; h++) {
    const kv = kvHeadOf(h, H, Hkv, layout);
    const pattern = VIDEO_PATTERNS[h % VIDEO_PATTERNS.length];
    const rand = mulberry32((seed * 31 + h * 104729 + 5) >>> 0);
    const jitter = 0.8 + 0.4 * rand();
    const amp = (Math.sqrt(d) * strength * jitter) / Math.max(temperature, 1e-3);
    const gq = gaussian(rand);
    for (let t = 0; t < g.T; t++)
      for (let y = 0; y < g.Hp; y++)
        for (let x = 0; x < g.Wp; x++) {
          const tok = (t * g.Hp + y) * g.Wp + x;
          const off = (h * N + tok) * d;
          const pi = y * g.Wp + x;
          if (pattern === 'random') {
            for (let c = 0; c < d; c++) q[off + c] = (gq() * 0.75 * Math.sqrt(d)) / Math.max(temperature, 1e-3);
          } else if (pattern === 'object' && onMovingSquare(g, t, y, x)) {
            for (let c = 0; c < d; c++) q[off + c] = amp * object[kv][c];
          } else {
            for (let c = 0; c < dp; c++) q[off + c] = amp * place[kv][pi * dp + c];
            if (pattern === 'frame') for (let c = 0; c < df; c++) q[off + dp + c] = amp * frame[kv][t * df + c];
          }
        }
  }
  return { q: { shape: [H, N, d], data: q }, k: { shape: [Hkv, N, d], data: k }, v: { shape: [Hkv, N, d], data: v } };
}

import { kvHeadOf } from '../../core/headMap';
import { blockCount, emptySelection, meanPoolBlocks, reasonCode, topkStable, type BlockSelection } from './selection';
import { checkGrid, permuteRows, type VideoGrid } from './videoGrid';
import type { QKV } from '../../core/tensor';

/** VMoBA's block partition types (§5.1). */
export type Partition = '1d' | '2d' | '3d';
/** Threshold scopes of §5.3. */
export type VmobaScope = 'query_head' | 'block' | 'overall' | 'head_global';

export interface VmobaParams {
  grid: VideoGrid;
  partition: Partition;
  /** 1D: frames per chunk (may be fractional: `B = int(ct·Hp·Wp)`). 3D: frames per chunk (a divisor of T). */
  ct: number;
  /** 2D/3D: chunk height and width (divisors of Hp and Wp). */
  ch: number;
  cw: number;
  mode: 'topk' | 'threshold';
  topk: number;
  scope: VmobaScope;
  tau: number;
}

/** The permutation making every chunk contiguous, and the chunk size (§5.1). */
export function vmobaPartition(g: VideoGrid, partition: Partition, ct: number, ch: number, cw: number): { perm: Int32Array; block: number } {
  const { T, Hp, Wp } = g;
  const N = T * Hp * Wp;
  const perm = new Int32Array(N);
  const tok = (t: number, y: number, x: number) => (t * Hp + y) * Wp + x;
  if (partition === '1d') {
    const B = Math.trunc(ct * Hp * Wp);
    if (!(B >= 1)) throw new Error(`a 1D chunk of ${ct} frames holds ${B} tokens; it needs at least one (frames per chunk × ${Hp * Wp} tokens per frame ≥ 1)`);
    for (let p = 0; p < N; p++) perm[p] = p;
    return { perm, block: B };
  }
  const divides = (a: number, b: number, name: string, whole: string) => {
    if (!Number.isInteger(a) || a < 1 || b % a !== 0) throw new Error(`the ${partition.toUpperCase()} chunk ${name} ${a} must divide the ${whole} ${b}`);
  };
  divides(ch, Hp, 'height', 'grid height');
  divides(cw, Wp, 'width', 'grid width');
  let p = 0;
  if (partition === '2d') {
    for (let a = 0; a < Hp / ch; a++)
      for (let b = 0; b < Wp / cw; b++)
        for (let t = 0; t < T; t++) for (let y = 0; y < ch; y++) for (let x = 0; x < cw; x++) perm[p++] = tok(t, a * ch + y, b * cw + x);
    return { perm, block: T * ch * cw };
  }
  divides(ct, T, 'frame count', 'number of frames');
  for (let c = 0; c < T / ct; c++)
    for (let a = 0; a < Hp / ch; a++)
      for (let b = 0; b < Wp / cw; b++)
        for (let t = 0; t < ct; t++) for (let y = 0; y < ch; y++) for (let x = 0; x < cw; x++) perm[p++] = tok(c * ct + t, a * ch + y, b * cw + x);
  return { perm, block: ct * ch * cw };
}

/** The partition layer `l` uses in the cyclic 1D → 2D → 3D schedule (§5.1, offset and order [U]). */
export function partitionOfLayer(l: number): Partition {
  return (['1d', '2d', '3d'] as const)[((l % 3) + 3) % 3];
}

/**
 * Threshold selection inside one scope (§5.3 steps 1–5). `gate` lists the scope's entries in
 * flat-index order, `self` marks the self entries. Returns the chosen non-self entries (indices
 * into the scope), in selection order. At least one is chosen when any exists (Quirk V1).
 */
export function thresholdScope(gate: ArrayLike<number>, self: ArrayLike<boolean>, tau: number): { chosen: number[]; ratios: number[]; rem: number } {
  const n = gate.length;
  let lo = Infinity;
  let hi = -Infinity;
  for (let e = 0; e < n; e++) {
    lo = Math.min(lo, gate[e]);
    hi = Math.max(hi, gate[e]);
  }
  let den = Math.fround(hi - lo);
  if (den <= 1e-6) den = 1;
  // Sums in double (closer to torch's pairwise float32 sums than a running float32 sum), then rounded.
  const g = new Float32Array(n);
  let sSelf = 0;
  let sAll = 0;
  for (let e = 0; e < n; e++) {
    g[e] = (gate[e] - lo) / den;
    sAll += g[e];
    if (self[e]) sSelf += g[e];
  }
  const denom = Math.fround(sAll + 1e-6);
  const rem = Math.max(Math.fround(tau - Math.fround(sSelf / denom)), 0);
  const others: number[] = [];
  for (let e = 0; e < n; e++) if (!self[e]) others.push(e);
  if (others.length === 0) return { chosen: [], ratios: [], rem };
  others.sort((a, b) => (g[b] > g[a] ? 1 : g[b] < g[a] ? -1 : a - b));
  const ratios: number[] = [];
  let cum = 0;
  let cut = others.length - 1;
  for (let m = 0; m < others.length; m++) {
    cum += g[others[m]];
    const r = Math.fround(cum / denom);
    ratios.push(r);
    if (r >= rem) {
      cut = m;
      break;
    }
  }
  return { chosen: others.slice(0, cut + 1), ratios, rem };
}

export interface VmobaResult {
  selection: BlockSelection;
  perm: Int32Array;
  block: number;
  nchunks: number;
  /** Gates `[H, N, nc]` of the permuted queries (float32, no scale). */
  gate: Float32Array;
  /** Quirk V2: no non-self chunk was selected anywhere, so the code attends densely. */
  denseFallback: boolean;
  overhead: number;
}

/**
 * VMoBA (§5): the layer's partition makes every chunk contiguous in permuted order; the gate
 * of a permuted query and a chunk is `q · mean(K over the chunk)` (float32, no scale); the self
 * chunk is always kept and others are chosen by top-k or by a cumulative threshold in a scope.
 * The selection is in permuted order (`rowsPer` = 1, key blocks = chunks); non-causal.
 */
export function vmobaSelect({ q, k }: Pick<QKV, 'q' | 'k'>, p: VmobaParams): VmobaResult {
  const [H, N, d] = q.shape;
  const Hkv = k.shape[0];
  checkGrid(p.grid, N, 'this input');
  const { perm, block: B } = vmobaPartition(p.grid, p.partition, p.ct, p.ch, p.cw);
  const nc = blockCount(N, B);
  const qp = permuteRows(q.data, H, N, d, perm);
  const kp = permuteRows(k.data, Hkv, N, d, perm);
  const pooled = Array.from({ length: Hkv }, (_, g) => meanPoolBlocks(kp, g * N * d, N, d, B));
  const gate = new Float32Array(H * N * nc);
  for (let h = 0; h < H; h++) {
    const kb = pooled[kvHeadOf(h, H, Hkv, 'contiguous')];
    for (let i = 0; i < N; i++) {
      const qo = (h * N + i) * d;
      for (let c = 0; c < nc; c++) {
        let s = 0;
        for (let x = 0; x < d; x++) s += qp[qo + x] * kb[c * d + x];
        gate[(h * N + i) * nc + c] = s;
      }
    }
  }
  const selection = emptySelection(H, N, N, 1, B);
  const codes = selection.codes;
  const forced = reasonCode('forced');
  const chosenCode = reasonCode(p.mode === 'topk' ? 'topk' : 'threshold');
  const selfOf = (i: number) => Math.floor(i / B);
  for (let h = 0; h < H; h++) for (let i = 0; i < N; i++) codes[(h * N + i) * nc + selfOf(i)] = forced;
  if (p.mode === 'topk') {
    const row = new Float32Array(nc);
    for (let h = 0; h < H; h++)
      for (let i = 0; i < N; i++) {
        const base = (h * N + i) * nc;
        for (let c = 0; c < nc; c++) row[c] = gate[base + c] + (c === selfOf(i) ? 1e9 : 0);
        for (const c of topkStable(row, p.topk)) if (c !== selfOf(i)) codes[base + c] = chosenCode;
      }
  } else {
    // Entries of a scope, in the flat order of the code's [c, h, i] layout restricted to it.
    const scopes: { h: number; i: number; c: number }[][] = [];
    const at = (h: number, i: number, c: number) => ({ h, i, c });
    if (p.scope === 'query_head') {
      for (let h = 0; h < H; h++) for (let i = 0; i < N; i++) scopes.push(Array.from({ length: nc }, (_, c) => at(h, i, c)));
    } else if (p.scope === 'block') {
      for (let c = 0; c < nc; c++) {
        const s = [];
        for (let h = 0; h < H; h++) for (let i = 0; i < N; i++) s.push(at(h, i, c));
        scopes.push(s);
      }
    } else if (p.scope === 'head_global') {
      for (let h = 0; h < H; h++) {
        const s = [];
        for (let c = 0; c < nc; c++) for (let i = 0; i < N; i++) s.push(at(h, i, c));
        scopes.push(s);
      }
    } else {
      const s = [];
      for (let c = 0; c < nc; c++) for (let h = 0; h < H; h++) for (let i = 0; i < N; i++) s.push(at(h, i, c));
      scopes.push(s);
    }
    for (const s of scopes) {
      const g = s.map((e) => gate[(e.h * N + e.i) * nc + e.c]);
      const self = s.map((e) => e.c === selfOf(e.i));
      for (const e of thresholdScope(g, self, p.tau).chosen) codes[(s[e].h * N + s[e].i) * nc + s[e].c] = chosenCode;
    }
  }
  let any = false;
  for (let x = 0; x < codes.length && !any; x++) any = codes[x] === chosenCode;
  // Gate: H·N·nc dot products of length d, plus the key pooling per KV head.
  const overhead = 2 * d * H * N * nc + Hkv * N * d;
  return { selection, perm, block: B, nchunks: nc, gate, denseFallback: !any, overhead };
}

import { fail, IMPORT_CAPS } from './errors';
import { fmtShape, sizeOf, type Tensor } from '../core/tensor';
import type { ArrayLayout, AxisRole, ImportedLayer, PendingArray } from './types';

const LEADING: AxisRole[] = ['layer', 'batch', 'head'];

/** Every ordered choice of `n` distinct leading roles. */
function arrangements(n: number): AxisRole[][] {
  if (n === 0) return [[]];
  const out: AxisRole[][] = [];
  for (const r of LEADING) for (const rest of arrangements(n - 1)) if (!rest.includes(r)) out.push([r, ...rest]);
  return out;
}

/** The layouts an attention array of this shape allows: any order of layer/batch/head axes, then query, key. */
export function layoutOptions(shape: number[]): AxisRole[][] {
  if (shape.length < 2 || shape.length > 5) fail('shape', `an attention array has 2 to 5 dimensions ([q, k] up to [layers, batch, heads, q, k]); this one is ${fmtShape(shape)}`);
  return arrangements(shape.length - 2).map((lead) => [...lead, 'query', 'key']);
}

/**
 * Guesses the axis roles of an attention array from its shape, with reasons:
 * `[q,k]`, `[H,q,k]`, `[1,H,q,k]` (one Hugging Face layer), `[L,H,q,k]` (Inspectus),
 * `[L,1,H,q,k]` (Tensor2Tensor, BertViz, `torch.stack(outputs.attentions)`).
 */
export function guessRoles(shape: number[]): { roles: AxisRole[]; reasons: string[]; ambiguous: boolean } {
  const r = shape.length;
  const s = (i: number) => shape[i];
  const qk: AxisRole[] = ['query', 'key'];
  const sq = s(r - 2) === s(r - 1) ? 'the last two axes are equal, as queries × keys of self-attention' : 'the last two axes are taken as queries × keys (cross-attention: they differ)';
  if (r === 2) return { roles: qk, reasons: [sq, 'two dimensions: one head'], ambiguous: false };
  if (r === 3) return { roles: ['head', ...qk], reasons: [sq, 'three dimensions: [heads, q, k], as CircuitsVis and Inspectus write one layer'], ambiguous: false };
  if (r === 4) {
    if (s(0) === 1) return { roles: ['batch', 'head', ...qk], reasons: [sq, 'the first axis has size 1: a batch of one, as one Hugging Face layer (1, heads, n, n)'], ambiguous: s(1) === 1 };
    return { roles: ['layer', 'head', ...qk], reasons: [sq, `four dimensions: [layers, heads, q, k] as Inspectus writes them; ${s(0)} layers × ${s(1)} heads could also be heads × layers or a batch`], ambiguous: true };
  }
  if (s(1) === 1) return { roles: ['layer', 'batch', 'head', ...qk], reasons: [sq, 'five dimensions with a size-1 second axis: [layers, batch, heads, q, k] (Tensor2Tensor, BertViz, torch.stack of Hugging Face attentions)'], ambiguous: false };
  if (s(0) === 1) return { roles: ['batch', 'layer', 'head', ...qk], reasons: [sq, 'five dimensions with a size-1 first axis: [batch, layers, heads, q, k]'], ambiguous: true };
  return { roles: ['layer', 'batch', 'head', ...qk], reasons: [sq, `five dimensions: [layers, batch, heads, q, k] (Tensor2Tensor); the batch has ${s(1)} items`], ambiguous: true };
}

/**
 * Whether the values are attention weights (each row over the keys in [0, 1] and summing to 1,
 * or to 0 for a fully masked row) or scores to be softmaxed. Looks at up to 4096 rows spread
 * over the array. −∞ means masked scores.
 */
export function detectValues(t: Tensor): { values: 'weights' | 'scores'; reason: string } {
  const cols = t.shape[t.shape.length - 1];
  const rows = cols > 0 ? t.data.length / cols : 0;
  const step = Math.max(1, Math.floor(rows / 4096));
  let bad = 0;
  let seen = 0;
  for (let r = 0; r < rows; r += step) {
    let sum = 0;
    let inRange = true;
    const base = r * cols;
    for (let c = 0; c < cols; c++) {
      const x = t.data[base + c];
      if (!(x >= -1e-6 && x <= 1 + 1e-6)) inRange = false;
      sum += x;
    }
    seen++;
    if (!inRange || (Math.abs(sum - 1) > 2e-3 && Math.abs(sum) > 1e-6)) bad++;
  }
  if (seen > 0 && bad === 0) return { values: 'weights', reason: 'every row checked lies in [0, 1] and sums to 1: attention weights' };
  return { values: 'scores', reason: `${bad} of ${seen} rows checked do not sum to 1 (or leave [0, 1]): read as scores (logits) and softmaxed over the keys` };
}

/** First NaN or +∞ (and, for weights, −∞) as a multi-index, or null. */
export function firstBadValue(t: Tensor, allowNegInf: boolean): string | null {
  const d = t.data;
  for (let i = 0; i < d.length; i++) {
    const x = d[i];
    if (x === x && x !== Infinity && (allowNegInf || x !== -Infinity)) continue;
    const idx: number[] = [];
    let rest = i;
    for (let a = t.shape.length - 1; a >= 0; a--) {
      idx.unshift(rest % t.shape[a]);
      rest = Math.floor(rest / t.shape[a]);
    }
    return `${Number.isNaN(x) ? 'NaN' : x > 0 ? '+Infinity' : '-Infinity'} at [${idx.join(', ')}]`;
  }
  return null;
}

/** Softmax over the last axis in place of a copy; rows of all −∞ become zeros (§0.3). */
export function softmaxRows(src: Float32Array, cols: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let base = 0; base < src.length; base += cols) {
    let m = -Infinity;
    for (let c = 0; c < cols; c++) if (src[base + c] > m) m = src[base + c];
    if (m === -Infinity) continue;
    let z = 0;
    for (let c = 0; c < cols; c++) z += out[base + c] = Math.exp(src[base + c] - m);
    for (let c = 0; c < cols; c++) out[base + c] /= z;
  }
  return out;
}

/** Whether head maps `[H, Nq, Nk]` put no weight above the (bottom-right aligned) diagonal. */
export function looksCausal(w: Tensor): boolean {
  const [H, Nq, Nk] = w.shape;
  if (Nk < 2) return false;
  const off = Nk - Nq;
  for (let h = 0; h < H; h++)
    for (let i = 0; i < Nq; i++) for (let j = Math.max(0, i + off + 1); j < Nk; j++) if (w.data[(h * Nq + i) * Nk + j] !== 0) return false;
  return true;
}

/**
 * Splits an attention array into layers of `[H, Nq, Nk]` weights by a confirmed layout. Head
 * blocks are views of the file's data where the layout keeps them contiguous, copies otherwise.
 */
export function applyLayout(t: Tensor, layout: ArrayLayout, tokens: { query: string[]; key: string[] }, labelOf: (l: number) => string = (l) => `layer ${l}`): ImportedLayer[] {
  const { roles } = layout;
  const shape = t.shape;
  if (roles.length !== shape.length || roles[roles.length - 2] !== 'query' || roles[roles.length - 1] !== 'key') fail('shape', `the layout [${roles.join(', ')}] does not fit the array ${fmtShape(shape)}`);
  const stride = shape.map((_, i) => sizeOf(shape.slice(i + 1)));
  const axis = (r: AxisRole) => roles.indexOf(r);
  const [la, ba, ha] = [axis('layer'), axis('batch'), axis('head')];
  const L = la < 0 ? 1 : shape[la];
  const B = ba < 0 ? 1 : shape[ba];
  const H = ha < 0 ? 1 : shape[ha];
  const Nq = shape[shape.length - 2];
  const Nk = shape[shape.length - 1];
  if (L > IMPORT_CAPS.maxLayers) fail('cap', `${L} layers is more than the cap of ${IMPORT_CAPS.maxLayers}`);
  if (H > IMPORT_CAPS.maxHeads) fail('cap', `${H} heads is more than the cap of ${IMPORT_CAPS.maxHeads}`);
  if (Nq > IMPORT_CAPS.maxTokens || Nk > IMPORT_CAPS.maxTokens) fail('cap', `the attention is ${Nq} × ${Nk} tokens; the views show at most ${IMPORT_CAPS.maxTokens} (a longer map is not read whole: export the model's Q and K instead, and open them in the long-context view, ?long=8192)`);
  if (Nq === 0 || Nk === 0 || H === 0 || L === 0) fail('shape', `the array ${fmtShape(shape)} has an empty axis`);
  const b = layout.batchIndex;
  if (!Number.isInteger(b) || b < 0 || b >= B) fail('shape', `batch item ${b} does not exist; the batch has ${B}`);
  if (tokens.query.length !== Nq || tokens.key.length !== Nk) {
    fail('tokens', `the file has ${tokens.query.length === tokens.key.length ? `${tokens.key.length} tokens` : `${tokens.query.length} query and ${tokens.key.length} key tokens`} but the attention is ${Nq} queries × ${Nk} keys`);
  }
  const n2 = Nq * Nk;
  const layers: ImportedLayer[] = [];
  for (let l = 0; l < L; l++) {
    const base = (la < 0 ? 0 : l * stride[la]) + (ba < 0 ? 0 : b * stride[ba]);
    const hs = ha < 0 ? 0 : stride[ha];
    let data: Float32Array;
    if (hs === n2 || H === 1) data = t.data.subarray(base, base + H * n2);
    else {
      data = new Float32Array(H * n2);
      for (let h = 0; h < H; h++) data.set(t.data.subarray(base + h * hs, base + h * hs + n2), h * n2);
    }
    if (layout.values === 'scores') data = softmaxRows(data, Nk);
    const weights = { shape: [H, Nq, Nk], data };
    layers.push({ label: labelOf(l), weights, queryTokens: tokens.query, keyTokens: tokens.key, causal: looksCausal(weights), scale: null });
  }
  return layers;
}

const AXIS_NAMES: Record<AxisRole, string> = { layer: 'layers', batch: 'batch', head: 'heads', query: 'queries', key: 'keys' };

/** A layout in words, e.g. "layers 12 × heads 12 × queries 512 × keys 512". */
export function describeLayout(roles: AxisRole[], shape: number[]): string {
  return roles.map((r, i) => `${AXIS_NAMES[r]} ${shape[i]}`).join(' × ');
}

/** Builds the pending description of an array for the confirm dialog. */
export function pendingOf(name: string, format: string, t: Tensor): PendingArray {
  const options = layoutOptions(t.shape);
  const g = guessRoles(t.shape);
  const v = detectValues(t);
  const ordered = [g.roles, ...options.filter((o) => o.join() !== g.roles.join())];
  return { name, format, shape: t.shape, guess: { roles: g.roles, batchIndex: 0, values: v.values }, options: ordered, reasons: [...g.reasons, v.reason], ambiguous: g.ambiguous };
}

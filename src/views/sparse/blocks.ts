import { cellRect, type ZoomTransform } from '../../core/layout';
import { invertPerm, type BlockSelection, type Reason } from '../../core/blockSelection';

/** Reason colours: the Okabe–Ito palette (colour-blind safe), one per reason of §0.7's block grid. */
export const REASON_COLORS: Record<Reason, string> = {
  forced: '#E69F00',
  sink: '#56B4E9',
  local: '#009E73',
  vertical: '#CC79A7',
  slash: '#F0E442',
  topk: '#0072B2',
  threshold: '#D55E00',
  'query-aware': '#000000',
};

/** Words for the legend. */
export const REASON_TEXT: Record<Reason, string> = {
  forced: 'forced (own block)',
  sink: 'sink',
  local: 'local window',
  vertical: 'vertical',
  slash: 'slash',
  topk: 'top-k',
  threshold: 'threshold',
  'query-aware': 'query-aware',
};

/** A selected region of one head's map in query rows × keys, with its reason code. */
export interface BlockRect {
  r0: number;
  r1: number;
  c0: number;
  c1: number;
  code: number;
}

const memo = new WeakMap<BlockSelection, Map<number, BlockRect[]>>();

/**
 * The selected blocks of head h as rectangles: for each key block, consecutive query rows with
 * the same code merge into one (MoBA's per-query rows become a few tall strips). Memoised.
 */
export function blockRects(sel: BlockSelection, h: number): BlockRect[] {
  let m = memo.get(sel);
  if (!m) memo.set(sel, (m = new Map()));
  const hit = m.get(h);
  if (hit) return hit;
  const out: BlockRect[] = [];
  const { nRows, nkb, rowsPer, block, Nq, Nk, codes } = sel;
  for (let J = 0; J < nkb; J++) {
    let start = -1;
    let code = 0;
    for (let R = 0; R <= nRows; R++) {
      const c = R < nRows ? codes[(h * nRows + R) * nkb + J] : 0;
      if (c === code) continue;
      if (code !== 0) out.push({ r0: start * rowsPer, r1: Math.min(Nq, R * rowsPer), c0: J * block, c1: Math.min(Nk, (J + 1) * block), code });
      code = c;
      start = R;
    }
  }
  m.set(h, out);
  return out;
}

/** Codes of head h's key blocks for query row i (0 = not selected). */
export function rowCodes(sel: BlockSelection, h: number, i: number): Uint8Array {
  const base = (h * sel.nRows + Math.floor(i / sel.rowsPer)) * sel.nkb;
  return sel.codes.subarray(base, base + sel.nkb);
}

/**
 * Outlines the selected blocks over the heatmap (colour = reason), and fills the blocks the
 * active query row selected, so a MoBA row shows its own choice. CSS pixels; O(rectangles).
 */
export function drawBlocks(ctx: CanvasRenderingContext2D, rects: BlockRect[], reasons: readonly Reason[], active: { i: number; codes: Uint8Array; block: number; lastKey: number } | null, n: number, nk: number, size: number, t: ZoomTransform, divider: number | null = null): void {
  if (divider !== null && divider > 0 && divider < nk) {
    // SparseD: where the prompt ends and the generated tokens begin, on both axes.
    const v = cellRect(0, n, divider, divider, n, nk, size, size, t);
    const hz = cellRect(divider, divider, 0, nk, n, nk, size, size, t);
    ctx.save();
    ctx.setLineDash([5, 3]);
    ctx.strokeStyle = '#ffffff';
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.moveTo(v.x, v.y);
    ctx.lineTo(v.x, v.y + v.h);
    ctx.moveTo(hz.x, hz.y);
    ctx.lineTo(hz.x + hz.w, hz.y);
    ctx.stroke();
    ctx.restore();
  }
  ctx.lineWidth = 1.25;
  for (const b of rects) {
    const r = cellRect(b.r0, b.r1, b.c0, b.c1, n, nk, size, size, t);
    if (r.x > size || r.y > size || r.x + r.w < 0 || r.y + r.h < 0) continue;
    ctx.strokeStyle = REASON_COLORS[reasons[b.code - 1]];
    ctx.strokeRect(r.x + 0.6, r.y + 0.6, Math.max(0, r.w - 1.2), Math.max(0, r.h - 1.2));
  }
  if (!active) return;
  ctx.globalAlpha = 0.45;
  active.codes.forEach((c, J) => {
    if (!c) return;
    // Only the keys the query can see: a block past its causal edge is cut there.
    const c1 = Math.min(nk, (J + 1) * active.block, active.lastKey + 1);
    if (c1 <= J * active.block) return;
    const r = cellRect(active.i, active.i + 1, J * active.block, c1, n, nk, size, size, t);
    ctx.fillStyle = REASON_COLORS[reasons[c - 1]];
    ctx.fillRect(r.x, r.y, r.w, Math.max(2, r.h));
  });
  ctx.globalAlpha = 1;
}

/** `inv[perm[p]] = p`, memoised per permutation. */
const inverses = new WeakMap<Int32Array, Int32Array>();
export function inverseOf(perm: Int32Array): Int32Array {
  let inv = inverses.get(perm);
  if (!inv) inverses.set(perm, (inv = invertPerm(perm)));
  return inv;
}

/**
 * The reason code of pair (i, j) of head h in the ORIGINAL token order, for a selection made in
 * a permuted order (VMoBA, DraftAttention): 0 when the pair is not computed.
 */
export function permutedCode(sel: BlockSelection, perm: Int32Array, h: number, i: number, j: number): number {
  const inv = inverseOf(perm);
  const p = inv[i];
  return sel.codes[(h * sel.nRows + Math.floor(p / sel.rowsPer)) * sel.nkb + Math.floor(inv[j] / sel.block)];
}

const maskMemo = new WeakMap<BlockSelection, Map<number, HTMLCanvasElement>>();

/**
 * Head h's token mask in the original order as an N × Nk image: pairs not computed are dimmed,
 * computed pairs lightly tinted with their reason's colour. For reordering methods, whose blocks
 * are scattered in the original order and cannot be drawn as rectangles. Memoised.
 */
export function permutedMaskImage(sel: BlockSelection, perm: Int32Array, h: number, reasons: readonly Reason[]): HTMLCanvasElement {
  let m = maskMemo.get(sel);
  if (!m) maskMemo.set(sel, (m = new Map()));
  const hit = m.get(h);
  if (hit) return hit;
  const { Nq, Nk } = sel;
  const c = document.createElement('canvas');
  c.width = Nk;
  c.height = Nq;
  const ctx = c.getContext('2d')!;
  const img = ctx.createImageData(Nk, Nq);
  const rgb = reasons.map((r) => {
    const hex = REASON_COLORS[r];
    return [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)];
  });
  for (let i = 0; i < Nq; i++)
    for (let j = 0; j < Nk; j++) {
      const code = permutedCode(sel, perm, h, i, j);
      const o = (i * Nk + j) * 4;
      if (code === 0) img.data.set([0, 0, 0, 150], o);
      else img.data.set([...rgb[code - 1], 40], o);
    }
  ctx.putImageData(img, 0, 0);
  m.set(h, c);
  return c;
}

/** Draws a permuted selection's mask over the heatmap, and fills the active query row's computed keys. */
export function drawPermutedMask(ctx: CanvasRenderingContext2D, sel: BlockSelection, perm: Int32Array, h: number, reasons: readonly Reason[], active: number | null, n: number, nk: number, size: number, t: ZoomTransform): void {
  const r = cellRect(0, n, 0, nk, n, nk, size, size, t);
  ctx.save();
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(permutedMaskImage(sel, perm, h, reasons), r.x, r.y, r.w, r.h);
  if (active !== null) {
    ctx.globalAlpha = 0.6;
    for (let j = 0; j < nk; j++) {
      const code = permutedCode(sel, perm, h, active, j);
      if (!code) continue;
      const c = cellRect(active, active + 1, j, j + 1, n, nk, size, size, t);
      if (c.x > size || c.x + c.w < 0) continue;
      ctx.fillStyle = REASON_COLORS[reasons[code - 1]];
      ctx.fillRect(c.x, c.y, Math.max(1, c.w), Math.max(2, c.h));
    }
  }
  ctx.restore();
}

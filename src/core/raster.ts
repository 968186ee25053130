import type { Lut } from './colormap';
import type { ColorMapName } from './colormapNames';

/** A half-open window of cells: rows `[r0, r1)`, columns `[c0, c1)`. */
export interface CellWindow {
  r0: number;
  r1: number;
  c0: number;
  c1: number;
}

/**
 * How values map to colours.
 * - `linear`: `(v − lo)/(hi − lo)`.
 * - `log`: `(log10 v − lo)/(hi − lo)` with lo/hi in decades; v ≤ 0 maps to the bottom.
 * - `diverging`: `0.5 + 0.5·v/max(|lo|, |hi|)`, centred on zero.
 */
export interface ValueScale {
  kind: 'linear' | 'log' | 'diverging';
  lo: number;
  hi: number;
}

export interface RasterInput {
  /** Row-major matrix values; the matrix starts at `offset`. */
  data: Float32Array;
  offset?: number;
  rows: number;
  cols: number;
  /** Cells to draw; default the whole matrix. */
  win?: CellWindow;
  /** Output size in pixels; at most one pixel per cell (a larger request is clamped). */
  outW: number;
  outH: number;
  scale: ValueScale;
  lut: Lut;
  /**
   * When set, cell (i, j) with `j > i + causalOffset` is masked: it takes no part in pooling and a
   * pixel with only masked cells gets `maskColor`.
   */
  causalOffset?: number | null;
  /** RGBA of masked or empty pixels; default a light grey. */
  maskColor?: [number, number, number, number];
  /** Reuse this buffer when it has the right size. */
  out?: Uint8ClampedArray;
}

/**
 * What one head's map needs to be drawn: its values, their colour scale and the masking rule
 * (the views build it; the figure writers of io/ draw it).
 */
export interface MapSpec {
  data: Float32Array;
  offset: number;
  rows: number;
  cols: number;
  scale: ValueScale;
  colormap: ColorMapName;
  /** Cell (i, j) with j > i + causalOffset is masked; null: none. */
  causalOffset: number | null;
  /** Legend title. */
  label: string;
}

export interface Raster {
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
  /** Cells per pixel along rows and columns (1 = no pooling). */
  poolRows: number;
  poolCols: number;
}

/** Colour index 0..255 for a value under a scale. */
export function colorIndex(v: number, s: ValueScale): number {
  let t: number;
  if (s.kind === 'linear') t = (v - s.lo) / (s.hi - s.lo || 1);
  else if (s.kind === 'log') t = v > 0 ? (Math.log10(v) - s.lo) / (s.hi - s.lo || 1) : 0;
  else {
    const m = Math.max(Math.abs(s.lo), Math.abs(s.hi)) || 1;
    t = 0.5 + (0.5 * v) / m;
  }
  if (!(t >= 0)) t = 0; // NaN and negatives
  if (t > 1) t = 1;
  return (t * 255 + 0.5) | 0;
}

/**
 * Turns a matrix (or a window of it) into an RGBA buffer at one pixel per cell, max-pooling when
 * cells outnumber pixels so that peaks stay visible. Diverging scales pool by the largest
 * magnitude (keeping its sign), so strong negative values survive too. Pure: runs in Node.
 */
export function rasterize(inp: RasterInput): Raster {
  const { data, rows, cols, scale, lut } = inp;
  const offset = inp.offset ?? 0;
  const win = inp.win ?? { r0: 0, r1: rows, c0: 0, c1: cols };
  const wr = win.r1 - win.r0;
  const wc = win.c1 - win.c0;
  const width = Math.max(1, Math.min(Math.floor(inp.outW), wc));
  const height = Math.max(1, Math.min(Math.floor(inp.outH), wr));
  const n = width * height * 4;
  const rgba = inp.out && inp.out.length === n ? inp.out : new Uint8ClampedArray(n);
  const mask = inp.maskColor ?? [236, 236, 240, 255];
  const causal = inp.causalOffset ?? null;
  const signed = scale.kind === 'diverging';

  // Column → output pixel lookup, so the hot loop is one read, one compare, one store.
  const colOut = new Int32Array(wc);
  for (let c = 0; c < wc; c++) colOut[c] = Math.floor((c * width) / wc);
  const acc = new Float32Array(width);
  const seen = new Uint8Array(width);

  for (let y = 0; y < height; y++) {
    const ra = win.r0 + Math.floor((y * wr) / height);
    const rb = win.r0 + Math.floor(((y + 1) * wr) / height);
    acc.fill(signed ? 0 : -Infinity);
    seen.fill(0);
    for (let r = ra; r < rb; r++) {
      const base = offset + r * cols;
      let cEnd = win.c1;
      if (causal !== null) cEnd = Math.min(cEnd, r + causal + 1);
      if (signed) {
        for (let c = win.c0; c < cEnd; c++) {
          const v = data[base + c];
          const x = colOut[c - win.c0];
          if (v !== v || v === -Infinity) continue;
          if (!seen[x] || Math.abs(v) > Math.abs(acc[x])) acc[x] = v;
          seen[x] = 1;
        }
      } else {
        for (let c = win.c0; c < cEnd; c++) {
          const v = data[base + c];
          const x = colOut[c - win.c0];
          if (v > acc[x]) acc[x] = v;
          seen[x] = 1;
        }
      }
    }
    let p = y * width * 4;
    for (let x = 0; x < width; x++, p += 4) {
      const v = acc[x];
      if (!seen[x] || v === -Infinity || v !== v) {
        rgba[p] = mask[0];
        rgba[p + 1] = mask[1];
        rgba[p + 2] = mask[2];
        rgba[p + 3] = mask[3];
        continue;
      }
      const li = colorIndex(v, scale) * 4;
      rgba[p] = lut[li];
      rgba[p + 1] = lut[li + 1];
      rgba[p + 2] = lut[li + 2];
      rgba[p + 3] = 255;
    }
  }
  return { width, height, rgba, poolRows: wr / height, poolCols: wc / width };
}

/** Minimum and maximum of the finite values of `data[offset, offset + n)`. */
export function finiteRange(data: Float32Array, offset = 0, n = data.length - offset): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = offset; i < offset + n; i++) {
    const v = data[i];
    if (v === Infinity || v === -Infinity || v !== v) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === Infinity) return [0, 1];
  return [lo, hi];
}

import type { CellWindow } from './raster';

/** A zoom transform: pixel = t + k·(cell index)·cellSize. */
export interface ZoomTransform {
  k: number;
  x: number;
  y: number;
}

export const IDENTITY: ZoomTransform = { k: 1, x: 0, y: 0 };

/**
 * The cells of a `rows × cols` matrix drawn in a `width × height` plot under a zoom, where at
 * k = 1 the whole matrix fills the plot. Returns the visible cell window (whole cells that
 * touch the plot) and the on-screen size of one cell.
 */
export function visibleWindow(rows: number, cols: number, width: number, height: number, t: ZoomTransform): { win: CellWindow; cellW: number; cellH: number } {
  const cellW = (width / cols) * t.k;
  const cellH = (height / rows) * t.k;
  // Clamped to the matrix even when the plot is panned entirely off it.
  const c0 = Math.min(cols - 1, Math.max(0, Math.floor(-t.x / cellW)));
  const c1 = Math.min(cols, Math.ceil((width - t.x) / cellW));
  const r0 = Math.min(rows - 1, Math.max(0, Math.floor(-t.y / cellH)));
  const r1 = Math.min(rows, Math.ceil((height - t.y) / cellH));
  return { win: { r0, r1: Math.max(r0 + 1, r1), c0, c1: Math.max(c0 + 1, c1) }, cellW, cellH };
}

/** The cell under a pixel of the plot, or null outside the matrix. */
export function cellAt(px: number, py: number, rows: number, cols: number, width: number, height: number, t: ZoomTransform): { i: number; j: number } | null {
  const cellW = (width / cols) * t.k;
  const cellH = (height / rows) * t.k;
  const j = Math.floor((px - t.x) / cellW);
  const i = Math.floor((py - t.y) / cellH);
  if (i < 0 || j < 0 || i >= rows || j >= cols || px < 0 || py < 0 || px >= width || py >= height) return null;
  return { i, j };
}

/** Pixel rectangle of cell range rows [r0, r1) × cols [c0, c1) under a zoom. */
export function cellRect(r0: number, r1: number, c0: number, c1: number, rows: number, cols: number, width: number, height: number, t: ZoomTransform): { x: number; y: number; w: number; h: number } {
  const cellW = (width / cols) * t.k;
  const cellH = (height / rows) * t.k;
  return { x: t.x + c0 * cellW, y: t.y + r0 * cellH, w: (c1 - c0) * cellW, h: (r1 - r0) * cellH };
}

/** Grid layout of `n` tiles in `cols` columns: the top-left corner of tile `i`. */
export function tileOrigin(i: number, cols: number, tile: number, gap: number, label: number): { x: number; y: number } {
  return { x: (i % cols) * (tile + gap), y: Math.floor(i / cols) * (tile + gap + label) + label };
}

/** Which tile (and which cell inside it) a pixel of a tile grid falls on. */
export function tileAt(px: number, py: number, n: number, cols: number, tile: number, gap: number, label: number): { tile: number; u: number; v: number } | null {
  const c = Math.floor(px / (tile + gap));
  const r = Math.floor(py / (tile + gap + label));
  const idx = r * cols + c;
  if (c < 0 || c >= cols || idx < 0 || idx >= n) return null;
  const o = tileOrigin(idx, cols, tile, gap, label);
  const u = (px - o.x) / tile;
  const v = (py - o.y) / tile;
  if (u < 0 || u >= 1 || v < 0 || v >= 1) return null;
  return { tile: idx, u, v };
}

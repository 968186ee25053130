import { cellRect, type ZoomTransform } from '../../core/layout';
import type { Cell, KeyMarks } from '../../state/types';
import { MARK_OTHER, MARK_RIGHT } from './HeatmapAxes';

/**
 * Draws the hover/selection layer of a heatmap: a band on the query row, a band on the key
 * column and an outline around the cell. Clears the layer first; costs O(1) whatever N is.
 */
export function drawHeatmapOverlay(ctx: CanvasRenderingContext2D, cell: Cell | null, locked: boolean, n: number, nk: number, size: number, t: ZoomTransform, dpr: number, marks: KeyMarks | null = null): void {
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, size, size);
  // Marked key columns: a dashed outline each, the right one in its own colour.
  if (marks) {
    ctx.save();
    ctx.setLineDash([4, 3]);
    ctx.lineWidth = 1.5;
    marks.keys.forEach((k, m) => {
      if (k >= nk) return;
      const col = cellRect(0, n, k, k + 1, n, nk, size, size, t);
      ctx.strokeStyle = marks.right === m ? MARK_RIGHT : MARK_OTHER;
      ctx.strokeRect(col.x + 0.75, col.y + 0.75, Math.max(1, col.w - 1.5), Math.max(1, col.h - 1.5));
    });
    ctx.restore();
  }
  if (!cell || cell.q >= n) return;
  const row = cellRect(cell.q, cell.q + 1, 0, nk, n, nk, size, size, t);
  ctx.fillStyle = 'rgba(255,255,255,0.22)';
  ctx.fillRect(row.x, row.y, row.w, row.h);
  ctx.strokeStyle = locked ? 'rgba(255,140,0,0.95)' : 'rgba(255,255,255,0.9)';
  ctx.lineWidth = 1.5;
  ctx.strokeRect(row.x + 0.75, row.y + 0.75, Math.max(0, row.w - 1.5), Math.max(1, row.h - 1.5));
  if (cell.k !== null && cell.k < nk) {
    const col = cellRect(0, n, cell.k, cell.k + 1, n, nk, size, size, t);
    ctx.fillStyle = 'rgba(255,255,255,0.14)';
    ctx.fillRect(col.x, col.y, col.w, col.h);
    const c = cellRect(cell.q, cell.q + 1, cell.k, cell.k + 1, n, nk, size, size, t);
    ctx.strokeStyle = locked ? '#ff8c00' : '#ffffff';
    ctx.lineWidth = 2;
    const pad = Math.min(2, c.w / 4);
    ctx.strokeRect(c.x - pad, c.y - pad, c.w + 2 * pad, c.h + 2 * pad);
    ctx.strokeStyle = '#000';
    ctx.lineWidth = 1;
    ctx.strokeRect(c.x - pad - 1.5, c.y - pad - 1.5, c.w + 2 * pad + 3, c.h + 2 * pad + 3);
  }
}

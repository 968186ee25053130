import { tileOrigin } from '../../core/layout';
import type { Cell } from '../../state/types';

export const GRID_GAP = 10;
export const GRID_LABEL = 15;
/** Margin around the tiles, so the selected head's outline is never clipped. */
export const GRID_PAD = 4;

export interface GridGeometry {
  H: number;
  /** Queries (rows) and keys (columns) of each tile. */
  n: number;
  nk: number;
  cols: number;
  tile: number;
  dpr: number;
  width: number;
  height: number;
}

/**
 * The grid's hover/selection layer: the active query row (and key column) in every head,
 * the selected head outlined, the hovered head outlined lightly. O(H), independent of N.
 */
export function drawGridOverlay(ctx: CanvasRenderingContext2D, g: GridGeometry, cell: Cell | null, locked: boolean, selected: number, hovered: number | null): void {
  ctx.setTransform(g.dpr, 0, 0, g.dpr, g.dpr * GRID_PAD, g.dpr * GRID_PAD);
  ctx.clearRect(-GRID_PAD, -GRID_PAD, g.width, g.height);
  const unit = g.tile / g.n;
  const unitK = g.tile / g.nk;
  for (let h = 0; h < g.H; h++) {
    const o = tileOrigin(h, g.cols, g.tile, GRID_GAP, GRID_LABEL);
    if (cell && cell.q < g.n) {
      const y = o.y + cell.q * unit;
      const bh = Math.max(unit, 2);
      ctx.fillStyle = locked ? 'rgba(255,140,0,0.35)' : 'rgba(255,255,255,0.35)';
      ctx.fillRect(o.x, y + (unit - bh) / 2, g.tile, bh);
      ctx.strokeStyle = locked ? '#ff8c00' : '#fff';
      ctx.lineWidth = 1;
      ctx.strokeRect(o.x + 0.5, y + (unit - bh) / 2, g.tile - 1, bh);
      if (cell.k !== null && cell.k < g.nk) {
        ctx.fillStyle = 'rgba(255,255,255,0.18)';
        ctx.fillRect(o.x + cell.k * unitK, o.y, Math.max(unitK, 1), g.tile);
      }
    }
    if (h === selected) {
      ctx.strokeStyle = '#d9480f';
      ctx.lineWidth = 3;
      ctx.strokeRect(o.x - 2, o.y - 2, g.tile + 4, g.tile + 4);
    } else if (h === hovered) {
      ctx.strokeStyle = '#555';
      ctx.lineWidth = 1.5;
      ctx.strokeRect(o.x - 1.5, o.y - 1.5, g.tile + 3, g.tile + 3);
    }
  }
}

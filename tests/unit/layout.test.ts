import { describe, expect, it } from 'vitest';
import { cellAt, cellRect, IDENTITY, tileAt, tileOrigin, visibleWindow, type ZoomTransform } from '../../src/core/layout';
import { mulberry32 } from '../../src/core/prng';

/** A transform that keeps the plot covered by the matrix, as useZoom's extents do (k ≥ 1). */
function randomTransform(rand: () => number, width: number, height: number): ZoomTransform {
  const k = 1 + rand() * 15;
  return { k, x: -rand() * width * (k - 1), y: -rand() * height * (k - 1) };
}

describe('visibleWindow', () => {
  it('covers the whole matrix under the identity transform', () => {
    const v = visibleWindow(10, 20, 200, 100, IDENTITY);
    expect(v.win).toEqual({ r0: 0, r1: 10, c0: 0, c1: 20 });
    expect(v.cellW).toBe(10);
    expect(v.cellH).toBe(10);
  });

  it('covers the whole matrix when cells are smaller than a pixel', () => {
    const v = visibleWindow(1000, 3000, 300, 250, IDENTITY);
    expect(v.win).toEqual({ r0: 0, r1: 1000, c0: 0, c1: 3000 });
    expect(v.cellW).toBeCloseTo(0.1, 12);
    expect(v.cellH).toBeCloseTo(0.25, 12);
  });

  it('zooms into the top-left corner', () => {
    const v = visibleWindow(10, 20, 200, 100, { k: 2, x: 0, y: 0 });
    expect(v.cellW).toBe(20);
    expect(v.cellH).toBe(20);
    expect(v.win).toEqual({ r0: 0, r1: 5, c0: 0, c1: 10 });
  });

  it('pans a zoomed view and includes partly visible cells', () => {
    // cells are 20 px; the plot shows x ∈ [100, 300) and y ∈ [50, 150) of the zoomed matrix
    const v = visibleWindow(10, 20, 200, 100, { k: 2, x: -100, y: -50 });
    expect(v.win).toEqual({ r0: 2, r1: 8, c0: 5, c1: 15 });
  });

  it('shows the bottom-right corner when panned all the way', () => {
    const k = 4;
    const v = visibleWindow(8, 8, 80, 80, { k, x: -80 * (k - 1), y: -80 * (k - 1) });
    expect(v.win).toEqual({ r0: 6, r1: 8, c0: 6, c1: 8 });
  });

  it('clamps to the matrix when zoomed out or shifted right', () => {
    const a = visibleWindow(10, 10, 100, 100, { k: 0.5, x: 0, y: 0 });
    expect(a.win).toEqual({ r0: 0, r1: 10, c0: 0, c1: 10 });
    const b = visibleWindow(10, 10, 100, 100, { k: 1, x: 35, y: 0 });
    expect(b.win).toEqual({ r0: 0, r1: 10, c0: 0, c1: 7 }); // columns 0..6 touch x < 100
  });

  it('contains every cell hit by a pixel of the plot, and only cells that touch it (random transforms)', () => {
    const rand = mulberry32(42);
    for (let trial = 0; trial < 200; trial++) {
      const rows = 1 + Math.floor(rand() * 300);
      const cols = 1 + Math.floor(rand() * 300);
      const width = 50 + Math.floor(rand() * 500);
      const height = 50 + Math.floor(rand() * 500);
      const t = randomTransform(rand, width, height);
      const { win, cellW, cellH } = visibleWindow(rows, cols, width, height, t);
      const where = `trial ${trial}: ${rows}×${cols} in ${width}×${height}, t=${JSON.stringify(t)}, win=${JSON.stringify(win)}`;
      expect(win.r0 >= 0 && win.c0 >= 0 && win.r1 <= rows && win.c1 <= cols && win.r1 > win.r0 && win.c1 > win.c0, where).toBe(true);
      for (let s = 0; s < 20; s++) {
        const px = rand() * width;
        const py = rand() * height;
        const hit = cellAt(px, py, rows, cols, width, height, t);
        const inside = !!hit && hit.i >= win.r0 && hit.i < win.r1 && hit.j >= win.c0 && hit.j < win.c1;
        expect(inside, `${where}, pixel (${px}, ${py}) → ${JSON.stringify(hit)}`).toBe(true);
      }
      // the first and last cells of the window touch the plot
      const first = cellRect(win.r0, win.r0 + 1, win.c0, win.c0 + 1, rows, cols, width, height, t);
      const last = cellRect(win.r1 - 1, win.r1, win.c1 - 1, win.c1, rows, cols, width, height, t);
      const eps = 1e-6 * Math.max(width, height) * t.k;
      expect(first.x + first.w).toBeGreaterThan(-eps);
      expect(first.y + first.h).toBeGreaterThan(-eps);
      expect(last.x).toBeLessThan(width + eps);
      expect(last.y).toBeLessThan(height + eps);
      expect(cellW).toBeCloseTo((width / cols) * t.k, 9);
      expect(cellH).toBeCloseTo((height / rows) * t.k, 9);
    }
  });
});

describe('cellAt and cellRect', () => {
  it('maps identity pixels to cells', () => {
    // 4×5 matrix in 100×80: cells 20 wide, 20 tall
    expect(cellAt(0, 0, 4, 5, 100, 80, IDENTITY)).toEqual({ i: 0, j: 0 });
    expect(cellAt(19.99, 19.99, 4, 5, 100, 80, IDENTITY)).toEqual({ i: 0, j: 0 });
    expect(cellAt(20, 0, 4, 5, 100, 80, IDENTITY)).toEqual({ i: 0, j: 1 });
    expect(cellAt(0, 20, 4, 5, 100, 80, IDENTITY)).toEqual({ i: 1, j: 0 });
    expect(cellAt(99.9, 79.9, 4, 5, 100, 80, IDENTITY)).toEqual({ i: 3, j: 4 });
  });

  it('gives cell rectangles under a zoom', () => {
    expect(cellRect(0, 1, 0, 1, 4, 5, 100, 80, IDENTITY)).toEqual({ x: 0, y: 0, w: 20, h: 20 });
    expect(cellRect(1, 3, 2, 5, 4, 5, 100, 80, IDENTITY)).toEqual({ x: 40, y: 20, w: 60, h: 40 });
    expect(cellRect(1, 2, 2, 3, 4, 5, 100, 80, { k: 3, x: -50, y: -10 })).toEqual({ x: -50 + 2 * 60, y: -10 + 60, w: 60, h: 60 });
  });

  it('round-trips: the centre of cellRect(i, j) maps back to (i, j) for random transforms', () => {
    const rand = mulberry32(7);
    let checked = 0;
    for (let trial = 0; trial < 300; trial++) {
      const rows = 1 + Math.floor(rand() * 500);
      const cols = 1 + Math.floor(rand() * 500);
      const width = 40 + rand() * 700;
      const height = 40 + rand() * 700;
      const t = randomTransform(rand, width, height);
      const { win } = visibleWindow(rows, cols, width, height, t);
      for (let s = 0; s < 10; s++) {
        const i = win.r0 + Math.floor(rand() * (win.r1 - win.r0));
        const j = win.c0 + Math.floor(rand() * (win.c1 - win.c0));
        const r = cellRect(i, i + 1, j, j + 1, rows, cols, width, height, t);
        const cx = r.x + r.w / 2;
        const cy = r.y + r.h / 2;
        if (cx < 0 || cy < 0 || cx >= width || cy >= height) continue; // centre off-screen
        expect(cellAt(cx, cy, rows, cols, width, height, t)).toEqual({ i, j });
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(2000);
  });

  it('returns null outside the plot', () => {
    for (const [x, y] of [
      [-0.01, 5],
      [5, -0.01],
      [100, 5],
      [5, 80],
      [1e9, 1e9],
      [-1e9, 0],
    ])
      expect(cellAt(x, y, 4, 5, 100, 80, IDENTITY)).toBeNull();
  });

  it('returns null inside the plot but outside the matrix', () => {
    // zoomed out: the matrix covers only the top-left quarter
    const t = { k: 0.5, x: 0, y: 0 };
    expect(cellAt(10, 10, 4, 4, 100, 100, t)).toEqual({ i: 0, j: 0 });
    expect(cellAt(60, 10, 4, 4, 100, 100, t)).toBeNull();
    expect(cellAt(10, 60, 4, 4, 100, 100, t)).toBeNull();
    // shifted right: the left margin is empty
    expect(cellAt(5, 5, 4, 4, 100, 100, { k: 1, x: 30, y: 0 })).toBeNull();
    expect(cellAt(35, 5, 4, 4, 100, 100, { k: 1, x: 30, y: 0 })).toEqual({ i: 0, j: 0 });
  });
});

describe('tileOrigin and tileAt', () => {
  const tile = 40;
  const gap = 4;
  const label = 12;
  const cols = 3;
  const n = 7; // 3 rows, the last holds one tile

  it('lays tiles out in rows below their labels', () => {
    expect(tileOrigin(0, cols, tile, gap, label)).toEqual({ x: 0, y: 12 });
    expect(tileOrigin(1, cols, tile, gap, label)).toEqual({ x: 44, y: 12 });
    expect(tileOrigin(2, cols, tile, gap, label)).toEqual({ x: 88, y: 12 });
    expect(tileOrigin(3, cols, tile, gap, label)).toEqual({ x: 0, y: 68 });
    expect(tileOrigin(4, cols, tile, gap, label)).toEqual({ x: 44, y: 68 });
    expect(tileOrigin(6, cols, tile, gap, label)).toEqual({ x: 0, y: 124 });
  });

  it('hits the tile under a pixel, with the position inside it', () => {
    const centre = tileAt(44 + 20, 68 + 20, n, cols, tile, gap, label);
    expect(centre).toEqual({ tile: 4, u: 0.5, v: 0.5 });
    expect(tileAt(0, 12, n, cols, tile, gap, label)).toEqual({ tile: 0, u: 0, v: 0 });
    const corner = tileAt(88 + 39.9, 12 + 39.9, n, cols, tile, gap, label)!;
    expect(corner.tile).toBe(2);
    expect(corner.u).toBeCloseTo(39.9 / 40, 12);
    expect(corner.v).toBeCloseTo(39.9 / 40, 12);
  });

  it('round-trips tileOrigin through tileAt for every tile', () => {
    const rand = mulberry32(3);
    for (let i = 0; i < n; i++) {
      const o = tileOrigin(i, cols, tile, gap, label);
      for (let s = 0; s < 50; s++) {
        const u = rand();
        const v = rand();
        const hit = tileAt(o.x + u * tile, o.y + v * tile, n, cols, tile, gap, label);
        expect(hit).not.toBeNull();
        expect(hit!.tile).toBe(i);
        expect(hit!.u).toBeCloseTo(u, 9);
        expect(hit!.v).toBeCloseTo(v, 9);
      }
    }
  });

  it('returns null on the gaps between tiles', () => {
    expect(tileAt(40, 30, n, cols, tile, gap, label)).toBeNull(); // right edge of tile 0 (u = 1)
    expect(tileAt(42, 30, n, cols, tile, gap, label)).toBeNull(); // horizontal gap
    expect(tileAt(43.9, 30, n, cols, tile, gap, label)).toBeNull();
    expect(tileAt(86, 30, n, cols, tile, gap, label)).toBeNull();
    expect(tileAt(20, 52, n, cols, tile, gap, label)).toBeNull(); // below tile 0 (v = 1)
    expect(tileAt(20, 54, n, cols, tile, gap, label)).toBeNull(); // vertical gap
  });

  it('returns null on the labels above tiles', () => {
    expect(tileAt(20, 0, n, cols, tile, gap, label)).toBeNull();
    expect(tileAt(20, 11.9, n, cols, tile, gap, label)).toBeNull();
    expect(tileAt(60, 56 + 5, n, cols, tile, gap, label)).toBeNull(); // label of row 1
    expect(tileAt(60, 67.9, n, cols, tile, gap, label)).toBeNull();
    expect(tileAt(60, 68, n, cols, tile, gap, label)).toEqual({ tile: 4, u: 0.4, v: 0 });
  });

  it('returns null past the last tile, past the last column and at negative pixels', () => {
    expect(tileAt(44 + 20, 124 + 20, n, cols, tile, gap, label)).toBeNull(); // slot 7 is empty
    expect(tileAt(0 + 20, 124 + 20, n, cols, tile, gap, label)).toEqual({ tile: 6, u: 0.5, v: 0.5 });
    expect(tileAt(3 * 44 + 10, 30, n, cols, tile, gap, label)).toBeNull();
    expect(tileAt(-1, 30, n, cols, tile, gap, label)).toBeNull();
    expect(tileAt(20, -1, n, cols, tile, gap, label)).toBeNull();
    expect(tileAt(20, 1000, n, cols, tile, gap, label)).toBeNull();
  });

  it('works with no gap and no label', () => {
    for (let i = 0; i < 6; i++) {
      const o = tileOrigin(i, 2, 10, 0, 0);
      expect(o).toEqual({ x: (i % 2) * 10, y: Math.floor(i / 2) * 10 });
      expect(tileAt(o.x + 5, o.y + 5, 6, 2, 10, 0, 0)).toEqual({ tile: i, u: 0.5, v: 0.5 });
    }
  });
});

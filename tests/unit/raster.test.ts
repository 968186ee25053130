import { describe, expect, it } from 'vitest';
import { colorIndex, finiteRange, rasterize, type RasterInput, type ValueScale } from '../../src/core/raster';

/** A LUT whose entry i is (i, i, i, 255), so a pixel's red channel is its colour index. */
function indexLut(): Uint8ClampedArray {
  const l = new Uint8ClampedArray(256 * 4);
  for (let i = 0; i < 256; i++) {
    l[i * 4] = i;
    l[i * 4 + 1] = i;
    l[i * 4 + 2] = i;
    l[i * 4 + 3] = 255;
  }
  return l;
}

const LUT = indexLut();
/** A mask colour no LUT entry can produce (alpha 7). */
const MASK: [number, number, number, number] = [1, 2, 3, 7];
const LIN01: ValueScale = { kind: 'linear', lo: 0, hi: 1 };

function raster(p: Partial<RasterInput> & Pick<RasterInput, 'data' | 'rows' | 'cols'>) {
  return rasterize({ outW: p.cols, outH: p.rows, scale: LIN01, lut: LUT, maskColor: MASK, ...p });
}

function px(r: { width: number; rgba: Uint8ClampedArray }, x: number, y: number): number[] {
  const p = (y * r.width + x) * 4;
  return [r.rgba[p], r.rgba[p + 1], r.rgba[p + 2], r.rgba[p + 3]];
}

/** Colour index of a pixel, or 'mask' for the mask colour. */
function idx(r: { width: number; rgba: Uint8ClampedArray }, x: number, y: number): number | 'mask' {
  const c = px(r, x, y);
  if (c[0] === MASK[0] && c[1] === MASK[1] && c[2] === MASK[2] && c[3] === MASK[3]) return 'mask';
  expect(c[3]).toBe(255);
  expect(c[1]).toBe(c[0]);
  return c[0];
}

/** Colour index image as rows of numbers / 'mask'. */
function image(r: { width: number; height: number; rgba: Uint8ClampedArray }): (number | 'mask')[][] {
  const out: (number | 'mask')[][] = [];
  for (let y = 0; y < r.height; y++) {
    const row: (number | 'mask')[] = [];
    for (let x = 0; x < r.width; x++) row.push(idx(r, x, y));
    out.push(row);
  }
  return out;
}

describe('colorIndex', () => {
  it('maps linear endpoints, midpoint and out-of-range values', () => {
    const s: ValueScale = { kind: 'linear', lo: 2, hi: 6 };
    expect(colorIndex(2, s)).toBe(0);
    expect(colorIndex(6, s)).toBe(255);
    expect(colorIndex(4, s)).toBe(128); // 0.5·255 rounds to 128
    expect(colorIndex(3, s)).toBe(64); // 0.25·255 = 63.75
    expect(colorIndex(-100, s)).toBe(0);
    expect(colorIndex(100, s)).toBe(255);
    expect(colorIndex(Infinity, s)).toBe(255);
    expect(colorIndex(-Infinity, s)).toBe(0);
    expect(colorIndex(NaN, s)).toBe(0);
  });

  it('does not divide by zero when lo = hi', () => {
    const s: ValueScale = { kind: 'linear', lo: 3, hi: 3 };
    expect(colorIndex(3, s)).toBe(0);
    expect(colorIndex(3.5, s)).toBe(128);
    expect(colorIndex(10, s)).toBe(255);
  });

  it('maps log scales in decades, with v ≤ 0 at the bottom', () => {
    const s: ValueScale = { kind: 'log', lo: -4, hi: 0 };
    expect(colorIndex(1e-4, s)).toBe(0);
    expect(colorIndex(1, s)).toBe(255);
    expect(colorIndex(1e-2, s)).toBe(128);
    expect(colorIndex(1e-3, s)).toBe(64);
    expect(colorIndex(1e-9, s)).toBe(0);
    expect(colorIndex(10, s)).toBe(255);
    expect(colorIndex(0, s)).toBe(0);
    expect(colorIndex(-1, s)).toBe(0);
    expect(colorIndex(NaN, s)).toBe(0);
  });

  it('centres diverging scales on zero using the larger of |lo|, |hi|', () => {
    const s: ValueScale = { kind: 'diverging', lo: -2, hi: 4 };
    expect(colorIndex(0, s)).toBe(128);
    expect(colorIndex(4, s)).toBe(255);
    expect(colorIndex(-4, s)).toBe(0);
    expect(colorIndex(-2, s)).toBe(64); // 0.25·255 = 63.75
    expect(colorIndex(2, s)).toBe(191); // 0.75·255 = 191.25
    expect(colorIndex(-100, s)).toBe(0);
    expect(colorIndex(100, s)).toBe(255);
    expect(colorIndex(NaN, s)).toBe(0);
    // symmetric range
    const t: ValueScale = { kind: 'diverging', lo: -1, hi: 1 };
    expect(colorIndex(-1, t)).toBe(0);
    expect(colorIndex(1, t)).toBe(255);
    expect(colorIndex(0, t)).toBe(128);
  });

  it('is monotone non-decreasing in v for every kind', () => {
    const scales: ValueScale[] = [
      { kind: 'linear', lo: -1, hi: 3 },
      { kind: 'log', lo: -3, hi: 1 },
      { kind: 'diverging', lo: -5, hi: 2 },
    ];
    for (const s of scales) {
      let prev = -1;
      const bad: string[] = [];
      const seen = new Set<number>();
      for (let v = -6; v <= 12; v += 0.01) {
        const c = colorIndex(v, s);
        if (!(c >= prev && c >= 0 && c <= 255 && Number.isInteger(c))) bad.push(`${s.kind} v=${v} → ${c} after ${prev}`);
        seen.add(c);
        prev = c;
      }
      expect(bad).toEqual([]);
      expect(seen.has(0) && seen.has(255)).toBe(true);
    }
  });
});

describe('finiteRange', () => {
  it('ignores ±Infinity and NaN', () => {
    const d = new Float32Array([3, -Infinity, NaN, Infinity, -2, 7, NaN]);
    expect(finiteRange(d)).toEqual([-2, 7]);
  });

  it('returns [0, 1] when nothing is finite, or nothing is given', () => {
    expect(finiteRange(new Float32Array([NaN, Infinity, -Infinity]))).toEqual([0, 1]);
    expect(finiteRange(new Float32Array(0))).toEqual([0, 1]);
    expect(finiteRange(new Float32Array([5, 6]), 1, 0)).toEqual([0, 1]);
  });

  it('reads only data[offset, offset + n)', () => {
    const d = new Float32Array([-100, 4, -Infinity, 1, 9, 100]);
    expect(finiteRange(d, 1, 4)).toEqual([1, 9]);
    expect(finiteRange(d, 2)).toEqual([1, 100]);
    expect(finiteRange(d, 0, 2)).toEqual([-100, 4]);
  });

  it('gives lo = hi for a single finite value', () => {
    expect(finiteRange(new Float32Array([NaN, -3.5, Infinity]))).toEqual([-3.5, -3.5]);
  });
});

describe('rasterize: one pixel per cell', () => {
  const rows = 3;
  const cols = 4;
  const data = Float32Array.from({ length: rows * cols }, (_, i) => i);
  const scale: ValueScale = { kind: 'linear', lo: 0, hi: 11 };

  it('draws each cell as one pixel when the output is exactly the matrix size', () => {
    const r = raster({ data, rows, cols, scale });
    expect([r.width, r.height, r.poolRows, r.poolCols]).toEqual([4, 3, 1, 1]);
    expect(r.rgba.length).toBe(4 * 3 * 4);
    for (let y = 0; y < rows; y++)
      for (let x = 0; x < cols; x++) expect(idx(r, x, y)).toBe(colorIndex(y * cols + x, scale));
  });

  it('clamps a larger request to one pixel per cell', () => {
    const r = raster({ data, rows, cols, scale, outW: 400, outH: 99 });
    expect([r.width, r.height, r.poolRows, r.poolCols]).toEqual([4, 3, 1, 1]);
    expect(idx(r, 3, 2)).toBe(255);
    expect(idx(r, 0, 0)).toBe(0);
  });

  it('floors fractional sizes and never goes below one pixel', () => {
    const a = raster({ data, rows, cols, scale, outW: 2.9, outH: 1.5 });
    expect([a.width, a.height]).toEqual([2, 1]);
    const b = raster({ data, rows, cols, scale, outW: 0, outH: -5 });
    expect([b.width, b.height]).toEqual([1, 1]);
    expect(idx(b, 0, 0)).toBe(255); // the max of the whole matrix
  });

  it('uses the default light-grey mask colour when none is given', () => {
    const r = rasterize({ data: new Float32Array([NaN]), rows: 1, cols: 1, outW: 1, outH: 1, scale: LIN01, lut: LUT });
    expect(px(r, 0, 0)).toEqual([236, 236, 240, 255]);
  });

  it('reuses an output buffer of the right size and replaces one of the wrong size', () => {
    const buf = new Uint8ClampedArray(4 * 3 * 4);
    const r = raster({ data, rows, cols, scale, out: buf });
    expect(r.rgba).toBe(buf);
    expect(buf[(2 * 4 + 3) * 4]).toBe(255);
    const small = new Uint8ClampedArray(8);
    const r2 = raster({ data, rows, cols, scale, out: small });
    expect(r2.rgba).not.toBe(small);
    expect(r2.rgba.length).toBe(48);
  });

  it('reads the matrix starting at offset', () => {
    const padded = new Float32Array(5 + rows * cols).fill(11);
    padded.set(data, 5);
    const r = raster({ data: padded, offset: 5, rows, cols, scale });
    expect(image(r)).toEqual(image(raster({ data, rows, cols, scale })));
    expect(idx(r, 0, 0)).toBe(0);
  });
});

describe('rasterize: max-pooling', () => {
  it('keeps a single peak visible when downsampling 100×100 → 10×10', () => {
    const n = 100;
    for (const [pi, pj] of [
      [37, 82],
      [0, 0],
      [99, 99],
      [50, 9],
      [9, 50],
    ]) {
      const data = new Float32Array(n * n);
      for (let i = 0; i < data.length; i++) data[i] = 0.01 * ((i * 7919) % 13) / 13; // low background
      data[pi * n + pj] = 1;
      const r = raster({ data, rows: n, cols: n, outW: 10, outH: 10 });
      expect([r.width, r.height, r.poolRows, r.poolCols]).toEqual([10, 10, 10, 10]);
      const img = image(r);
      for (let y = 0; y < 10; y++)
        for (let x = 0; x < 10; x++) {
          if (y === Math.floor(pi / 10) && x === Math.floor(pj / 10)) expect(img[y][x]).toBe(255);
          else expect(img[y][x]).toBeLessThan(5);
        }
    }
  });

  it('lights exactly one pixel for a peak anywhere, with uneven pooling (7×13 → 3×5)', () => {
    const rows = 7;
    const cols = 13;
    for (let pi = 0; pi < rows; pi++)
      for (let pj = 0; pj < cols; pj++) {
        const data = new Float32Array(rows * cols);
        data[pi * cols + pj] = 1;
        const r = raster({ data, rows, cols, outW: 5, outH: 3 });
        expect([r.width, r.height]).toEqual([5, 3]);
        expect(r.poolRows).toBeCloseTo(7 / 3, 12);
        expect(r.poolCols).toBeCloseTo(13 / 5, 12);
        const lit: [number, number][] = [];
        for (let y = 0; y < 3; y++) for (let x = 0; x < 5; x++) if (idx(r, x, y) === 255) lit.push([x, y]);
        expect(lit).toHaveLength(1);
        const [x, y] = lit[0];
        // the lit pixel is where the cell is, give or take the rounding of uneven pools
        expect(Math.abs(x - (pj * 5) / cols)).toBeLessThan(1);
        expect(Math.abs(y - (pi * 3) / rows)).toBeLessThan(1);
      }
  });

  it('pools by maximum on linear scales (a negative value does not win)', () => {
    // 2×2 → 1×1
    const data = new Float32Array([-5, 0.25, 0.5, 0]);
    const r = raster({ data, rows: 2, cols: 2, outW: 1, outH: 1, scale: { kind: 'linear', lo: -5, hi: 5 } });
    expect(idx(r, 0, 0)).toBe(colorIndex(0.5, { kind: 'linear', lo: -5, hi: 5 }));
  });

  it('pools diverging scales by the largest magnitude, keeping its sign', () => {
    const n = 100;
    const scale: ValueScale = { kind: 'diverging', lo: -5, hi: 5 };
    const data = new Float32Array(n * n);
    for (let i = 0; i < data.length; i++) data[i] = 0.2 * Math.sin(i); // small signed background
    data[12 * n + 34] = -5; // strong negative
    data[77 * n + 55] = 4; // strong positive
    // a pixel holding both +2 and −3: −3 must win
    data[90 * n + 10] = 2;
    data[91 * n + 11] = -3;
    const r = raster({ data, rows: n, cols: n, outW: 10, outH: 10, scale });
    expect(idx(r, 3, 1)).toBe(0); // −5 → bottom of the map
    expect(idx(r, 5, 7)).toBe(colorIndex(4, scale));
    expect(idx(r, 1, 9)).toBe(colorIndex(-3, scale));
    // background pixels stay near the middle
    const mid = colorIndex(0, scale);
    expect(Math.abs((idx(r, 8, 8) as number) - mid)).toBeLessThan(10);
  });

  it('keeps a positive value that is larger in magnitude than a negative one (diverging)', () => {
    const scale: ValueScale = { kind: 'diverging', lo: -1, hi: 1 };
    const r = raster({ data: new Float32Array([-0.3, 0.9, 0.1, -0.8]), rows: 2, cols: 2, outW: 1, outH: 1, scale });
    expect(idx(r, 0, 0)).toBe(colorIndex(0.9, scale));
    const r2 = raster({ data: new Float32Array([-0.95, 0.9, 0.1, -0.8]), rows: 2, cols: 2, outW: 1, outH: 1, scale });
    expect(idx(r2, 0, 0)).toBe(colorIndex(-0.95, scale));
  });
});

describe('rasterize: causal mask', () => {
  const ones = (n: number) => new Float32Array(n * n).fill(1);

  it('masks cells j > i + offset', () => {
    for (const off of [0, 1, 2, -1, -2]) {
      const n = 5;
      const r = raster({ data: ones(n), rows: n, cols: n, causalOffset: off });
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) expect(idx(r, j, i)).toBe(j > i + off ? 'mask' : 255);
    }
  });

  it('draws no mask when causalOffset is null or absent', () => {
    const n = 4;
    for (const causalOffset of [null, undefined]) {
      const r = raster({ data: ones(n), rows: n, cols: n, causalOffset });
      expect(image(r).flat().every((c) => c === 255)).toBe(true);
    }
  });

  it('excludes masked cells from pooling (linear)', () => {
    // 8×8 → 4×4: the upper triangle holds large values that must not leak into the pixels
    const n = 8;
    const data = new Float32Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) data[i * n + j] = j > i ? 1 : 0.25;
    const r = raster({ data, rows: n, cols: n, outW: 4, outH: 4, causalOffset: 0 });
    const q = colorIndex(0.25, LIN01);
    for (let y = 0; y < 4; y++)
      for (let x = 0; x < 4; x++) expect(idx(r, x, y)).toBe(x > y ? 'mask' : q); // diagonal pixels mix both
  });

  it('excludes masked cells from pooling (diverging)', () => {
    const n = 8;
    const scale: ValueScale = { kind: 'diverging', lo: -1, hi: 1 };
    const data = new Float32Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) data[i * n + j] = j > i ? -1 : 0.5;
    const r = raster({ data, rows: n, cols: n, outW: 4, outH: 4, causalOffset: 0, scale });
    for (let y = 0; y < 4; y++)
      for (let x = 0; x < 4; x++) expect(idx(r, x, y)).toBe(x > y ? 'mask' : colorIndex(0.5, scale));
  });

  it('uses absolute matrix indices inside a window', () => {
    const n = 6;
    const r = raster({ data: ones(n), rows: n, cols: n, win: { r0: 2, r1: 5, c0: 1, c1: 6 }, outW: 99, outH: 99, causalOffset: 0 });
    expect([r.width, r.height]).toEqual([5, 3]);
    for (let y = 0; y < 3; y++)
      for (let x = 0; x < 5; x++) {
        const i = 2 + y;
        const j = 1 + x;
        expect(idx(r, x, y)).toBe(j > i ? 'mask' : 255);
      }
  });
});

describe('rasterize: windows', () => {
  const n = 6;
  const data = Float32Array.from({ length: n * n }, (_, i) => i);
  const scale: ValueScale = { kind: 'linear', lo: 0, hi: 35 };

  it('draws exactly the cells of the window', () => {
    const win = { r0: 1, r1: 3, c0: 2, c1: 5 };
    const r = raster({ data, rows: n, cols: n, win, outW: 100, outH: 100, scale });
    expect([r.width, r.height, r.poolRows, r.poolCols]).toEqual([3, 2, 1, 1]);
    for (let y = 0; y < 2; y++)
      for (let x = 0; x < 3; x++) expect(idx(r, x, y)).toBe(colorIndex((1 + y) * n + 2 + x, scale));
  });

  it('pools only inside the window', () => {
    // window rows 0..2, cols 0..2 → 1 pixel: max is cell (1,1) = 7, not anything outside
    const r = raster({ data, rows: n, cols: n, win: { r0: 0, r1: 2, c0: 0, c1: 2 }, outW: 1, outH: 1, scale });
    expect([r.width, r.height, r.poolRows, r.poolCols]).toEqual([1, 1, 2, 2]);
    expect(idx(r, 0, 0)).toBe(colorIndex(7, scale));
  });

  it('a single-cell window draws that cell', () => {
    const r = raster({ data, rows: n, cols: n, win: { r0: 4, r1: 5, c0: 3, c1: 4 }, outW: 10, outH: 10, scale });
    expect([r.width, r.height]).toEqual([1, 1]);
    expect(idx(r, 0, 0)).toBe(colorIndex(27, scale));
  });
});

describe('rasterize: non-finite values', () => {
  const scales: ValueScale[] = [
    { kind: 'linear', lo: 0, hi: 1 },
    { kind: 'log', lo: -3, hi: 0 },
    { kind: 'diverging', lo: -1, hi: 1 },
  ];

  it('draws NaN and -Infinity as the mask colour', () => {
    for (const scale of scales) {
      const r = raster({ data: new Float32Array([NaN, -Infinity, 0.5, 1]), rows: 2, cols: 2, scale });
      expect(idx(r, 0, 0)).toBe('mask');
      expect(idx(r, 1, 0)).toBe('mask');
      expect(idx(r, 0, 1)).toBe(colorIndex(0.5, scale));
      expect(idx(r, 1, 1)).toBe(colorIndex(1, scale));
    }
  });

  it('pools around NaN and -Infinity: a finite neighbour wins', () => {
    for (const scale of scales) {
      const r = raster({ data: new Float32Array([NaN, -Infinity, -Infinity, 0.5]), rows: 2, cols: 2, outW: 1, outH: 1, scale });
      expect(idx(r, 0, 0)).toBe(colorIndex(0.5, scale));
      const all = raster({ data: new Float32Array([NaN, -Infinity, -Infinity, NaN]), rows: 2, cols: 2, outW: 1, outH: 1, scale });
      expect(idx(all, 0, 0)).toBe('mask');
    }
  });

  it('a scores matrix with -Infinity above the diagonal looks like a causal mask', () => {
    const n = 4;
    const data = new Float32Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) data[i * n + j] = j > i ? -Infinity : (i - j) / 4;
    const scale: ValueScale = { kind: 'diverging', lo: -1, hi: 1 };
    const r = raster({ data, rows: n, cols: n, scale });
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) expect(idx(r, j, i)).toBe(j > i ? 'mask' : colorIndex((i - j) / 4, scale));
  });
});

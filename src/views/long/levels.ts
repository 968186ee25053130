import { colorIndex, type ValueScale } from '../../core/raster';
import type { Lut } from '../../core/colormap';
import { poolBy } from '../../core/longPlan';
import type { LongLayer, LongMap } from '../../state/longStore';

const MASK = [236, 236, 240, 255];

/** RGBA of a `[P, Pc]` map, one pixel per cell; −1 (masked) is light grey. */
export function mapRgba(map: Float32Array, P: number, Pc: number, scale: ValueScale, lut: Lut): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray(P * Pc * 4);
  for (let i = 0; i < P * Pc; i++) {
    const v = map[i];
    const o = 4 * i;
    if (v < 0) {
      out[o] = MASK[0];
      out[o + 1] = MASK[1];
      out[o + 2] = MASK[2];
      out[o + 3] = 255;
      continue;
    }
    const c = 4 * colorIndex(v, scale);
    out[o] = lut[c];
    out[o + 1] = lut[c + 1];
    out[o + 2] = lut[c + 2];
    out[o + 3] = 255;
  }
  return out;
}

/**
 * A canvas holding a map's colours (drawn scaled by the views, never re-rasterized per frame).
 * Coloured in strips of 64 rows through one small buffer: a whole-map RGBA array (4 MiB for
 * 1024²) would be garbage the moment it is put, and raise the page's peak memory.
 */
export function mapCanvas(map: Float32Array, P: number, Pc: number, scale: ValueScale, lut: Lut): HTMLCanvasElement | OffscreenCanvas {
  const c = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(Pc, P) : Object.assign(document.createElement('canvas'), { width: Pc, height: P });
  const ctx = c.getContext('2d') as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;
  const STRIP = 64;
  for (let r0 = 0; r0 < P; r0 += STRIP) {
    const rows = Math.min(STRIP, P - r0);
    ctx.putImageData(new ImageData(mapRgba(map.subarray(r0 * Pc, (r0 + rows) * Pc), rows, Pc, scale, lut), Pc, rows), 0, r0);
  }
  return c;
}

/** The colour scale of a long map: linear from 0 to the map's largest weight, or log10 from a tenth of uniform to 1. */
export function longScale(mode: 'weights' | 'logWeights', map: Float32Array | null, N: number): ValueScale {
  if (mode === 'logWeights') return { kind: 'log', lo: Math.floor(Math.log10(1 / Math.max(2, N))) - 1, hi: 0 };
  let hi = 0;
  if (map) for (let i = 0; i < map.length; i++) if (map[i] > hi) hi = map[i];
  return { kind: 'linear', lo: 0, hi: hi || 1 };
}

/**
 * The pyramid of a head's base map: level 0 is the map (pool factor f), level L max-pools it by
 * 2^L, down to one that fits `minSide` cells. Built lazily, so peaks stay visible at every zoom.
 */
export class Pyramid {
  private levels: { f: number; P: number; Pc: number; map: Float32Array }[];
  private canvases: (HTMLCanvasElement | OffscreenCanvas | null)[] = [];

  constructor(
    readonly base: LongMap,
    private scale: ValueScale,
    private lut: Lut,
  ) {
    this.levels = [{ f: base.f, P: base.P, Pc: base.Pc, map: base.map }];
  }

  /** The finest level whose cells are at least `cellsPerPixel` cells of the matrix (≥ 1). */
  level(cellsPerPixel: number): { f: number; P: number; Pc: number; canvas: HTMLCanvasElement | OffscreenCanvas } {
    let L = 0;
    while (this.levelF(L) < cellsPerPixel && this.levels[L].P > 1) {
      L++;
      if (!this.levels[L]) {
        const prev = this.levels[L - 1];
        const p = poolBy(prev.map, prev.P, prev.Pc, 2);
        this.levels[L] = { f: prev.f * 2, ...p };
      }
    }
    const lv = this.levels[L];
    this.canvases[L] ??= mapCanvas(lv.map, lv.P, lv.Pc, this.scale, this.lut);
    return { f: lv.f, P: lv.P, Pc: lv.Pc, canvas: this.canvases[L]! };
  }

  /** Makes every level's canvas now (after the first frame), so that no zoom frame has to. */
  prepare(): void {
    for (let cpp = this.base.f; ; cpp *= 2) {
      const lv = this.level(cpp);
      if (lv.P <= 1) break;
    }
  }

  /** Bytes of the colour canvases made so far (RGBA, one pixel per level cell). */
  get canvasBytes(): number {
    return this.levels.reduce((a, lv, L) => a + (this.canvases[L] ? lv.P * lv.Pc * 4 : 0), 0);
  }

  private levelF(L: number): number {
    return this.levels[L] ? this.levels[L].f : this.levels[0].f * 2 ** L;
  }
}

/** The exact weight of query i, key j from Q, K and the row's softmax max and sum (−∞ where masked). */
export function exactWeight(x: LongLayer, head: number, stats: NonNullable<LongMap['stats']>, i: number, j: number, allowed: (i: number, j: number) => boolean): { weight: number; score: number } {
  const d = x.d;
  const qo = (head * x.N + i) * d;
  const ko = (x.kvOf[head] * x.N + j) * d;
  let s = 0;
  for (let t = 0; t < d; t++) s += x.q[qo + t] * x.k[ko + t];
  s *= x.scale;
  if (!allowed(i, j) || !(stats.sum[i] > 0)) return { weight: 0, score: -Infinity };
  return { weight: Math.exp(s - stats.max[i]) / stats.sum[i], score: s };
}

/** Which keys query i sees under the page's mask. */
export function allowedFn(causal: boolean, method: { kind: string; window: number; sinks: number }): (i: number, j: number) => boolean {
  if (!causal) return () => true;
  if (method.kind === 'dense') return (i, j) => j <= i;
  const w = Math.max(1, method.window);
  const s = method.kind === 'sinks' ? method.sinks : 0;
  return (i, j) => j <= i && (j > i - w || j < s);
}

import { interpolateCividis, interpolateMagma, interpolateViridis, interpolateRdBu, interpolatePuOr, rgb } from 'd3';

import type { ColorMapName } from './colormapNames';
export { SEQUENTIAL_MAPS, DIVERGING_MAPS, type SequentialMap, type DivergingMap, type ColorMapName } from './colormapNames';

const INTERP: Record<ColorMapName, (t: number) => string> = {
  viridis: interpolateViridis,
  magma: interpolateMagma,
  cividis: interpolateCividis,
  // d3's RdBu runs red→blue: flip it so that positive values are warm (red).
  RdBu: (t) => interpolateRdBu(1 - t),
  // d3's PuOr runs purple→orange: positive values are already warm (orange).
  PuOr: (t) => interpolatePuOr(t),
};

/** A 256-entry RGBA lookup table. */
export type Lut = Uint8ClampedArray;

const cache = new Map<ColorMapName, Lut>();

/** The 256-entry RGBA lookup table of a colour map (cached). */
export function lut(name: ColorMapName): Lut {
  let l = cache.get(name);
  if (!l) {
    l = new Uint8ClampedArray(256 * 4);
    for (let i = 0; i < 256; i++) {
      const c = rgb(INTERP[name](i / 255));
      l[i * 4] = c.r;
      l[i * 4 + 1] = c.g;
      l[i * 4 + 2] = c.b;
      l[i * 4 + 3] = 255;
    }
    cache.set(name, l);
  }
  return l;
}

/** CSS colour of a map at t ∈ [0, 1], for legends. */
export function cssColor(name: ColorMapName, t: number): string {
  const l = lut(name);
  const i = Math.max(0, Math.min(255, Math.round(t * 255))) * 4;
  return `rgb(${l[i]}, ${l[i + 1]}, ${l[i + 2]})`;
}


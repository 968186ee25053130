import { rasterize, type CellWindow, type Raster } from '../../core/raster';
import { lut } from '../../core/colormap';
import type { MapSpec } from './mapSpec';

/** Rasterizes a window of a map at ≤ one pixel per cell (max-pooled) and draws it into `dest`. */
export function paintMap(
  ctx: CanvasRenderingContext2D,
  spec: MapSpec,
  win: CellWindow,
  dest: { x: number; y: number; w: number; h: number },
  dpr: number,
  scratch: { canvas?: HTMLCanvasElement | OffscreenCanvas },
): Raster {
  const raster = rasterize({
    data: spec.data,
    offset: spec.offset,
    rows: spec.rows,
    cols: spec.cols,
    win,
    outW: Math.max(1, Math.ceil(dest.w * dpr)),
    outH: Math.max(1, Math.ceil(dest.h * dpr)),
    scale: spec.scale,
    lut: lut(spec.colormap),
    causalOffset: spec.causalOffset,
    // On a diverging map the light grey of masked cells would read as a score near zero.
    maskColor: spec.scale.kind === 'diverging' ? [150, 150, 156, 255] : undefined,
  });
  let c = scratch.canvas;
  if (!c) {
    c = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(raster.width, raster.height) : document.createElement('canvas');
    scratch.canvas = c;
  }
  if (c.width !== raster.width || c.height !== raster.height) {
    c.width = raster.width;
    c.height = raster.height;
  }
  const sctx = c.getContext('2d') as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;
  sctx.putImageData(new ImageData(raster.rgba as Uint8ClampedArray<ArrayBuffer>, raster.width, raster.height), 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(c, 0, 0, raster.width, raster.height, dest.x * dpr, dest.y * dpr, dest.w * dpr, dest.h * dpr);
  return raster;
}

/** Sizes a canvas for the device pixel ratio and returns its 2-D context (transform reset). */
export function prepareCanvas(canvas: HTMLCanvasElement, w: number, h: number, dpr: number): CanvasRenderingContext2D {
  const W = Math.round(w * dpr);
  const H = Math.round(h * dpr);
  if (canvas.width !== W) canvas.width = W;
  if (canvas.height !== H) canvas.height = H;
  // Only write styles that change: a redundant write still invalidates style on every hover.
  if (canvas.style.width !== `${w}px`) canvas.style.width = `${w}px`;
  if (canvas.style.height !== `${h}px`) canvas.style.height = `${h}px`;
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  return ctx;
}

import { useLayoutEffect, useRef } from 'react';
import { paintMap, prepareCanvas } from './paint';
import type { MapSpec } from './mapSpec';

/**
 * A `[rows, cols]` block of `data` (from `offset`) drawn w × h on the PuOr diverging scale
 * [−limit, limit], with a caption: PGQA's outputs and noise, MergeLock's weights.
 */
export function DivergingMatrix({ data, offset = 0, rows, cols, limit, title, w, h, testId }: { data: Float32Array; offset?: number; rows: number; cols: number; limit: number; title: string; w: number; h: number; testId?: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const scratch = useRef<{ canvas?: HTMLCanvasElement | OffscreenCanvas }>({});
  useLayoutEffect(() => {
    const c = ref.current;
    if (!c) return;
    const dpr = window.devicePixelRatio || 1;
    const ctx = prepareCanvas(c, w, h, dpr);
    const spec: MapSpec = { data, offset, rows, cols, scale: { kind: 'diverging', lo: -limit, hi: limit }, colormap: 'PuOr', causalOffset: null, label: title };
    paintMap(ctx, spec, { r0: 0, r1: rows, c0: 0, c1: cols }, { x: 0, y: 0, w, h }, dpr, scratch.current);
  }, [data, offset, rows, cols, limit, w, h, title]);
  return (
    <figure className="out-map">
      <canvas ref={ref} role="img" aria-label={title} data-testid={testId} />
      <figcaption className="small">{title}</figcaption>
    </figure>
  );
}

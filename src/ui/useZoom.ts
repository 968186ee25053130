import { useEffect, useRef } from 'react';
import { ZOOM_EVENT } from './events';
import { select, zoom, zoomIdentity, type ZoomBehavior } from 'd3';

export interface ZoomState {
  k: number;
  x: number;
  y: number;
}

/**
 * Wheel/drag zoom and pan on an element, confined to `[0, width] × [0, height]` (the plot can
 * never be dragged away). The only place in the app that calls `d3.select` (DESIGN.md §5).
 * Returns a `reset` function; `onZoom` receives every transform.
 */
export function useZoom(
  el: React.RefObject<Element | null>,
  width: number,
  height: number,
  maxScale: number,
  onZoom: (t: ZoomState) => void,
): { reset: () => void; zoomBy: (factor: number) => void } {
  const behaviour = useRef<ZoomBehavior<Element, unknown> | null>(null);
  const cb = useRef(onZoom);
  cb.current = onZoom;

  useEffect(() => {
    const node = el.current;
    if (!node) return;
    const z = zoom<Element, unknown>()
      .scaleExtent([1, Math.max(1, maxScale)])
      .extent([
        [0, 0],
        [width, height],
      ])
      .translateExtent([
        [0, 0],
        [width, height],
      ])
      .on('zoom', (e: { transform: ZoomState }) => cb.current({ k: e.transform.k, x: e.transform.x, y: e.transform.y }));
    behaviour.current = z;
    const sel = select(node);
    sel.call(z);
    sel.on('dblclick.zoom', null); // double-click is for locking, not zooming
    return () => {
      sel.on('.zoom', null);
      behaviour.current = null;
    };
  }, [el, width, height, maxScale]);

  return {
    reset: () => {
      if (el.current && behaviour.current) select(el.current).call(behaviour.current.transform, zoomIdentity);
    },
    zoomBy: (factor: number) => {
      if (el.current && behaviour.current) select(el.current).call(behaviour.current.scaleBy, factor);
    },
  };
}

/**
 * Follows the page's zoom keys (+ − 0), sent as a window event so that views import nothing
 * from the app: a factor zooms by it, 0 resets.
 */
export function useZoomKeys(zoom: { reset: () => void; zoomBy: (factor: number) => void }): void {
  useEffect(() => {
    const on = (e: Event) => {
      const f = (e as CustomEvent<number>).detail;
      if (f === 0) zoom.reset();
      else zoom.zoomBy(f);
    };
    window.addEventListener(ZOOM_EVENT, on);
    return () => window.removeEventListener(ZOOM_EVENT, on);
  }, [zoom]);
}

import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { useStore } from 'zustand';
import { cellAt, cellRect, IDENTITY, visibleWindow, type ZoomTransform } from '../../core/layout';
import { lut } from '../../core/colormap';
import type { LongStore } from '../../state/longStore';
import { useZoom, useZoomKeys } from '../../ui/useZoom';
import { prepareCanvas } from '../shared/paint';
import { useElementWidth } from '../../ui/useElementWidth';
import { Legend } from '../shared/Legend';
import { fmtValue, showToken } from '../shared/format';
import { drawHeatmapOverlay } from '../heatmap/drawOverlay';
import { allowedFn, exactWeight, longScale, mapCanvas, Pyramid } from './levels';
import { poolBy } from '../../core/longPlan';
import { LongAxes } from './LongAxes';

const LEFT = 64;
const TOP = 40;
/** Cells per side at or below which a zoomed view asks for its exact weights (the controller's limit). */
export const EXACT_SIDE = 1024;

/**
 * The shown head of a long sequence. Cells come from the head's max-pooled map and the pyramid
 * above it (the level picked from the zoom, so a pixel always shows the largest of the cells
 * under it); zoomed in to at most {@link EXACT_SIDE} cells a side, the exact weights of the
 * visible window replace them. Drawing is one `drawImage` of a cached canvas per frame. Hover
 * reads the exact weight of the cell from Q, K and the row's softmax stats, in the page.
 */
export function LongHeatmap({ store, maxSize = 640 }: { store: LongStore; maxSize?: number }) {
  const view = useStore(store, (s) => s.view);
  const win = useStore(store, (s) => s.window);
  const inputs = useStore(store, (s) => s.inputs);
  const tokens = useStore(store, (s) => s.tokens);
  const mode = useStore(store, (s) => s.mode);
  const cmap = useStore(store, (s) => s.colormap);
  const N = inputs?.N ?? 1;
  const wrap = useRef<HTMLDivElement>(null);
  const width = useElementWidth(wrap, maxSize + LEFT);
  const size = Math.max(160, Math.min(maxSize, Math.floor(width - LEFT - 8)));
  const cells = useRef<HTMLCanvasElement>(null);
  const overlay = useRef<HTMLCanvasElement>(null);
  const tip = useRef<HTMLDivElement>(null);
  const [t, setT] = useState<ZoomTransform>(IDENTITY);
  const tRef = useRef(t);
  tRef.current = t;
  const dpr = typeof window !== 'undefined' ? window.devicePixelRatio || 1 : 1;

  const scale = useMemo(() => longScale(mode, view?.map ?? null, N), [mode, view, N]);
  const table = useMemo(() => lut(cmap), [cmap]);
  const pyramid = useMemo(() => (view ? new Pyramid(view, scale, table) : null), [view, scale, table]);
  // The finer levels' colours are made while the page is idle, not in the first zoom frame (about 40 ms for 1024²).
  useEffect(() => {
    if (!pyramid) return;
    const id = setTimeout(() => pyramid.prepare(), 50);
    return () => clearTimeout(id);
  }, [pyramid]);
  // The visible window and how many matrix cells fall on one device pixel.
  const vis = useMemo(() => visibleWindow(N, N, size, size, t).win, [N, size, t]);
  const perPixel = Math.max(vis.r1 - vis.r0, vis.c1 - vis.c0) / (size * dpr);
  // The exact window's colours, max-pooled by k (a whole number of cells per pixel) when it
  // holds more cells than the plot has pixels; rebuilt only when k changes.
  const k = Math.max(1, Math.ceil(perPixel - 1e-9));
  const exact = useMemo(() => {
    if (!win || !view || k >= view.f) return null; // the pyramid is as fine there
    const rows = win.r1 - win.r0;
    const cols = win.c1 - win.c0;
    const p = k > 1 ? poolBy(win.data, rows, cols, k) : { map: win.data, P: rows, Pc: cols };
    return { win, k, P: p.P, Pc: p.Pc, canvas: mapCanvas(p.map, p.P, p.Pc, scale, table) };
  }, [win, view, k, scale, table]);

  const zoom = useZoom(overlay, size, size, Math.max(1, (N * 24) / size), setT);
  useEffect(() => zoom.reset(), [N, size]); // eslint-disable-line react-hooks/exhaustive-deps
  useZoomKeys(zoom);

  // Static layer: one drawImage from the pyramid level (or the exact window) per zoom frame.
  const [shown, setShown] = useState<{ f: number; exact: boolean }>({ f: 1, exact: false });
  // Only a change re-renders (the legend's note): a new object every frame would loop.
  const show = (f: number, exact: boolean) => setShown((p) => (p.f === f && p.exact === exact ? p : { f, exact }));
  useLayoutEffect(() => {
    const c = cells.current;
    if (!c) return;
    const t0 = performance.now();
    const ctx = prepareCanvas(c, size, size, dpr);
    ctx.fillStyle = '#ececf0';
    ctx.fillRect(0, 0, c.width, c.height);
    if (!pyramid) return;
    const w = vis;
    const side = Math.max(w.r1 - w.r0, w.c1 - w.c0);
    ctx.imageSmoothingEnabled = false;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const covers = exact && exact.win.r0 <= w.r0 && exact.win.r1 >= w.r1 && exact.win.c0 <= w.c0 && exact.win.c1 >= w.c1;
    // The exact window wherever it is finer than the pyramid's best level; the pyramid otherwise.
    if (covers && exact.k < pyramid.base.f) {
      drawLevel(ctx, { f: exact.k, P: exact.P, Pc: exact.Pc, r0: exact.win.r0, c0: exact.win.c0, r1: exact.win.r1, c1: exact.win.c1, canvas: exact.canvas }, w, N, size, t);
      show(exact.k, true);
    } else {
      const lv = pyramid.level(perPixel);
      drawLevel(ctx, { ...lv, r0: 0, c0: 0, r1: N, c1: N }, w, N, size, t);
      show(lv.f, false);
    }
    c.dataset.painted = String(Number(c.dataset.painted ?? 0) + 1);
    // The benchmark's "first full-view heatmap": the first frame with a computed map.
    if (performance.getEntriesByName('qk:long-first-paint').length === 0) performance.mark('qk:long-first-paint');
    c.dataset.frameMs = (performance.now() - t0).toFixed(2);
    // For the benchmark: bytes of the colour canvases behind this view (pyramid levels, exact window).
    c.dataset.canvasBytes = String(pyramid.canvasBytes + (exact ? exact.P * exact.Pc * 4 : 0));
    // Zoomed out again: the exact window is let go (its memory is outside the plan).
    if (side > EXACT_SIDE && store.getState().wantWindow) {
      const id = setTimeout(() => store.getState().set({ wantWindow: null, window: null }), 120);
      return () => clearTimeout(id);
    }
    // Zoomed in far enough: ask for the exact weights around the visible window.
    if (view && view.f > 1 && side <= EXACT_SIDE) {
      const grow = (a: number, b: number) => {
        // A margin for panning: the window is at most 1.5 × the visible side and 1.5 × EXACT_SIDE (the plan counts that much).
        const m = Math.max(0, Math.floor(Math.min(1.5 * EXACT_SIDE - (b - a), (b - a) / 2) / 2));
        return [Math.max(0, a - m), Math.min(N, b + m)];
      };
      const [r0, r1] = grow(w.r0, w.r1);
      const [c0, c1] = grow(w.c0, w.c1);
      const cur = store.getState().wantWindow;
      const inside = cur && cur.r0 <= w.r0 && cur.r1 >= w.r1 && cur.c0 <= w.c0 && cur.c1 >= w.c1 && cur.r1 - cur.r0 <= 2 * side + 2;
      if (!inside) {
        const id = setTimeout(() => store.getState().set({ wantWindow: { r0, r1, c0, c1 } }), 120);
        return () => clearTimeout(id);
      }
    }
  }, [pyramid, exact, vis, perPixel, t, size, N, dpr, view, store]);

  const allowed = useCallback((i: number, j: number) => {
    const s = store.getState();
    return allowedFn(s.causal, s.method)(i, j);
  }, [store]);

  const drawOverlay = useCallback(() => {
    const c = overlay.current;
    if (!c) return;
    const s = store.getState();
    const ctx = prepareCanvas(c, size, size, dpr);
    const cell = s.locked ?? s.hover;
    drawHeatmapOverlay(ctx, cell ? { q: cell.q, k: cell.k } : null, !!s.locked, N, N, size, tRef.current, dpr);
  }, [store, size, dpr, N]);
  useEffect(() => {
    drawOverlay();
    return store.subscribe((s, p) => {
      if (s.hover !== p.hover || s.locked !== p.locked) drawOverlay();
    });
  }, [store, drawOverlay]);
  useEffect(drawOverlay, [t, drawOverlay]);

  const showTip = (x: number, y: number, i: number, j: number) => {
    const el = tip.current;
    const s = store.getState();
    if (!el || !s.inputs || !s.view?.stats) return;
    const { weight, score } = exactWeight(s.inputs, s.view.head, s.view.stats, i, j, allowed);
    const lines = [
      `query ${i} “${showToken(s.tokens[i] ?? '', 20)}” → key ${j} “${showToken(s.tokens[j] ?? '', 20)}”`,
      score === -Infinity ? 'masked' : `weight ${fmtValue(weight)}   score ${fmtValue(score)}`,
      `row ${i}: entropy ${s.view.stats.entropy[i].toFixed(3)} nats, distance ${s.view.stats.distance[i].toFixed(1)}`,
    ];
    while (el.childElementCount < lines.length) el.appendChild(document.createElement('div'));
    lines.forEach((line, n) => {
      (el.children[n] as HTMLElement).textContent = line; // token text is never parsed as HTML
    });
    el.hidden = false;
    el.style.transform = `translate(${LEFT + Math.min(x + 14, size - 220)}px, ${TOP + y + 16}px)`;
  };
  const hit = (ev: React.PointerEvent | React.MouseEvent) => {
    const box = (ev.currentTarget as HTMLElement).getBoundingClientRect();
    const x = ev.clientX - box.left;
    const y = ev.clientY - box.top;
    return { x, y, cell: cellAt(x, y, N, N, size, size, tRef.current) };
  };
  const onMove = (ev: React.PointerEvent) => {
    const h = hit(ev);
    if (!h.cell || !view) {
      store.getState().hoverAt(null);
      if (tip.current) tip.current.hidden = true;
      return;
    }
    const t0 = performance.now();
    store.getState().hoverAt({ q: h.cell.i, k: h.cell.j });
    showTip(h.x, h.y, h.cell.i, h.cell.j);
    if (overlay.current) overlay.current.dataset.hoverMs = (performance.now() - t0).toFixed(2);
  };
  const onLeave = () => {
    store.getState().hoverAt(null);
    if (tip.current) tip.current.hidden = true;
  };
  const onClick = (ev: React.MouseEvent) => {
    const h = hit(ev);
    if (h.cell) store.getState().lockAt({ q: h.cell.i, k: h.cell.j });
  };

  const note = shown.exact ? `exact weights of the zoomed window${shown.f > 1 ? `, each pixel the largest of ${shown.f}×${shown.f}` : ''}` : shown.f > 1 ? `max-pooled: each pixel shows the largest of ${shown.f}×${shown.f} cells` : null;
  return (
    <section className="view heatmap long-heatmap" aria-label="long-context attention heatmap">
      <header className="view-head">
        <h2>Head {view?.head ?? 0}{view ? <small> · {N} × {N}</small> : null}</h2>
        <div className="zoom-buttons">
          <button onClick={() => zoom.zoomBy(2)} aria-label="zoom in">+</button>
          <button onClick={() => zoom.zoomBy(0.5)} aria-label="zoom out">−</button>
          <button onClick={() => zoom.reset()} aria-label="reset zoom">1:1</button>
          <span className="muted" data-testid="long-zoom">{t.k > 1.001 ? `${t.k.toFixed(1)}×` : 'wheel to zoom, drag to pan'}</span>
        </div>
      </header>
      <div className="heatmap-body" ref={wrap}>
        <div className="heatmap-stage" style={{ width: LEFT + size, height: TOP + size }}>
          <LongAxes tokens={tokens} N={N} size={size} t={t} left={LEFT} top={TOP} />
          <canvas ref={cells} className="layer cells" style={{ left: LEFT, top: TOP }} data-testid="long-cells" />
          <canvas ref={overlay} className="layer overlay" style={{ left: LEFT, top: TOP, width: size, height: size }} data-testid="long-overlay" onPointerMove={onMove} onPointerLeave={onLeave} onClick={onClick} />
          <div ref={tip} className="tooltip" role="status" hidden data-testid="long-tip" />
        </div>
      </div>
      {view ? <Legend colormap={cmap} scale={scale} label={mode === 'logWeights' ? 'log₁₀ weight' : 'weight'} note={note} /> : null}
    </section>
  );
}

/** A map level: `[P, Pc]` cells of f × f matrix cells each, covering rows [r0, r1) × columns [c0, c1). */
interface Level {
  f: number;
  P: number;
  Pc: number;
  r0: number;
  c0: number;
  r1: number;
  c1: number;
  canvas: HTMLCanvasElement | OffscreenCanvas;
}

/**
 * Draws the level cells under the visible window `w` with one drawImage. A level's last row or
 * column may cover fewer than f matrix cells: the source rectangle takes only that fraction of
 * it, so every cell lands exactly on its matrix cells.
 */
function drawLevel(ctx: CanvasRenderingContext2D, lv: Level, w: { r0: number; r1: number; c0: number; c1: number }, N: number, size: number, t: ZoomTransform): void {
  const R0 = Math.max(0, Math.floor((w.r0 - lv.r0) / lv.f));
  const R1 = Math.min(lv.P, Math.ceil((w.r1 - lv.r0) / lv.f));
  const C0 = Math.max(0, Math.floor((w.c0 - lv.c0) / lv.f));
  const C1 = Math.min(lv.Pc, Math.ceil((w.c1 - lv.c0) / lv.f));
  if (R1 <= R0 || C1 <= C0) return;
  const rEnd = Math.min(lv.r1, lv.r0 + R1 * lv.f);
  const cEnd = Math.min(lv.c1, lv.c0 + C1 * lv.f);
  const lastR = (rEnd - (lv.r0 + (R1 - 1) * lv.f)) / lv.f;
  const lastC = (cEnd - (lv.c0 + (C1 - 1) * lv.f)) / lv.f;
  const dest = cellRect(lv.r0 + R0 * lv.f, rEnd, lv.c0 + C0 * lv.f, cEnd, N, N, size, size, t);
  ctx.drawImage(lv.canvas, C0, R0, C1 - C0 - 1 + lastC, R1 - R0 - 1 + lastR, dest.x, dest.y, dest.w, dest.h);
}

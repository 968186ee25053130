import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { cellAt, IDENTITY, visibleWindow, type ZoomTransform } from '../../core/layout';
import { activeCell, marksFor } from '../../state/store';
import { useQk, useQkStore } from '../../state/react';
import { useZoom, useZoomKeys } from '../../ui/useZoom';
import { Segmented } from '../../ui/controls';
import { useElementWidth } from '../../ui/useElementWidth';
import { compareSpec, kvShown, shownArrays } from '../shared/mapSpec';
import { methodActive, methodName, sparseActive } from '../../state/result';
import { blockRects, drawBlocks, drawPermutedMask, inverseOf, permutedCode, rowCodes } from '../sparse/blocks';
import { REASONS } from '../../core/blockSelection';
import { paintMap, prepareCanvas } from '../shared/paint';
import { Legend } from '../shared/Legend';
import { fmtValue, showToken } from '../shared/format';
import { drawHeatmapOverlay } from './drawOverlay';
import { HeatmapAxes, MARK_RIGHT } from './HeatmapAxes';

const LEFT = 92;
const TOP = 78;

/**
 * The selected head's attention map: canvas cells (max-pooled when cells outnumber pixels),
 * token axes, wheel/drag zoom and pan, a crosshair overlay and a tooltip with exact values.
 * Hover redraws the overlay canvas only; React re-renders on zoom, not on hover. `compact`
 * (embeds, presentation) leaves out the mode and zoom controls; wheel and drag still zoom.
 */
export function Heatmap({ maxSize = 620, compact = false }: { maxSize?: number; compact?: boolean }) {
  const store = useQkStore();
  const result = useQk((s) => s.derived.result);
  const head = useQk((s) => s.view.head);
  const mode = useQk((s) => s.view.mode);
  const cmap = useQk((s) => s.view.colormap);
  const compare = useQk((s) => s.view.compare);
  const setView = useQk((s) => s.setView);
  const marks = useQk((s) => marksFor(s.selection, s.derived.result?.tokens));

  const wrap = useRef<HTMLDivElement>(null);
  const cells = useRef<HTMLCanvasElement>(null);
  const overlay = useRef<HTMLCanvasElement>(null);
  const tip = useRef<HTMLDivElement>(null);
  const scratch = useRef<{ canvas?: HTMLCanvasElement | OffscreenCanvas }>({});
  const [t, setT] = useState<ZoomTransform>(IDENTITY);
  const [pool, setPool] = useState(1);
  const tRef = useRef(t);
  tRef.current = t;

  const width = useElementWidth(wrap, maxSize + LEFT);
  const size = Math.max(120, Math.min(maxSize, Math.floor(width - LEFT - 8)));
  const n = result?.N ?? 1;
  const nk = result?.Nk ?? n;
  const dpr = typeof window !== 'undefined' ? window.devicePixelRatio || 1 : 1;

  const spec = useMemo(() => (result ? compareSpec(result, Math.min(head, result.H - 1), mode, cmap, 'head', compare) : null), [result, head, mode, cmap, compare]);
  const zoom = useZoom(overlay, size, size, Math.max(1, (Math.max(n, nk) * 24) / size), setT);
  // A new matrix size starts zoomed out.
  useEffect(() => zoom.reset(), [n, nk, size]); // eslint-disable-line react-hooks/exhaustive-deps
  // The page's + − 0 keys (a window event: the view imports nothing from the app).
  useZoomKeys(zoom);

  // Static layer: redrawn when the data, the mode or the zoom changes — never on hover.
  useLayoutEffect(() => {
    const c = cells.current;
    if (!c) return;
    const ctx = prepareCanvas(c, size, size, dpr);
    ctx.clearRect(0, 0, c.width, c.height);
    if (!spec) return;
    const { win, cellW, cellH } = visibleWindow(n, nk, size, size, t);
    const dest = { x: t.x + win.c0 * cellW, y: t.y + win.r0 * cellH, w: (win.c1 - win.c0) * cellW, h: (win.r1 - win.r0) * cellH };
    const r = paintMap(ctx, spec, win, dest, dpr, scratch.current);
    setPool(Math.max(r.poolRows, r.poolCols));
    // Lets tests and the benchmark see when a result reached the screen.
    c.dataset.painted = String(Number(c.dataset.painted ?? 0) + 1);
    c.dataset.paintedKey = result?.key ?? '';
    if (typeof performance !== 'undefined' && performance.getEntriesByName('qk:first-paint').length === 0) performance.mark('qk:first-paint');
  }, [spec, t, size, n, nk, dpr, result]);

  const drawOverlay = useCallback(() => {
    const c = overlay.current;
    if (!c) return;
    const sel = store.getState().selection;
    const ctx = prepareCanvas(c, size, size, dpr);
    const cell = activeCell(sel);
    drawHeatmapOverlay(ctx, cell, !!sel.locked, n, nk, size, tRef.current, dpr, marksFor(sel, store.getState().derived.result?.tokens));
    // A sparse method's block grid: every selected block outlined in its reason's colour, and
    // the blocks the active query row chose filled (per query for MoBA-style methods).
    const st = store.getState();
    const r = st.derived.result;
    if (sparseActive(r) && r.sparse.perm) {
      // A reordering method (VMoBA, DraftAttention): its blocks are scattered in the token order.
      const h = Math.min(st.view.head, r.H - 1);
      drawPermutedMask(ctx, r.sparse.selection, r.sparse.perm, h, REASONS, cell && cell.q < r.N ? cell.q : null, n, nk, size, tRef.current);
    } else if (sparseActive(r) && !r.sparse.gridless) {
      const h = Math.min(st.view.head, r.H - 1);
      const s = r.sparse.selection;
      const active = cell && cell.q < r.N ? { i: cell.q, codes: rowCodes(s, h, cell.q), block: s.block, lastKey: r.causal ? cell.q + r.Nk - r.N : r.Nk - 1 } : null;
      const sd = r.sparse.sparsed;
      drawBlocks(ctx, blockRects(s, h), REASONS, active, n, nk, size, tRef.current, sd ? r.N - sd.nGen : null);
    }
  }, [store, size, n, nk, dpr]);

  // Overlay layer: follows the selection through a store subscription, outside React.
  useEffect(() => {
    drawOverlay();
    return store.subscribe((s, prev) => {
      if (s.selection !== prev.selection || s.view.head !== prev.view.head || s.derived.result !== prev.derived.result) drawOverlay();
    });
  }, [store, drawOverlay]);
  useEffect(drawOverlay, [t, drawOverlay]);

  /**
   * Fills and places the tooltip. `x, y` are pointer coordinates in the plot, measured before
   * the hover changed anything: reading layout after the token strip's tint would force the
   * browser to lay out every token again (measured: 7.7 ms per move at N = 4096).
   */
  const showTip = (x: number, y: number, i: number, j: number) => {
    const el = tip.current;
    const r = store.getState().derived.result;
    if (!el || !r) return;
    const h = Math.min(store.getState().view.head, r.H - 1);
    const cmp = store.getState().view.compare;
    const cell = i * r.Nk + j;
    const at = h * r.N * r.Nk + cell;
    const lines = [`query ${i} “${showToken(r.tokens[i], 24)}” → key ${j} “${showToken(r.keyTokens[j], 24)}”`];
    if (sparseActive(r)) {
      const sp = r.sparse;
      const w = sp.weights[at];
      const w0 = r.weights[at];
      lines.push(`${methodName(sp)} weight ${fmtValue(w)}   dense ${fmtValue(w0)}   Δ ${fmtValue(w - w0)}`);
      if (sp.perm) {
        const inv = inverseOf(sp.perm);
        const J = Math.floor(inv[j] / sp.selection.block);
        const code = permutedCode(sp.selection, sp.perm, h, i, j);
        const what = sp.vmoba ? 'chunk' : 'draft cell';
        const gate = sp.gate ? sp.gate[(h * r.N + inv[i]) * sp.selection.nkb + J] : null;
        const dr = sp.draft && J < sp.draft.S && Math.floor(inv[i] / sp.selection.block) < sp.draft.S ? sp.draft.draft[(h * sp.draft.S + Math.floor(inv[i] / sp.selection.block)) * sp.draft.S + J] : null;
        lines.push(`key ${what} ${J}: ${code ? `computed (${REASONS[code - 1]})` : 'skipped'}${gate === null ? '' : `, gate ${fmtValue(gate)}`}${dr === null ? '' : `, draft ${fmtValue(dr)}`}`);
      } else {
        const J = Math.floor(j / sp.selection.block);
        const code = rowCodes(sp.selection, h, i)[J];
        const gate = sp.gate ? sp.gate[(h * r.N + i) * sp.selection.nkb + J] : null;
        lines.push(`key block ${J}: ${code ? `selected (${REASONS[code - 1]})` : 'not selected'}${gate === null ? '' : `, gate ${gate === Infinity ? '+∞ (own block)' : gate === -Infinity ? '−∞ (future)' : fmtValue(gate)}`}`);
      }
    } else if (methodActive(r)) {
      const m = shownArrays(r, h, 'method');
      const ref = shownArrays(r, h, 'reference');
      const w = m.weights[m.offset + cell];
      const w0 = ref.weights[ref.offset + cell];
      lines.push(`${methodName(r.method)} weight ${fmtValue(w)}   reference ${fmtValue(w0)}   Δ ${fmtValue(w - w0)}`);
      if (m.scores) lines.push(`${methodName(r.method)} score ${fmtValue(m.scores[m.offset + cell])}`);
    } else lines.push(r.scores ? `weight ${fmtValue(r.weights[at])}   score ${fmtValue(r.scores[at])}` : `weight ${fmtValue(r.weights[at])}`);
    lines.push(r.Hkv !== r.H || methodActive(r) ? `head ${h} (KV head ${kvShown(r, h, cmp)})` : `head ${h}`);
    while (el.childElementCount < lines.length) el.appendChild(document.createElement('div'));
    lines.forEach((line, n) => {
      (el.children[n] as HTMLElement).textContent = line; // token text is never parsed as HTML
    });
    el.hidden = false;
    // A transform moves it without a layout pass (left/top relaid the whole page: 7.6 ms at N = 4096).
    el.style.transform = `translate(${LEFT + Math.min(x + 14, size - 180)}px, ${TOP + y + 16}px)`;
  };

  const onMove = (ev: React.PointerEvent) => {
    const box = (ev.currentTarget as HTMLElement).getBoundingClientRect();
    const x = ev.clientX - box.left;
    const y = ev.clientY - box.top;
    const hit = cellAt(x, y, n, nk, size, size, tRef.current);
    if (!hit || !result) {
      store.getState().hover(null);
      if (tip.current) tip.current.hidden = true;
      return;
    }
    store.getState().hover({ q: hit.i, k: hit.j });
    showTip(x, y, hit.i, hit.j);
  };
  const onLeave = () => {
    store.getState().hover(null);
    if (tip.current) tip.current.hidden = true;
  };
  const onClick = (ev: React.MouseEvent) => {
    const box = (ev.currentTarget as HTMLElement).getBoundingClientRect();
    const hit = cellAt(ev.clientX - box.left, ev.clientY - box.top, n, nk, size, size, tRef.current);
    if (hit) store.getState().lock({ q: hit.i, k: hit.j });
  };

  const poolNote = pool > 1.001 ? `max-pooled: each pixel shows the largest of ${Math.ceil(pool)}×${Math.ceil(pool)} cells` : null;
  return (
    <section className="view heatmap" aria-label="attention heatmap">
      <header className="view-head">
        <h2>
          Head {Math.min(head, (result?.H ?? 1) - 1)}
          {result && (result.Hkv !== result.H || methodActive(result)) ? <small> · KV head {kvShown(result, Math.min(head, result.H - 1), compare)}</small> : null}
          {methodActive(result) ? <small> · {compare === 'diff' ? 'difference' : compare === 'reference' ? 'reference' : methodName(result.method)}</small> : null}
        </h2>
        {!compact && (methodActive(result) || sparseActive(result)) ? (
          <Segmented
            label="compare with the reference"
            value={compare}
            options={[
              ['method', methodName(sparseActive(result) ? result.sparse : result!.method!)],
              ['reference', sparseActive(result) ? 'dense' : 'reference'],
              ['diff', 'difference'],
            ]}
            onChange={(c) => setView({ compare: c })}
          />
        ) : null}
        {compact ? null : (
        <Segmented
          label="map shows"
          value={mode}
          options={[
            ['weights', 'weights'],
            ['scores', 'scores'],
            ['logWeights', 'log weights'],
          ]}
          onChange={(m) => setView({ mode: m })}
        />
        )}
        {compact ? null : (
        <div className="zoom-buttons">
          <button onClick={() => zoom.zoomBy(2)} aria-label="zoom in">+</button>
          <button onClick={() => zoom.zoomBy(0.5)} aria-label="zoom out">−</button>
          <button onClick={() => zoom.reset()} aria-label="reset zoom">1:1</button>
          <span className="muted">{t.k > 1.001 ? `${t.k.toFixed(1)}×` : 'wheel to zoom, drag to pan'}</span>
        </div>
        )}
      </header>
      <div className="heatmap-body" ref={wrap}>
        <div className="heatmap-stage" style={{ width: LEFT + size, height: TOP + size }}>
          {result ? <HeatmapAxes tokens={result.tokens} keyTokens={result.keyTokens} size={size} t={t} left={LEFT} top={TOP} marks={marks} /> : null}
          <canvas ref={cells} className="layer cells" style={{ left: LEFT, top: TOP }} data-testid="heatmap-cells" />
          <canvas
            ref={overlay}
            className="layer overlay"
            style={{ left: LEFT, top: TOP, width: size, height: size }}
            data-testid="heatmap-overlay"
            onPointerMove={onMove}
            onPointerLeave={onLeave}
            onClick={onClick}
          />
          <div ref={tip} className="tooltip" role="status" hidden />
        </div>
      </div>
      {spec ? <Legend colormap={spec.colormap} scale={spec.scale} label={spec.label} note={poolNote} /> : null}
      {marks ? (
        <p className="small" data-testid="heatmap-marks">
          Marked keys (dashed columns): {marks.note}
          {marks.right !== null ? <> — <span style={{ color: MARK_RIGHT, fontWeight: 'bold' }}>{marks.labels[marks.right]}</span> is the right one</> : null}.{' '}
          <button className="link" onClick={() => store.getState().setMarks(null)}>
            clear marks
          </button>
        </p>
      ) : null}
    </section>
  );
}

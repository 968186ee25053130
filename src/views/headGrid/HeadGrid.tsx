import { useCallback, useEffect, useLayoutEffect, useMemo, useRef } from 'react';
import { tileAt, tileOrigin } from '../../core/layout';
import { activeCell } from '../../state/store';
import { useQk, useQkStore } from '../../state/react';
import { useElementWidth } from '../../ui/useElementWidth';
import { Segmented } from '../../ui/controls';
import { compareSpec, kvShown } from '../shared/mapSpec';
import { methodActive, methodName } from '../../state/result';
import { paintMap, prepareCanvas } from '../shared/paint';
import { drawGridOverlay, GRID_GAP, GRID_LABEL, GRID_PAD } from './drawGridOverlay';

/**
 * All heads as small multiples on one canvas, each with its KV head named, on a shared or
 * per-head colour scale. Hovering a tile links its cell to every other view; clicking a tile
 * shows that head large. The selected query row is drawn in every tile on an overlay layer.
 */
export function HeadGrid({ maxTile = 150 }: { maxTile?: number }) {
  const store = useQkStore();
  const result = useQk((s) => s.derived.result);
  const head = useQk((s) => s.view.head);
  const mode = useQk((s) => s.view.mode);
  const cmap = useQk((s) => s.view.colormap);
  const gridScale = useQk((s) => s.view.gridScale);
  const compare = useQk((s) => s.view.compare);
  const setView = useQk((s) => s.setView);
  const wrap = useRef<HTMLDivElement>(null);
  const cells = useRef<HTMLCanvasElement>(null);
  const overlay = useRef<HTMLCanvasElement>(null);
  const scratch = useRef<{ canvas?: HTMLCanvasElement | OffscreenCanvas }>({});

  const width = useElementWidth(wrap, 4 * maxTile);

  const H = result?.H ?? 1;
  const n = result?.N ?? 1;
  const nk = result?.Nk ?? n;
  const cols = Math.min(H, Math.max(1, Math.ceil(Math.sqrt(H))), Math.max(1, Math.floor((width + GRID_GAP) / 64)));
  const tile = Math.max(48, Math.min(maxTile, Math.floor((width - (cols - 1) * GRID_GAP - 2 * GRID_PAD) / cols)));
  const rowsOfTiles = Math.ceil(H / cols);
  const W = cols * tile + (cols - 1) * GRID_GAP + 2 * GRID_PAD;
  const Ht = rowsOfTiles * (tile + GRID_GAP + GRID_LABEL) + 2 * GRID_PAD;
  const dpr = typeof window !== 'undefined' ? window.devicePixelRatio || 1 : 1;

  const specs = useMemo(
    () => (result ? Array.from({ length: result.H }, (_, h) => compareSpec(result, h, mode, cmap, gridScale === 'shared' ? 'all' : 'head', compare)) : []),
    [result, mode, cmap, gridScale, compare],
  );

  useLayoutEffect(() => {
    const c = cells.current;
    if (!c) return;
    const ctx = prepareCanvas(c, W, Ht, dpr);
    ctx.clearRect(0, 0, c.width, c.height);
    if (!result) return;
    ctx.font = `${11 * dpr}px system-ui, sans-serif`;
    ctx.textBaseline = 'bottom';
    specs.forEach((spec, h) => {
      const t0 = tileOrigin(h, cols, tile, GRID_GAP, GRID_LABEL);
      const o = { x: t0.x + GRID_PAD, y: t0.y + GRID_PAD };
      paintMap(ctx, spec, { r0: 0, r1: n, c0: 0, c1: nk }, { x: o.x, y: o.y, w: tile, h: tile }, dpr, scratch.current);
      ctx.fillStyle = '#333';
      // Short labels on small tiles, so neighbours do not run into each other.
      const grouped = result.Hkv !== result.H || methodActive(result);
      const kv = kvShown(result, h, compare);
      // SQA: name the query head that stands in for this slot.
      const sq = methodActive(result) && result.method.queryHeads !== result.H && compare !== 'reference' ? `=q${result.method.slotOf[h]}` : '';
      const label = tile >= 100 ? `head ${h}${sq}${grouped ? ` · kv ${kv}` : ''}` : `${h}${sq}${grouped ? `→${kv}` : ''}`;
      ctx.fillText(label, o.x * dpr, (o.y - 2) * dpr);
    });
    c.dataset.painted = String(Number(c.dataset.painted ?? 0) + 1);
  }, [specs, result, cols, tile, W, Ht, n, nk, dpr, compare]);

  const drawOverlay = useCallback(() => {
    const c = overlay.current;
    if (!c) return;
    const s = store.getState();
    const ctx = prepareCanvas(c, W, Ht, dpr);
    drawGridOverlay(ctx, { H, n, nk, cols, tile, dpr, width: W, height: Ht }, activeCell(s.selection), !!s.selection.locked, s.view.head, s.selection.hoverHead);
  }, [store, H, n, nk, cols, tile, W, Ht, dpr]);

  useEffect(() => {
    drawOverlay();
    return store.subscribe((s, prev) => {
      if (s.selection !== prev.selection || s.view.head !== prev.view.head) drawOverlay();
    });
  }, [store, drawOverlay]);

  const hit = (ev: React.PointerEvent | React.MouseEvent) => {
    const box = (ev.currentTarget as HTMLElement).getBoundingClientRect();
    return tileAt(ev.clientX - box.left - GRID_PAD, ev.clientY - box.top - GRID_PAD, H, cols, tile, GRID_GAP, GRID_LABEL);
  };
  const onMove = (ev: React.PointerEvent) => {
    const h = hit(ev);
    const st = store.getState();
    st.hoverHead(h ? h.tile : null);
    st.hover(h ? { q: Math.floor(h.v * n), k: Math.floor(h.u * nk) } : null);
  };
  const onLeave = () => {
    store.getState().hoverHead(null);
    store.getState().hover(null);
  };
  const onClick = (ev: React.MouseEvent) => {
    const h = hit(ev);
    if (h) setView({ head: h.tile });
  };

  return (
    <section className="view head-grid" aria-label="all heads">
      <header className="view-head">
        <h2>All heads</h2>
        <Segmented
          label="grid colour scale"
          value={gridScale}
          options={[
            ['perHead', 'scale per head'],
            ['shared', 'shared scale'],
          ]}
          onChange={(g) => setView({ gridScale: g })}
        />
      </header>
      <div ref={wrap} className="grid-body">
        <div className="grid-stage" style={{ width: W, height: Ht }}>
          <canvas ref={cells} className="layer cells" data-testid="grid-cells" />
          <canvas
            ref={overlay}
            className="layer overlay"
            data-testid="grid-overlay"
            style={{ width: W, height: Ht }}
            onPointerMove={onMove}
            onPointerLeave={onLeave}
            onClick={onClick}
            role="img"
            aria-label={`head grid: ${H} heads, head ${head} selected; click a head to show it large, or use [ and ] to step through heads`}
          />
        </div>
      </div>
      <p className="muted small">
        Click a head to show it large.{' '}
        {methodActive(result)
          ? `${compare === 'diff' ? 'Differences' : compare === 'reference' ? 'Reference maps' : `${methodName(result.method)} maps`}: ${result.method.queryHeads} query heads over ${result.method.kvHeads} KV heads${tile < 100 ? '; labels read query head → KV head' : ''}.`
          : result && result.Hkv !== result.H
            ? `${result.H} query heads share ${result.Hkv} KV heads (${result.H / result.Hkv} per group)${tile < 100 ? '; labels read query head → KV head' : ''}.`
            : ''}
      </p>
    </section>
  );
}

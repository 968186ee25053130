import { useLayoutEffect, useMemo, useRef } from 'react';
import { useStore } from 'zustand';
import { lut } from '../../core/colormap';
import { poolBy } from '../../core/longPlan';
import type { LongMap, LongStore } from '../../state/longStore';
import { prepareCanvas } from '../shared/paint';
import { longScale, mapCanvas } from './levels';

/**
 * Every head of the layer at the grid's resolution (max-pooled again to the tile's pixels, so
 * a one-token peak still shows). A tile not computed yet says so; a click shows that head.
 */
export function LongGrid({ store, tile = 112 }: { store: LongStore; tile?: number }) {
  const grid = useStore(store, (s) => s.grid);
  const head = useStore(store, (s) => s.head);
  const mode = useStore(store, (s) => s.mode);
  const cmap = useStore(store, (s) => s.colormap);
  const N = useStore(store, (s) => s.inputs?.N ?? 1);
  return (
    <section className="view long-grid" aria-label="heads of the layer">
      <header className="view-head">
        <h2>Heads <small>· click one to show it</small></h2>
      </header>
      <div className="long-grid-tiles" style={{ display: 'grid', gridTemplateColumns: `repeat(auto-fill, ${tile + 8}px)`, gap: 6 }}>
        {grid.map((m, h) => (
          <button key={h} className={`long-tile${h === head ? ' selected' : ''}`} onClick={() => store.getState().set({ head: h, locked: null })} aria-label={`show head ${h}`} aria-pressed={h === head} data-testid={`long-tile-${h}`}>
            <Tile map={m} tile={tile} mode={mode} cmap={cmap} N={N} />
            <span className="small">
              head {h}
              {m ? ` · H̄ ${m.summary.entropy.toFixed(2)}` : ' · computing…'}
            </span>
          </button>
        ))}
      </div>
    </section>
  );
}

function Tile({ map, tile, mode, cmap, N }: { map: LongMap | null; tile: number; mode: 'weights' | 'logWeights'; cmap: Parameters<typeof lut>[0]; N: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const dpr = typeof window !== 'undefined' ? window.devicePixelRatio || 1 : 1;
  const pooled = useMemo(() => (map ? poolBy(map.map, map.P, map.Pc, Math.max(1, Math.ceil(map.P / (tile * dpr)))) : null), [map, tile, dpr]);
  useLayoutEffect(() => {
    const c = ref.current;
    if (!c) return;
    const ctx = prepareCanvas(c, tile, tile, dpr);
    ctx.fillStyle = '#ececf0';
    ctx.fillRect(0, 0, c.width, c.height);
    if (!pooled) return;
    const src = mapCanvas(pooled.map, pooled.P, pooled.Pc, longScale(mode, pooled.map, N), lut(cmap));
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(src, 0, 0, c.width, c.height);
  }, [pooled, tile, dpr, mode, cmap, N]);
  return <canvas ref={ref} data-computed={map ? '1' : '0'} />;
}

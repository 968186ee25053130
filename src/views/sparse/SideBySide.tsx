import { useLayoutEffect, useRef } from 'react';
import { useQk } from '../../state/react';
import { methodName, sparseActive, type SparseView, type ViewResult } from '../../state/result';
import { mapSpec } from '../shared/mapSpec';
import { paintMap, prepareCanvas } from '../shared/paint';
import { IDENTITY } from '../../core/layout';
import { REASONS } from '../../core/blockSelection';
import { blockRects, drawBlocks } from './blocks';
import { fmtFlops } from '../shared/PairBar';
import type { SequentialMap } from '../../core/colormap';

const SIZE = 260;

/** One method's map of head h with its block grid, drawn once (no zoom: the large heatmap has it). */
function MiniMap({ r, s, h, cmap }: { r: ViewResult; s: SparseView; h: number; cmap: SequentialMap }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const scratch = useRef<{ canvas?: HTMLCanvasElement | OffscreenCanvas }>({});
  useLayoutEffect(() => {
    const c = ref.current;
    if (!c) return;
    const dpr = window.devicePixelRatio || 1;
    const ctx = prepareCanvas(c, SIZE, SIZE, dpr);
    ctx.clearRect(0, 0, c.width, c.height);
    const spec = mapSpec({ ...r, weights: s.weights, scores: null }, h, 'weights', cmap, 'head');
    paintMap(ctx, spec, { r0: 0, r1: r.N, c0: 0, c1: r.Nk }, { x: 0, y: 0, w: SIZE, h: SIZE }, dpr, scratch.current);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    if (!s.gridless) drawBlocks(ctx, blockRects(s.selection, h), REASONS, null, r.N, r.Nk, SIZE, IDENTITY);
    c.dataset.painted = String(Number(c.dataset.painted ?? 0) + 1);
  }, [r, s, h, cmap]);
  return <canvas ref={ref} className="mini-map" style={{ width: SIZE, height: SIZE }} aria-label={`${methodName(s)}, head ${h}`} />;
}

const mean = (a: ArrayLike<number>) => Array.from(a).reduce((x, y) => x + y, 0) / Math.max(1, a.length);

/**
 * Two sparse methods on the same input (issue 6): their maps of the selected head with the block
 * grids, and their numbers in one table — density, mass kept, output error, FLOPs — so a
 * researcher can compare them at a glance.
 */
export function SideBySide() {
  const result = useQk((s) => s.derived.result);
  const head = useQk((s) => s.view.head);
  const cmap = useQk((s) => s.view.colormap);
  if (!sparseActive(result) || !result.sparse2) return null;
  const a = result.sparse;
  const b = result.sparse2;
  const h = Math.min(head, result.H - 1);
  const rows: [string, (s: SparseView) => string][] = [
    [`density, head ${h}`, (s) => `${(100 * s.metrics.density[h]).toFixed(1)}%`],
    ['density, mean over heads', (s) => `${(100 * mean(s.metrics.density)).toFixed(1)}%`],
    [`mass kept, head ${h} (mean / least)`, (s) => `${s.metrics.recallMean[h].toFixed(3)} / ${s.metrics.recallMin[h].toFixed(3)}`],
    ['mass kept, mean over heads', (s) => mean(s.metrics.recallMean).toFixed(3)],
    ['output error ‖O − O_dense‖/‖O_dense‖', (s) => s.metrics.relFrob.toPrecision(3)],
    ['attention FLOPs (× dense)', (s) => `${fmtFlops(s.metrics.flops.attention)} (${(s.metrics.flops.attention / s.metrics.flops.dense).toFixed(3)}×)`],
    ['estimation FLOPs', (s) => fmtFlops(s.metrics.flops.overhead)],
  ];
  return (
    <div className="side-by-side" data-testid="side-by-side">
      <h3 className="small">Side by side on the same input · head {h}</h3>
      <div className="sbs-maps">
        {[a, b].map((s, n) => (
          <figure key={n}>
            <MiniMap r={result} s={s} h={h} cmap={cmap} />
            <figcaption className="small">{s.label}</figcaption>
          </figure>
        ))}
        <table className="stats-table sbs-table" data-testid="sbs-table">
          <thead>
            <tr>
              <th />
              <th>{methodName(a)}</th>
              <th>{methodName(b)}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(([label, f]) => (
              <tr key={label}>
                <td>{label}</td>
                <td className="num">{f(a)}</td>
                <td className="num">{f(b)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

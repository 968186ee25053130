import { useLayoutEffect, useMemo, useRef } from 'react';
import { useQk } from '../../state/react';
import type { MethodView } from '../../state/result';
import { finiteRange } from '../../core/raster';
import { paintMap, prepareCanvas } from '../shared/paint';
import type { MapSpec } from '../shared/mapSpec';

function OutputMap({ data, offset, N, dv, m, title }: { data: Float32Array; offset: number; N: number; dv: number; m: number; title: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const scratch = useRef<{ canvas?: HTMLCanvasElement | OffscreenCanvas }>({});
  const w = Math.min(180, Math.max(60, dv * 4));
  const h = Math.min(220, Math.max(60, N * 3));
  useLayoutEffect(() => {
    const c = ref.current;
    if (!c) return;
    const dpr = window.devicePixelRatio || 1;
    const ctx = prepareCanvas(c, w, h, dpr);
    const spec: MapSpec = { data, offset, rows: N, cols: dv, scale: { kind: 'diverging', lo: -m, hi: m }, colormap: 'PuOr', causalOffset: null, label: title };
    paintMap(ctx, spec, { r0: 0, r1: N, c0: 0, c1: dv }, { x: 0, y: 0, w, h }, dpr, scratch.current);
  }, [data, offset, N, dv, m, w, h, title]);
  return (
    <figure className="out-map">
      <canvas ref={ref} role="img" aria-label={title} />
      <figcaption className="small">{title}</figcaption>
    </figure>
  );
}

/**
 * PGQA's perturbation of the selected head (ALGORITHMS.md §2.3): its output (tokens × channels)
 * before, the noise subtracted, and after, on one diverging scale; and every head's output mean
 * and std before and after. The attention maps are unchanged, which the note says.
 */
export function PgqaPanel({ m, N }: { m: MethodView; N: number }) {
  const head = useQk((s) => s.view.head);
  const p = m.detail.pgqa!;
  const dv = m.output.length / (m.queryHeads * N);
  const off = head * N * dv;
  const L = N * dv;
  const scale = useMemo(() => {
    let s = 0;
    for (const arr of [p.clean, p.noise, m.output]) {
      const [lo, hi] = finiteRange(arr, off, L);
      s = Math.max(s, Math.abs(lo), Math.abs(hi));
    }
    return s || 1;
  }, [p, m.output, off, L]);
  return (
    <div className="pgqa">
      <div className="out-maps">
        <OutputMap data={p.clean} offset={off} N={N} dv={dv} m={scale} title={`head ${head} output O (before)`} />
        <OutputMap data={p.noise} offset={off} N={N} dv={dv} m={scale} title="noise Ñ (subtracted)" />
        <OutputMap data={m.output} offset={off} N={N} dv={dv} m={scale} title="O′ = O − Ñ (after)" />
      </div>
      <p className="muted small">
        Rows are tokens, columns channels; one diverging scale (±{scale.toPrecision(3)}). The noise has the output&apos;s own mean and std, so after the perturbation each head&apos;s output has mean 0 and the error is large. The attention maps are exactly GQA&apos;s: the code perturbs outputs, not maps (Quirk K5).
      </p>
      <table className="pgqa-stats small">
        <thead>
          <tr>
            <th>head</th>
            <th>mean before</th>
            <th>std before</th>
            <th>mean after</th>
            <th>std after</th>
          </tr>
        </thead>
        <tbody>
          {p.meanBefore.map((_, h) => (
            <tr key={h} className={h === head ? 'selected' : ''}>
              <td>{h}</td>
              <td className="num">{p.meanBefore[h].toFixed(4)}</td>
              <td className="num">{p.stdBefore[h].toFixed(4)}</td>
              <td className="num">{p.meanAfter[h].toExponential(1)}</td>
              <td className="num">{p.stdAfter[h].toFixed(4)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

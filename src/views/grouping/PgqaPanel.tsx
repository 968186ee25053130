import { useMemo } from 'react';
import { useQk } from '../../state/react';
import type { MethodView } from '../../state/result';
import { finiteRange } from '../../core/raster';
import { DivergingMatrix } from '../shared/DivergingMatrix';

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
  const mw = Math.min(180, Math.max(60, dv * 4));
  const mh = Math.min(220, Math.max(60, N * 3));
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
        <DivergingMatrix data={p.clean} offset={off} rows={N} cols={dv} limit={scale} w={mw} h={mh} title={`head ${head} output O (before)`} />
        <DivergingMatrix data={p.noise} offset={off} rows={N} cols={dv} limit={scale} w={mw} h={mh} title="noise Ñ (subtracted)" />
        <DivergingMatrix data={m.output} offset={off} rows={N} cols={dv} limit={scale} w={mw} h={mh} title="O′ = O − Ñ (after)" />
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

import { useQk } from '../../state/react';
import type { MethodView } from '../../state/result';
import { kvColor } from './AssignmentDiagram';

/**
 * DGQA's state over the steps (ALGORITHMS.md §2.2): per step a stacked bar of the allocation
 * (query heads per KV head), with the magnitudes m, the weights w and the cache c below it, and
 * a mark where the seeded random fix-up fired. Clicking a step shows it.
 */
export function DgqaTimeline({ m }: { m: MethodView }) {
  const setParam = useQk((s) => s.setMethodParam);
  const tl = m.detail.timeline ?? [];
  const H = m.queryHeads;
  const colW = 92;
  const barH = 120;
  const fmt = (xs: number[] | null) => (xs ? xs.map((x) => x.toPrecision(3)).join(' · ') : 'not updated');
  return (
    <div className="dgqa-timeline">
      <div className="timeline-cols">
        {tl.map((s, t) => {
          let y = 0;
          return (
            <button key={t} className={`timeline-col ${t === m.step ? 'on' : ''}`} onClick={() => setParam('step', t)} aria-pressed={t === m.step} title={`m: ${fmt(s.m)}\nw: ${fmt(s.w)}\ncache after: ${fmt(s.c)}`}>
              <svg width={colW - 12} height={barH} role="img" aria-label={`step ${t}: allocation ${s.a.join(', ')}`}>
                {s.a.map((a, g) => {
                  const h = (a / H) * barH;
                  const r = (
                    <g key={g}>
                      <rect x={14} y={y} width={colW - 40} height={h} fill={kvColor(g)} opacity={0.85} />
                      {h >= 12 ? (
                        <text x={14 + (colW - 40) / 2} y={y + h / 2 + 4} textAnchor="middle" className="seg-label">
                          {a}
                        </text>
                      ) : null}
                    </g>
                  );
                  y += h;
                  return r;
                })}
              </svg>
              <span className="timeline-step">step {t}</span>
              <span className="muted small">{s.w ? (s.fallback ? 'uniform fallback' : s.draws ? `fix-up: ${s.draws} random draw${s.draws > 1 ? 's' : ''}` : 'rounded exactly') : 'frozen (training window)'}</span>
              {s.draws > 0 ? <span className="fixup-mark" aria-label="a random fix-up fired at this step">⚄</span> : null}
            </button>
          );
        })}
      </div>
      <p className="muted small">
        Each column: query heads per KV head after that step (the framed one is shown above) (colours as in the assignment). Step t is the source drawn with seed + t (a new input each step); a model's training checkpoints will take their place when one is loaded. Hover a column for m, w and the cache.
      </p>
    </div>
  );
}

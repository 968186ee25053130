import { useQk } from '../../state/react';
import { sparseActive } from '../../state/result';

const COLORS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9'];
const W = 420;
const H = 260;
const M = { l: 44, r: 12, t: 10, b: 34 };

/**
 * Mass kept against density for every sparse method on the shown input, each method a curve
 * over its main parameter (top-k, γ, window): methods compared at equal cost. The active
 * method's current setting is ringed; the dense attention is the corner (1, 1).
 */
export function SweepChart() {
  const sweep = useQk((s) => s.derived.sweep);
  const result = useQk((s) => s.derived.result);
  const method = useQk((s) => s.method);
  if (!sparseActive(result)) return null;
  // A sweep of an earlier input stays in the store until the new one is done: never show it here.
  if (!sweep || !sweep.key.startsWith(`${result.key}|`)) return <p className="muted small">Sweeping every sparse method on this input…</p>;
  const pts = sweep.curves.flatMap((c) => c.points);
  const yLo = Math.max(0, Math.min(0.9, Math.floor(10 * Math.min(...pts.map((p) => p.recall))) / 10));
  const x = (d: number) => M.l + d * (W - M.l - M.r);
  const y = (r: number) => M.t + (1 - (r - yLo) / (1 - yLo)) * (H - M.t - M.b);
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const yTicks = Array.from({ length: 5 }, (_, i) => yLo + ((1 - yLo) * i) / 4);
  const cur = result.sparse;
  return (
    <figure className="sweep" data-testid="sweep-chart">
      <figcaption className="small">
        Mass kept against density, every method on this input (mean over heads and queries); each curve varies one parameter.{' '}
        {sweep.curves.some((c) => c.id === method.id) ? `The ringed point is the current ${cur.label.split(' (')[0]} setting.` : `${cur.label.split(' (')[0]} keeps every key, so it has no curve here.`}
      </figcaption>
      <svg width={W} height={H} role="img" aria-label="attention mass kept against density for every sparse method">
        {ticks.map((t) => (
          <g key={`x${t}`}>
            <line x1={x(t)} x2={x(t)} y1={M.t} y2={H - M.b} stroke="#eee" />
            <text x={x(t)} y={H - M.b + 14} fontSize={10} textAnchor="middle">
              {t}
            </text>
          </g>
        ))}
        {yTicks.map((t) => (
          <g key={`y${t}`}>
            <line x1={M.l} x2={W - M.r} y1={y(t)} y2={y(t)} stroke="#eee" />
            <text x={M.l - 4} y={y(t)} dy="0.32em" fontSize={10} textAnchor="end">
              {t.toFixed(2)}
            </text>
          </g>
        ))}
        <text x={(M.l + W - M.r) / 2} y={H - 4} fontSize={11} textAnchor="middle">
          density (share of the pairs dense attention uses)
        </text>
        <text transform={`translate(11,${(M.t + H - M.b) / 2}) rotate(-90)`} fontSize={11} textAnchor="middle">
          mass kept
        </text>
        <circle cx={x(1)} cy={y(1)} r={3.5} fill="#111">
          <title>dense attention: density 1, mass kept 1</title>
        </circle>
        {sweep.curves.map((c, n) => (
          <g key={c.id} data-testid={`sweep-${c.id}`}>
            <polyline points={c.points.map((p) => `${x(p.density)},${y(p.recall)}`).join(' ')} fill="none" stroke={COLORS[n % COLORS.length]} strokeWidth={1.6} />
            {c.points.map((p, i) => {
              const current = c.id === method.id && String(p.value) === String(cur.params[c.param]);
              return (
                <circle key={i} cx={x(p.density)} cy={y(p.recall)} r={current ? 6 : 2.6} fill={current ? 'none' : COLORS[n % COLORS.length]} stroke={COLORS[n % COLORS.length]} strokeWidth={current ? 2.2 : 0}>
                  <title>{`${c.label}, ${c.paramLabel} = ${p.value}: density ${(100 * p.density).toFixed(1)}%, mass kept ${p.recall.toFixed(3)} (least ${p.recallMin.toFixed(3)})`}</title>
                </circle>
              );
            })}
          </g>
        ))}
      </svg>
      <div className="sweep-legend small">
        {sweep.curves.map((c, n) => (
          <span key={c.id}>
            <span className="swatch-line" style={{ background: COLORS[n % COLORS.length] }} /> {c.label} (varying {c.paramLabel})
          </span>
        ))}
      </div>
    </figure>
  );
}

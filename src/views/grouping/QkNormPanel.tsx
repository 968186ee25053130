import type { MethodView } from '../../state/result';

const W = 420;
const H = 170;
const M = { l: 40, r: 10, t: 8, b: 30 };

/**
 * QK-norm's effect on the scores (ALGORITHMS.md §12.2): histograms of the scaled logits q·k/√d
 * of the causal pairs of every head, before (grey) and after (blue), on one axis, with the bound
 * √d that the normalised logits cannot pass.
 */
export function QkNormPanel({ m }: { m: MethodView }) {
  const h = m.detail.qkNorm!;
  const bins = h.before.length;
  const top = Math.max(1, ...h.before, ...h.after);
  const x = (v: number) => M.l + ((v + h.range) / (2 * h.range)) * (W - M.l - M.r);
  const bw = (W - M.l - M.r) / bins;
  const y = (c: number) => H - M.b - (c / top) * (H - M.t - M.b);
  const bars = (counts: number[], fill: string, opacity: number, id: string) => (
    <g data-testid={id}>
      {counts.map((c, i) => (c > 0 ? <rect key={i} x={M.l + i * bw} y={y(c)} width={Math.max(1, bw - 1)} height={H - M.b - y(c)} fill={fill} opacity={opacity} /> : null))}
    </g>
  );
  const ticks = [-1, -0.5, 0, 0.5, 1].map((t) => t * h.range);
  return (
    <figure className="qknorm-panel" data-testid="qknorm-panel">
      <figcaption className="small">
        Scaled logits q·k/√d of every head&apos;s {m.detail.qkNorm && h.rowsSampled < h.rows ? `causal pairs (${h.rowsSampled} of ${h.rows} query rows, evenly spaced)` : 'causal pairs'}: before QK-norm (grey) and after (blue). The largest |logit| goes from <b data-testid="qknorm-max-before">{h.maxBefore.toFixed(3)}</b> to <b data-testid="qknorm-max-after">{h.maxAfter.toFixed(3)}</b>; after it cannot pass √d = {h.sqrtD.toFixed(3)} (dashed), so no head can become arbitrarily sharp.
      </figcaption>
      <svg width={W} height={H} role="img" aria-label="histograms of the scaled logits before and after QK-norm">
        {ticks.map((t) => (
          <text key={t} x={x(t)} y={H - M.b + 13} fontSize={10} textAnchor="middle">
            {t.toFixed(1)}
          </text>
        ))}
        <line x1={M.l} x2={W - M.r} y1={H - M.b} y2={H - M.b} stroke="#999" />
        {bars(h.before, '#888', 0.55, 'qknorm-before')}
        {bars(h.after, '#0072B2', 0.65, 'qknorm-after')}
        {[-h.sqrtD, h.sqrtD].map((v) => (Math.abs(v) <= h.range ? <line key={v} x1={x(v)} x2={x(v)} y1={M.t} y2={H - M.b} stroke="#0072B2" strokeDasharray="4 3" /> : null))}
        <text x={(M.l + W - M.r) / 2} y={H - 2} fontSize={11} textAnchor="middle">
          scaled logit
        </text>
      </svg>
    </figure>
  );
}

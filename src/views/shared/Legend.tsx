import { scaleLinear } from 'd3';
import { cssColor, type ColorMapName } from '../../core/colormap';
import type { ValueScale } from '../../core/raster';

const fmt = (x: number) => (Math.abs(x) >= 1000 || (Math.abs(x) < 0.01 && x !== 0) ? x.toExponential(1) : String(+x.toPrecision(3)));

/** A colour bar with ticks for a value scale, and an optional note (e.g. max-pooling). */
export function Legend({ colormap, scale, label, note, width = 260 }: { colormap: ColorMapName; scale: ValueScale; label: string; note?: string | null; width?: number }) {
  const id = `lg-${colormap}-${scale.kind}`;
  const m = Math.max(Math.abs(scale.lo), Math.abs(scale.hi)) || 1;
  const lo = scale.kind === 'diverging' ? -m : scale.lo;
  const hi = scale.kind === 'diverging' ? m : scale.hi;
  const x = scaleLinear().domain([lo, hi]).range([0, width]);
  const ticks = x.ticks(5);
  const stops = Array.from({ length: 17 }, (_, i) => i / 16);
  return (
    <figure className="legend" aria-label={`colour legend: ${label} from ${fmt(lo)} to ${fmt(hi)}`}>
      <svg width={width + 20} height={38} role="img">
        <defs>
          <linearGradient id={id}>
            {stops.map((t) => (
              <stop key={t} offset={t} stopColor={cssColor(colormap, t)} />
            ))}
          </linearGradient>
        </defs>
        <g transform="translate(10,2)">
          <rect width={width} height={12} fill={`url(#${id})`} stroke="#888" strokeWidth={0.5} />
          {ticks.map((t) => (
            <g key={t} transform={`translate(${x(t)},12)`}>
              <line y2={4} stroke="#555" />
              <text y={15} textAnchor="middle" fontSize={10} fill="currentColor">
                {scale.kind === 'log' ? `1e${t}` : fmt(t)}
              </text>
            </g>
          ))}
        </g>
      </svg>
      <figcaption>
        {label}
        {note ? <span className="legend-note"> · {note}</span> : null}
      </figcaption>
    </figure>
  );
}

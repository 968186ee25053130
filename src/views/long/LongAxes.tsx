import { ticks } from 'd3';
import { visibleWindow, type ZoomTransform } from '../../core/layout';
import { showToken } from '../shared/format';

/**
 * Axes of a long map: the tokens themselves once a cell is at least 11 px, position ticks
 * before that (a label per token would be thousands of unreadable labels). Text is escaped by React.
 */
export function LongAxes({ tokens, N, size, t, left, top }: { tokens: string[]; N: number; size: number; t: ZoomTransform; left: number; top: number }) {
  const { win, cellW } = visibleWindow(N, N, size, size, t);
  const words = cellW >= 11;
  const rows = words ? range(win.r0, win.r1) : ticks(win.r0, win.r1 - 1, 6).filter((x) => Number.isInteger(x));
  const cols = words ? range(win.c0, win.c1) : ticks(win.c0, win.c1 - 1, 6).filter((x) => Number.isInteger(x));
  const at = (i: number) => (i + 0.5) * cellW + 0; // cell centre before the pan
  return (
    <svg className="layer axes" width={left + size} height={top + size} aria-hidden="true" style={{ left: 0, top: 0, pointerEvents: 'none' }}>
      <g transform={`translate(${left},${top})`} fontSize={words ? 10 : 11} fill="#444">
        {rows.map((i) => (
          <text key={`r${i}`} x={-4} y={t.y + at(i)} textAnchor="end" dominantBaseline="middle">
            {words ? showToken(tokens[i] ?? '', 9) : i}
          </text>
        ))}
        {cols.map((j) => (
          <text key={`c${j}`} transform={`translate(${t.x + at(j)},-4) rotate(${words ? -60 : 0})`} textAnchor={words ? 'start' : 'middle'}>
            {words ? showToken(tokens[j] ?? '', 9) : j}
          </text>
        ))}
        <text x={size / 2} y={-24} textAnchor="middle" fill="#777" fontSize={10}>
          key position →
        </text>
        <text transform={`translate(${-48},${size / 2}) rotate(-90)`} textAnchor="middle" fill="#777" fontSize={10}>
          query position →
        </text>
      </g>
    </svg>
  );
}

function range(a: number, b: number): number[] {
  return Array.from({ length: Math.max(0, b - a) }, (_, i) => a + i);
}

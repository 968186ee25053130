import { memo } from 'react';
import { visibleWindow, type ZoomTransform } from '../../core/layout';
import { showToken } from '../shared/format';
import type { KeyMarks } from '../../state/types';

/** Colour of a marked key that is the right one (Okabe–Ito bluish green), and of the others. */
export const MARK_RIGHT = '#009E73';
export const MARK_OTHER = '#CC79A7';

/**
 * Token labels along both axes (queries on the left, keys on top) for the visible cells:
 * every token when cells are tall enough to read, otherwise evenly spaced index ticks.
 */
export const HeatmapAxes = memo(function HeatmapAxes({ tokens, keyTokens = tokens, size, t, left, top, marks = null }: { tokens: string[]; keyTokens?: string[]; size: number; t: ZoomTransform; left: number; top: number; marks?: KeyMarks | null }) {
  const n = tokens.length;
  const nk = keyTokens.length;
  const { win, cellW, cellH } = visibleWindow(n, nk, size, size, t);
  const step = (cell: number) => (cell >= 11 ? 1 : Math.max(1, Math.ceil(14 / cell)));
  const rowStep = step(cellH);
  const colStep = step(cellW);
  const rows: number[] = [];
  for (let i = Math.ceil(win.r0 / rowStep) * rowStep; i < win.r1; i += rowStep) rows.push(i);
  const cols: number[] = [];
  for (let j = Math.ceil(win.c0 / colStep) * colStep; j < win.c1; j += colStep) cols.push(j);
  // Marked keys are always labelled (in their colour, with their mark), even between ticks.
  const marked = new Map<number, number>();
  marks?.keys.forEach((k, m) => k >= win.c0 && k < win.c1 && marked.set(k, m));
  if (marked.size) {
    // Ticks that would overlap a marked label give way to it.
    const keep = cols.filter((j) => marked.has(j) || ![...marked.keys()].some((k) => Math.abs(k - j) < colStep));
    cols.length = 0;
    cols.push(...keep, ...[...marked.keys()].filter((k) => !keep.includes(k)));
  }
  const label = (i: number, s: number, toks = tokens) => (s === 1 ? showToken(toks[i]) : `${i} ${showToken(toks[i], 8)}`);
  return (
    <svg className="axes" width={left + size + 48} height={top + size + 12} aria-hidden="true" overflow="visible">
      <text x={4} y={top - 6} fontSize={10} className="axis-title">
        query ↓
      </text>
      <text x={left} y={10} fontSize={10} className="axis-title">
        key →
      </text>
      <g transform={`translate(${left - 4},${top})`}>
        {rows.map((i) => {
          const y = t.y + (i + 0.5) * cellH;
          if (y < -1 || y > size + 1) return null;
          return (
            <text key={i} y={y} dy="0.32em" textAnchor="end" fontSize={Math.min(12, Math.max(9, cellH * 0.8))}>
              {label(i, rowStep)}
            </text>
          );
        })}
      </g>
      <g transform={`translate(${left},${top - 4})`}>
        {cols.map((j) => {
          const x = t.x + (j + 0.5) * cellW;
          if (x < 0 || x > size) return null;
          return (
            marked.has(j) ? (
              <text key={j} transform={`translate(${x},0) rotate(-60)`} fontSize={Math.min(12, Math.max(10, cellW * 0.8))} fontWeight="bold" fill={marks!.right === marked.get(j) ? MARK_RIGHT : MARK_OTHER} data-mark={marks!.labels[marked.get(j)!]} data-key={j}>
                {`${marks!.labels[marked.get(j)!]}: ${label(j, 1, keyTokens)}`}
              </text>
            ) : (
              <text key={j} transform={`translate(${x},0) rotate(-60)`} fontSize={Math.min(12, Math.max(9, cellW * 0.8))}>
                {label(j, colStep, keyTokens)}
              </text>
            )
          );
        })}
      </g>
    </svg>
  );
});

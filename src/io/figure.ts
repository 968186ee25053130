import { scaleLinear } from 'd3';
import { lut, type ColorMapName } from '../core/colormap';
import { colorIndex, rasterize, type MapSpec, type ValueScale } from '../core/raster';
import { base64, encodePng } from './png';

/** One head's matrix and how it is coloured (core's MapSpec, which the views build). */
export type FigureMap = MapSpec;

/** One head's map as a figure: what the heatmap shows, without the page around it. */
export interface HeatmapFigure {
  /** First line above the map, e.g. "sotu-llama · layer 2 · head 2". */
  title: string;
  spec: FigureMap;
  tokens: readonly string[];
  keyTokens: readonly string[];
  /** The locked query row and key column, drawn outlined. */
  locked?: { q: number; k: number | null } | null;
  /** Marked key columns with their labels; `right` is drawn in its own colour. */
  marks?: { keys: readonly number[]; labels: readonly string[]; right: number | null } | null;
}

export interface SvgOptions {
  /** Up to this many tokens per side, every cell is a vector rectangle; above, the cells are one embedded PNG. */
  cellLimit?: number;
  /** Side of the map in the figure (CSS pixels); default from the token count. */
  size?: number;
  /** Largest side of the embedded PNG (cells are max-pooled beyond it, as on screen). */
  maxImagePx?: number;
}

export const CELL_LIMIT = 128;
const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif';
const MASK = '#ececf0';
const MARK_RIGHT = '#009E73';
const MARK_OTHER = '#CC79A7';
const LOCK = '#ff8c00';

/** Escapes text for XML character data and attribute values. */
export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd');
}

/** A token as a label: whitespace made visible, long ones cut. */
export function tokenLabel(t: string, max = 14): string {
  const v = t.replace(/\n/g, '⏎').replace(/\t/g, '⇥').replace(/ /g, '·');
  return v.length > max ? `${v.slice(0, max - 1)}…` : v;
}

const fmt = (x: number) => (Math.abs(x) >= 1000 || (Math.abs(x) < 0.01 && x !== 0) ? x.toExponential(1) : String(+x.toPrecision(3)));
const hex = (l: Uint8ClampedArray, i: number) => `#${[l[i], l[i + 1], l[i + 2]].map((v) => v.toString(16).padStart(2, '0')).join('')}`;

/** Whether cell (i, j) is hidden by the causal rule or has no finite value. */
function masked(spec: FigureMap, i: number, j: number): boolean {
  if (spec.causalOffset !== null && j > i + spec.causalOffset) return true;
  const v = spec.data[spec.offset + i * spec.cols + j];
  return !Number.isFinite(v);
}

/**
 * A sentence for screen readers and figure captions: the keys the locked (or last) query
 * attends to most, with their values.
 */
export function figureSummary(fig: HeatmapFigure, top = 3, titled = true): string {
  const { spec } = fig;
  const q = Math.min(spec.rows - 1, fig.locked?.q ?? spec.rows - 1);
  const row: { j: number; v: number }[] = [];
  for (let j = 0; j < spec.cols; j++) if (!masked(spec, q, j)) row.push({ j, v: spec.data[spec.offset + q * spec.cols + j] });
  row.sort((a, b) => b.v - a.v || a.j - b.j);
  const keys = row.slice(0, top).map(({ j, v }) => `key ${j} “${tokenLabel(fig.keyTokens[j] ?? '', 24)}” (${fmt(v)})`);
  return `${titled ? `${fig.title}: ` : ''}${spec.rows} queries × ${spec.cols} keys, ${spec.label}. Query ${q} “${tokenLabel(fig.tokens[q] ?? '', 24)}” ${keys.length ? `is highest at ${keys.join(', ')}` : 'has no unmasked key'}.`;
}

/**
 * The heatmap of one head as a standalone SVG document: vector axes, token labels, legend and
 * title; the cells as vector rectangles up to `cellLimit` tokens per side, above that as one
 * embedded PNG (max-pooled, as on screen). Every token text is escaped. Pure: runs in Node.
 */
export function heatmapSvg(fig: HeatmapFigure, opts: SvgOptions = {}): string {
  const { spec } = fig;
  const n = spec.rows;
  const nk = spec.cols;
  const limit = opts.cellLimit ?? CELL_LIMIT;
  const size = opts.size ?? Math.round(Math.max(160, Math.min(640, Math.max(n, nk) * Math.max(4, Math.min(22, 640 / Math.max(n, nk))))));
  const cw = size / nk;
  const ch = size / n;
  const step = (cell: number) => (cell >= 9 ? 1 : Math.max(1, Math.ceil(12 / cell)));
  const rowStep = step(ch);
  const colStep = step(cw);
  const label = (toks: readonly string[], i: number, s: number) => (s === 1 ? tokenLabel(toks[i] ?? '') : `${i} ${tokenLabel(toks[i] ?? '', 8)}`);
  const rows = Array.from({ length: Math.ceil(n / rowStep) }, (_, k) => k * rowStep);
  const marked = new Map<number, number>();
  fig.marks?.keys.forEach((k, m) => k < nk && marked.set(k, m));
  const cols = Array.from({ length: Math.ceil(nk / colStep) }, (_, k) => k * colStep).filter((j) => ![...marked.keys()].some((k) => k !== j && Math.abs(k - j) < colStep));
  for (const k of marked.keys()) if (!cols.includes(k)) cols.push(k);
  // Label sizes follow the cells; a character is about 0.62 em wide in the sans-serif fonts used.
  const fs = (cell: number) => r2(Math.min(12, Math.max(8, cell * 0.8)));
  const rowW = 0.62 * fs(ch);
  const colW = 0.62 * fs(cw);
  const longest = (list: number[], toks: readonly string[], s: number) => list.reduce((m, i) => Math.max(m, label(toks, i, s).length + (marked.has(i) && toks === fig.keyTokens ? 3 : 0)), 1);
  const left = Math.ceil(14 + rowW * longest(rows, fig.tokens, rowStep));
  const keysH = colW * longest(cols, fig.keyTokens, colStep) * Math.sin(Math.PI / 3);
  const top = Math.ceil(40 + keysH);
  const legendH = 58;
  // Key labels lean right by up to their length × cos 60°.
  const width = Math.ceil(left + size + Math.max(24, colW * longest(cols, fig.keyTokens, colStep) * 0.5 - (size / nk) * 0.5));
  const height = top + size + legendH;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="qk-title qk-desc" font-family='${FONT}'>`);
  out.push(`<title id="qk-title">${xmlEscape(fig.title)}</title>`);
  out.push(`<desc id="qk-desc">${xmlEscape(figureSummary(fig))}</desc>`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="10" y="18" font-size="14" font-weight="bold" fill="#111">${xmlEscape(fig.title)}</text>`);
  out.push(`<text x="10" y="${r2(top - 8 - keysH)}" font-size="10" fill="#555">key →</text>`);
  out.push(`<text x="4" y="${top - 6}" font-size="10" fill="#555">query ↓</text>`);
  // Cells.
  out.push(`<g transform="translate(${left},${top})" data-role="cells">`);
  out.push(...cellsMarkup(spec, size, limit, opts.maxImagePx ?? 1024));
  // Marked key columns, the locked cell.
  fig.marks?.keys.forEach((k, m) => {
    if (k >= nk) return;
    out.push(`<rect x="${r2(k * cw + 0.75)}" y="0.75" width="${r2(Math.max(1, cw - 1.5))}" height="${r2(size - 1.5)}" fill="none" stroke="${fig.marks!.right === m ? MARK_RIGHT : MARK_OTHER}" stroke-width="1.5" stroke-dasharray="4 3"/>`);
  });
  if (fig.locked && fig.locked.q < n) {
    const { q, k } = fig.locked;
    out.push(`<rect x="0" y="${r2(q * ch)}" width="${size}" height="${r2(ch)}" fill="none" stroke="${LOCK}" stroke-width="1.5"/>`);
    if (k !== null && k < nk) out.push(`<rect x="${r2(k * cw - 1.5)}" y="${r2(q * ch - 1.5)}" width="${r2(cw + 3)}" height="${r2(ch + 3)}" fill="none" stroke="#000" stroke-width="2"/>`);
  }
  out.push(`<rect width="${size}" height="${size}" fill="none" stroke="#999" stroke-width="0.5"/>`);
  out.push('</g>');
  // Axes.
  out.push(`<g transform="translate(${left - 4},${top})" font-size="${fs(ch)}" text-anchor="end" fill="#222" data-role="query-labels">`);
  for (const i of rows) out.push(`<text y="${r2((i + 0.5) * ch)}" dy="0.32em">${xmlEscape(label(fig.tokens, i, rowStep))}</text>`);
  out.push('</g>');
  out.push(`<g transform="translate(${left},${top - 4})" font-size="${fs(cw)}" fill="#222" data-role="key-labels">`);
  for (const j of cols) {
    const m = marked.get(j);
    const x = r2((j + 0.5) * cw);
    if (m === undefined) out.push(`<text transform="translate(${x},0) rotate(-60)">${xmlEscape(label(fig.keyTokens, j, colStep))}</text>`);
    else out.push(`<text transform="translate(${x},0) rotate(-60)" font-weight="bold" fill="${fig.marks!.right === m ? MARK_RIGHT : MARK_OTHER}">${xmlEscape(`${fig.marks!.labels[m]}: ${label(fig.keyTokens, j, 1)}`)}</text>`);
  }
  out.push('</g>');
  out.push(legend(spec.colormap, spec.scale, spec.label, left, top + size + 10, Math.min(260, size)));
  out.push('</svg>');
  return out.join('\n');
}

const r2 = (x: number) => Math.round(x * 100) / 100;

/** The cells of a map in a `size` × `size` square: vector rectangles up to `limit` tokens per side, else one embedded PNG. */
function cellsMarkup(spec: FigureMap, size: number, limit: number, maxPx: number): string[] {
  const n = spec.rows;
  const nk = spec.cols;
  const cw = size / nk;
  const ch = size / n;
  const l = lut(spec.colormap);
  const out = [`<rect width="${size}" height="${size}" fill="${MASK}"/>`];
  if (n <= limit && nk <= limit) {
    // Each cell overlaps its right and lower neighbour by half a pixel (and edges are crisp where
    // the renderer honours it): anti-aliased neighbours would otherwise show hairline seams.
    out.push('<g shape-rendering="crispEdges">');
    for (let i = 0; i < n; i++)
      for (let j = 0; j < nk; j++) {
        if (masked(spec, i, j)) continue;
        const v = spec.data[spec.offset + i * nk + j];
        out.push(`<rect x="${r2(j * cw)}" y="${r2(i * ch)}" width="${r2(cw + 0.5)}" height="${r2(ch + 0.5)}" fill="${hex(l, colorIndex(v, spec.scale) * 4)}"><title>${i}→${j}: ${fmt(v)}</title></rect>`);
      }
    out.push('</g>');
  } else {
    const r = rasterize({ data: spec.data, offset: spec.offset, rows: n, cols: nk, outW: Math.min(nk, maxPx), outH: Math.min(n, maxPx), scale: spec.scale, lut: l, causalOffset: spec.causalOffset });
    const uri = `data:image/png;base64,${base64(encodePng(r.rgba, r.width, r.height))}`;
    out.push(`<image width="${size}" height="${size}" preserveAspectRatio="none" style="image-rendering:pixelated" href="${uri}" xlink:href="${uri}"/>`);
  }
  return out;
}

/**
 * Every head of one layer as small multiples (the head grid as a figure): one square per head,
 * each coloured on its own scale, titled with its head (and KV head when they differ).
 */
export function headGridSvg(title: string, maps: readonly FigureMap[], opts: { panel?: number; columns?: number; cellLimit?: number; kvOf?: (h: number) => number; note?: string } = {}): string {
  const panel = opts.panel ?? 150;
  const columns = Math.max(1, Math.min(opts.columns ?? 4, maps.length));
  const rowsN = Math.ceil(maps.length / columns);
  const gap = 26;
  const width = columns * (panel + 14) + 20;
  const height = 34 + rowsN * (panel + gap) + 28;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${xmlEscape(`${title}: ${maps.length} heads`)}" font-family='${FONT}'>`);
  out.push(`<title>${xmlEscape(title)}</title>`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="10" y="18" font-size="14" font-weight="bold" fill="#111">${xmlEscape(title)}</text>`);
  maps.forEach((m, h) => {
    const x = 10 + (h % columns) * (panel + 14);
    const y = 34 + Math.floor(h / columns) * (panel + gap);
    out.push(`<text x="${x}" y="${y + 12}" font-size="11" fill="#222">head ${h}${opts.kvOf ? ` · KV ${opts.kvOf(h)}` : ''}</text>`);
    out.push(`<g transform="translate(${x},${y + 18})" data-role="head-${h}">`);
    out.push(...cellsMarkup(m, panel, opts.cellLimit ?? 48, 512));
    out.push(`<rect width="${panel}" height="${panel}" fill="none" stroke="#999" stroke-width="0.5"/></g>`);
  });
  out.push(`<text x="10" y="${height - 10}" font-size="10" fill="#333">${xmlEscape(opts.note ?? `${maps[0]?.label ?? ''}; each head on its own scale`)}</text>`);
  out.push('</svg>');
  return out.join('\n');
}

function legend(colormap: ColorMapName, scale: ValueScale, label: string, x0: number, y0: number, width: number): string {
  const l = lut(colormap);
  const m = Math.max(Math.abs(scale.lo), Math.abs(scale.hi)) || 1;
  const lo = scale.kind === 'diverging' ? -m : scale.lo;
  const hi = scale.kind === 'diverging' ? m : scale.hi;
  const x = scaleLinear().domain([lo, hi]).range([0, width]);
  const id = `qk-legend-${colormap}`;
  const stops = Array.from({ length: 17 }, (_, i) => `<stop offset="${i / 16}" stop-color="${hex(l, Math.round((i / 16) * 255) * 4)}"/>`).join('');
  const ticks = x
    .ticks(5)
    .map((t) => `<g transform="translate(${r2(x(t))},12)"><line y2="4" stroke="#555"/><text y="15" text-anchor="middle" font-size="10" fill="#222">${scale.kind === 'log' ? `1e${t}` : fmt(t)}</text></g>`)
    .join('');
  return `<g transform="translate(${x0},${y0})" data-role="legend"><defs><linearGradient id="${id}">${stops}</linearGradient></defs><rect width="${width}" height="12" fill="url(#${id})" stroke="#888" stroke-width="0.5"/>${ticks}<text y="42" font-size="10" fill="#333">${xmlEscape(label)}</text></g>`;
}

import { useEffect, useRef } from 'react';
import { useQk } from '../../state/react';
import { REASONS } from '../../core/blockSelection';
import type { SparseView, ViewResult } from '../../state/result';
import { cssColor } from '../../core/colormap';
import { fmtValue } from '../shared/format';
import { inverseOf, permutedCode, REASON_COLORS } from './blocks';

/** A categorical colour for chunk c of n: hues spread by the golden angle, alternating lightness. */
export function chunkColor(c: number): string {
  return `hsl(${(c * 137.508) % 360}, 65%, ${c % 2 ? 52 : 64}%)`;
}

/**
 * The token grid of a video-like input (frames side by side, each height × width patches)
 * coloured by the chunk (VMoBA) or draft cell (DraftAttention) each token belongs to: the block
 * partition drawn on the grid. With a query active, the patches it does not attend to are
 * dimmed and the ones it does are outlined in their reason's colour; hovering a patch makes it
 * the query (linked to the heatmap and the token strip), clicking locks it.
 */
export function VideoGridView({ s, result, h, q }: { s: SparseView; result: ViewResult; h: number; q: number | null }) {
  const hover = useQk((st) => st.hover);
  const lock = useQk((st) => st.lock);
  const info = s.vmoba ?? s.draft!;
  const grid = info.grid;
  const perm = s.perm!;
  const inv = inverseOf(perm);
  const B = s.selection.block;
  const visual = grid.T * grid.Hp * grid.Wp;
  const cs = Math.max(5, Math.min(22, Math.floor(560 / (grid.T * (grid.Wp + 1))), Math.floor(200 / grid.Hp)));
  const fw = grid.Wp * cs;
  const gap = Math.max(6, cs);
  const W = grid.T * fw + (grid.T - 1) * gap;
  const Hh = grid.Hp * cs + 16;
  const chunkOf = (t: number) => Math.floor(inv[t] / B);
  const what = s.vmoba ? `${s.vmoba.partition.toUpperCase()} partition${s.vmoba.byLayer ? ` of layer ${s.vmoba.layer}` : ''}: ${s.vmoba.nchunks} chunks of ${B} tokens` : `draft cells of ${s.draft!.ph} × ${s.draft!.pw} patches: ${s.draft!.S} cells`;
  const active = q !== null && q < result.N ? q : null;
  let attended = 0;
  if (active !== null) for (let t = 0; t < result.N; t++) if (permutedCode(s.selection, perm, h, active, t)) attended++;
  const cells = [];
  for (let t = 0; t < visual; t++) {
    const f = Math.floor(t / (grid.Hp * grid.Wp));
    const y = Math.floor((t % (grid.Hp * grid.Wp)) / grid.Wp);
    const x = t % grid.Wp;
    const code = active === null ? -1 : permutedCode(s.selection, perm, h, active, t);
    const px = f * (fw + gap) + x * cs;
    const py = 16 + y * cs;
    cells.push(
      <rect
        key={t}
        x={px + 0.5}
        y={py + 0.5}
        width={cs - 1}
        height={cs - 1}
        fill={chunkColor(chunkOf(t))}
        opacity={code === 0 ? 0.12 : 1}
        stroke={code > 0 ? REASON_COLORS[REASONS[code - 1]] : 'none'}
        strokeWidth={code > 0 ? Math.max(1, cs / 8) : 0}
        onPointerEnter={() => hover({ q: t, k: null })}
        onClick={() => lock({ q: t, k: null })}
      >
        <title>{`${result.tokens[t] ?? t}: ${s.vmoba ? 'chunk' : 'cell'} ${chunkOf(t)}${code > 0 ? ` — attended (${REASONS[code - 1]})` : code === 0 ? ' — skipped' : ''}`}</title>
      </rect>,
    );
  }
  return (
    <div className="video-grid" data-testid="video-grid">
      <div className="small">
        Token grid {grid.T} × {grid.Hp} × {grid.Wp} coloured by {what}
        {s.draft && s.draft.text ? `; plus ${s.draft.text} text tokens after the grid, always dense` : ''}.{' '}
        {active === null ? 'Hover a patch (or a heatmap row) to see what it attends to.' : <>Query “{result.tokens[active]}” (outlined black) attends to {attended} of {result.N} tokens in head {h}{attended === 0 ? ' — none: its draft row kept no cell, so its output is zero' : ''}: those patches keep their colour, outlined by reason; the rest are dimmed.</>}
      </div>
      <svg width={W} height={Hh} role="img" aria-label={`token grid coloured by ${what}`} onPointerLeave={() => hover(null)}>
        {Array.from({ length: grid.T }, (_, f) => (
          <text key={f} x={f * (fw + gap)} y={11} className="axis-label">
            frame {f}
          </text>
        ))}
        {cells}
        {active !== null && active < visual ? (() => {
          const f = Math.floor(active / (grid.Hp * grid.Wp));
          const y = Math.floor((active % (grid.Hp * grid.Wp)) / grid.Wp);
          const x = active % grid.Wp;
          return <rect x={f * (fw + gap) + x * cs} y={16 + y * cs} width={cs} height={cs} fill="none" stroke="#111" strokeWidth={2} pointerEvents="none" />;
        })() : null}
      </svg>
    </div>
  );
}

/** Paints a small matrix (rows × cols, row-major values in [lo, hi]) into a canvas, pixel-exact. */
function MatrixCanvas({ values, rows, cols, cell, label, mark, lo = 0, hi }: { values: ArrayLike<number>; rows: number; cols: number; cell: number; label: string; mark?: (r: number, c: number) => string | null; lo?: number; hi?: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current;
    if (!c) return;
    c.width = cols * cell;
    c.height = rows * cell;
    const ctx = c.getContext('2d')!;
    let max = hi ?? -Infinity;
    if (hi === undefined) for (let e = 0; e < rows * cols; e++) max = Math.max(max, values[e]);
    for (let r = 0; r < rows; r++)
      for (let k = 0; k < cols; k++) {
        const v = values[r * cols + k];
        ctx.fillStyle = cssColor('viridis', max > lo ? (v - lo) / (max - lo) : 0);
        ctx.fillRect(k * cell, r * cell, cell, cell);
        const m = mark?.(r, k);
        if (m && cell >= 3) {
          ctx.strokeStyle = m;
          ctx.lineWidth = Math.max(1, cell / 6);
          ctx.strokeRect(k * cell + 0.5, r * cell + 0.5, cell - 1, cell - 1);
        }
      }
  }, [values, rows, cols, cell, mark, lo, hi]);
  return <canvas ref={ref} role="img" aria-label={label} className="matrix-canvas" />;
}

/**
 * DraftAttention's own numbers for the shown head: the draft map (pooled attention, S × S) with
 * the kept cell pairs outlined and θ, the block mask in the reordered order (where it is block
 * structured, as the kernel sees it), and how well the draft predicts the true attention.
 */
export function DraftDetail({ s, h }: { s: SparseView; h: number }) {
  const x = s.draft!;
  const S = x.S;
  const D = x.draft.subarray(h * S * S, (h + 1) * S * S);
  const keep = x.keep.subarray(h * S * S, (h + 1) * S * S);
  const cell = Math.max(2, Math.min(10, Math.floor(240 / S)));
  const nb = s.selection.nkb;
  const mask = new Float32Array(nb * nb);
  for (let e = 0; e < nb * nb; e++) mask[e] = s.selection.codes[h * nb * nb + e] ? 1 : 0;
  const kept = keep.reduce((a, b) => a + b, 0);
  const theta = x.theta[h];
  return (
    <div className="draft-detail" data-testid="draft-detail">
      <div className="small">
        Head {h}: the draft map D = softmax(Q̄K̄ᵀ/√d) over {S} cells; σ = {x.sparsity} keeps {kept} of {S * S} cell pairs ({theta === null ? (kept ? 'σ gives k = 0: all kept' : 'k ≥ n: none kept') : `every value ≥ θ = ${fmtValue(theta)}, the k-th smallest — one more than the top ${(100 * (1 - x.sparsity)).toFixed(0)}%, Quirk R1`}). Draft against the true attention pooled to cells: Pearson r = <b data-testid="draft-corr">{s.draftCorr ? s.draftCorr[h].toFixed(3) : '—'}</b>.
      </div>
      <div className="draft-maps">
        <figure>
          <MatrixCanvas values={D} rows={S} cols={S} cell={cell} label={`draft map of head ${h}, kept pairs outlined`} mark={(r, c) => (keep[r * S + c] ? '#ffffff' : null)} />
          <figcaption className="small muted">draft map (kept outlined)</figcaption>
        </figure>
        <figure>
          <MatrixCanvas values={mask} rows={nb} cols={nb} cell={Math.max(2, Math.min(10, Math.floor(240 / nb)))} label={`block mask of head ${h} in the reordered order`} lo={0} hi={1} />
          <figcaption className="small muted">block mask, reordered tokens{x.text ? ` (last ${nb - S} block rows/cols: text)` : ''} — the heatmap shows it in token order</figcaption>
        </figure>
      </div>
    </div>
  );
}

/** VMoBA: which chunks each query chose in the shown head (rows: chunks; columns: queries in token order). */
export function VmobaDetail({ s, h, result }: { s: SparseView; h: number; result: ViewResult }) {
  const v = s.vmoba!;
  const N = result.N;
  const nc = v.nchunks;
  const inv = inverseOf(s.perm!);
  const codes = new Float32Array(nc * N);
  let extra = 0;
  for (let i = 0; i < N; i++)
    for (let c = 0; c < nc; c++) {
      const code = s.selection.codes[(h * N + inv[i]) * nc + c];
      codes[c * N + i] = code === 0 ? 0 : REASONS[code - 1] === 'forced' ? 0.55 : 1;
      if (code && REASONS[code - 1] !== 'forced') extra++;
    }
  const cw = Math.max(1, Math.min(4, Math.floor(480 / N)));
  const ch = Math.max(4, Math.min(14, Math.floor(120 / nc)));
  return (
    <div className="vmoba-detail" data-testid="vmoba-detail">
      <div className="small">
        {v.mode === 'topk' ? `Top-k: each query keeps its own chunk and the ${Number(s.params.topk) - 1} others with the highest gate q·mean(k) (no 1/√d).` : `Threshold τ = ${s.params.tau} over the scope "${v.scope}": the gate is min–max normalised, the own chunks count first, and the other chunks are added by gate until τ of the gate mass is covered (at least one per scope, Quirk V1).`}{' '}
        Head {h} chose {extra} chunk{extra === 1 ? '' : 's'} beyond the queries&apos; own ({(extra / N).toFixed(2)} per query).
        {v.denseFallback ? <b> No query chose any other chunk, so the code falls back to dense attention (Quirk V2): every pair is computed.</b> : null}
      </div>
      <figure>
        <SelectionStrip values={codes} rows={nc} cols={N} cw={cw} ch={ch} chosen={REASON_COLORS[v.mode === 'topk' ? 'topk' : 'threshold']} label={`chunks chosen per query in head ${h}`} />
        <figcaption className="small muted">chunks (rows) × queries in token order (columns): pale = own chunk, dark = chosen</figcaption>
      </figure>
    </div>
  );
}

function SelectionStrip({ values, rows, cols, cw, ch, chosen, label }: { values: Float32Array; rows: number; cols: number; cw: number; ch: number; chosen: string; label: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current;
    if (!c) return;
    c.width = cols * cw;
    c.height = rows * ch;
    const ctx = c.getContext('2d')!;
    ctx.fillStyle = '#f3f4f6';
    ctx.fillRect(0, 0, c.width, c.height);
    for (let r = 0; r < rows; r++)
      for (let k = 0; k < cols; k++) {
        const v = values[r * cols + k];
        if (!v) continue;
        ctx.fillStyle = v < 1 ? REASON_COLORS.forced : chosen;
        ctx.fillRect(k * cw, r * ch, cw, ch - 1);
      }
  }, [values, rows, cols, cw, ch, chosen]);
  return <canvas ref={ref} role="img" aria-label={label} className="matrix-canvas" />;
}

/**
 * TokenSelect: for the query chunk of the active query, each head's softmax criticality over the
 * middle tokens (heat strips), the summed vote with the selected tokens marked, and the kept
 * tokens as text (sink, selected and recent spans).
 */
export function TokenSelectDetail({ s, result, q }: { s: SparseView; result: ViewResult; q: number }) {
  const t = s.tokenselect!;
  const chunk = t.chunks[Math.min(t.chunks.length - 1, Math.floor(q / t.chunk))];
  if (!chunk.selecting)
    return (
      <p className="small" data-testid="tokenselect-detail">
        Query chunk {chunk.start}–{chunk.end - 1}: n_init + k + n_local = {t.nInit + t.topk + t.nLocal} ≥ {chunk.end} tokens, so it attends to every earlier token (no selection), as the code does.
      </p>
    );
  const [lo, hi] = chunk.candidates;
  const n = hi - lo;
  const H = result.H;
  const W = Math.max(n, Math.min(560, n * 6));
  const xw = W / n;
  const votes = chunk.votes!;
  const vmax = Math.max(1e-12, ...votes);
  const sel = new Set(chunk.selected);
  return (
    <div className="tokenselect-detail" data-testid="tokenselect-detail">
      <div className="small">
        Query chunk {chunk.start}–{chunk.end - 1} (of {t.chunks.length}): the fingerprint query scores the {n} middle tokens {lo}–{hi - 1}; each head&apos;s softmax is one vote (rows below), and the {t.topk} tokens with the most votes are kept with the {t.nInit} sink and {t.nLocal} recent tokens, for every head. Estimation: {chunk.overhead.toLocaleString()} FLOPs.
      </div>
      <svg width={W} height={H * 6 + 46} role="img" aria-label={`criticality per head and summed votes; selected tokens ${chunk.selected.join(', ')}`}>
        {Array.from({ length: H }, (_, h) => {
          const row = chunk.criticality!.subarray(h * n, (h + 1) * n);
          const m = Math.max(1e-12, ...row);
          return Array.from(row, (v, j) => <rect key={`${h}-${j}`} x={j * xw} y={h * 6} width={Math.max(1, xw)} height={5} fill={cssColor('viridis', v / m)} />);
        })}
        {Array.from(votes, (v, j) => (
          <rect key={`v${j}`} x={j * xw} y={H * 6 + 4 + 36 * (1 - v / vmax)} width={Math.max(1, xw - (xw > 3 ? 1 : 0))} height={36 * (v / vmax)} fill={sel.has(j + lo) ? REASON_COLORS.topk : '#d1d5db'}>
            <title>{`token ${j + lo} “${result.tokens[j + lo]}”: vote ${fmtValue(v)}${sel.has(j + lo) ? ' — selected' : ''}`}</title>
          </rect>
        ))}
      </svg>
      <div className="kept-tokens small">
        kept:{' '}
        {Array.from({ length: chunk.end }, (_, j) => j)
          .filter((j) => j < t.nInit || sel.has(j) || j >= hi)
          .map((j) => (
            <span key={j} className="kept-token" style={{ borderColor: REASON_COLORS[j < t.nInit ? 'sink' : sel.has(j) ? 'topk' : 'local'] }} title={`token ${j}`}>
              {result.tokens[j]}
            </span>
          ))}
      </div>
    </div>
  );
}

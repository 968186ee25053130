import { useQk } from '../../state/react';
import { activeCell } from '../../state/store';
import { sparseActive, type SparseView } from '../../state/result';
import { REASONS, type Reason } from '../../core/blockSelection';
import { fmtFlops, PairBar } from '../shared/PairBar';
import { CosineLine } from '../shared/CosineLine';
import { fmtValue } from '../shared/format';
import { inverseOf, REASON_COLORS, REASON_TEXT, rowCodes } from './blocks';
import { DraftDetail, TokenSelectDetail, VideoGridView, VmobaDetail } from './VideoDetail';
import { SweepChart } from './SweepChart';
import { SideBySide } from './SideBySide';

const BINS = 20;

/** Recall histogram of one head: 20 bins over [0, 1]. */
function RecallHist({ hist }: { hist: Uint32Array }) {
  const max = Math.max(1, ...hist);
  return (
    <svg width={BINS * 4} height={18} className="recall-hist" role="img" aria-label="histogram of the mass kept per query, 0 to 1">
      {Array.from(hist, (c, b) => (
        <rect key={b} x={b * 4} y={18 - (16 * c) / max} width={3} height={(16 * c) / max} fill="#7c3aed" />
      ))}
    </svg>
  );
}

/** The reasons present in a selection, as a colour legend. */
function ReasonLegend({ s }: { s: SparseView }) {
  const present = new Set<Reason>();
  for (const c of s.selection.codes) if (c) present.add(REASONS[c - 1]);
  return (
    <div className="reason-legend" data-testid="reason-legend">
      {[...present].map((r) => (
        <span key={r}>
          <span className="swatch" style={{ borderColor: REASON_COLORS[r] }} /> {REASON_TEXT[r]}
        </span>
      ))}
    </div>
  );
}

/** A distribution over positions as a line, with the γ-cover count written beside it. */
function Curve({ x, label, cover }: { x: Float32Array; label: string; cover: number }) {
  const W = 300;
  const Hh = 36;
  const max = Math.max(1e-12, ...x);
  const pts = Array.from(x, (v, i) => `${((i + 0.5) * W) / x.length},${(Hh - 2 - ((Hh - 4) * v) / max).toFixed(1)}`).join(' ');
  return (
    <div className="flex-curve">
      <span className="small">
        {label} <span className="muted">— {cover} {cover === 1 ? 'token reaches' : 'tokens reach'} γ</span>
      </span>
      <svg width={W} height={Hh} role="img" aria-label={`${label}: ${cover} tokens reach gamma`}>
        <polyline points={pts} fill="none" stroke="#2563eb" strokeWidth={1.2} />
      </svg>
    </div>
  );
}

/** FlexPrefill's decision for the shown head: the statistics of the last block and the budgets. */
function FlexDetail({ s, h }: { s: SparseView; h: number }) {
  const f = s.flex!;
  const x = f.heads[h];
  if (f.denseFallback) return <p className="small" data-testid="flex-detail">The sequence is too short for FlexPrefill (N ≤ max(2b, ⌈min_budget/b⌉·b)): it falls back to dense causal attention, as the code does.</p>;
  return (
    <div className="flex-detail" data-testid="flex-detail">
      <div className="small">
        Head {h}: <b>{x.type === 'QA' ? 'query-aware' : 'vertical-slash'}</b> — JS distance {Number.isNaN(x.djs) ? 'NaN (an exact zero, Quirk F2)' : x.djs.toFixed(4)} {x.type === 'QA' ? '<' : '≥'} τ = {String(s.params.tau)}; budgets {x.nV} vertical and {x.nS} slash blocks. The code's computational ratio (over nb², upper triangle included) is {f.computationalRatio.toFixed(3)}.
      </div>
      <Curve x={x.v} label="vertical v (mean attention of the last block per key)" cover={x.coverV} />
      <Curve x={x.sl} label="slash sl (per diagonal distance, main diagonal on the right)" cover={x.coverS} />
    </div>
  );
}

/** SparseD's schedule over the denoising steps: dense, the pattern step, then the reused mask. */
function SparseDDetail({ s }: { s: SparseView }) {
  const x = s.sparsed!;
  const T = x.steps;
  const W = 420;
  const step = W / T;
  return (
    <div className="sparsed-detail" data-testid="sparsed-detail">
      <div className="small">
        Schedule over T = {T} denoising steps (skip {x.skip}): dense for steps 0–{Math.min(T, x.schedule.tEnd) - 1}, the pattern computed at step {x.schedule.tEnd < T ? x.schedule.tEnd : '— (never: t_end ≥ T)'}, then this mask for {x.schedule.sparse} sparse steps. The pattern keeps {x.k1} of the key blocks per query block, and {x.k2} among the generation blocks (from block {x.L}); the dashed line on the map is where the {x.nGen} generated tokens begin.
      </div>
      <svg width={W} height={16} role="img" aria-label={`${x.schedule.dense} dense steps then ${x.schedule.sparse} sparse steps`}>
        <rect x={0} y={3} width={Math.min(T, x.schedule.tEnd) * step} height={10} fill="#9ca3af" />
        {x.schedule.tEnd < T ? <rect x={x.schedule.tEnd * step} y={0} width={Math.max(2, step)} height={16} fill="#E69F00" /> : null}
        <rect x={(x.schedule.tEnd + 1) * step} y={3} width={Math.max(0, x.schedule.sparse * step)} height={10} fill="#7c3aed" />
      </svg>
      <div className="muted small">grey: dense · orange: pattern step (dense) · purple: sparse with the reused mask. How far the pattern drifts over later steps needs the model's own denoising steps (a built-in diffusion model is future work).</div>
    </div>
  );
}

/** ThinK: each head's channel scores as a strip (darker = higher), pruned channels crossed out. */
function ThinkDetail({ s, head, onHead }: { s: SparseView; head: number; onHead: (h: number) => void }) {
  const t = s.think!;
  const H = t.pruned.length;
  const d = t.scores.length / H;
  const cell = Math.max(6, Math.min(16, Math.floor(360 / d)));
  return (
    <div className="think-detail" data-testid="think-detail">
      <div className="small">
        Key channels pruned per head (λ = {t.lambda}: {t.pruned[0]?.length ?? 0} of {d}), scored by Σq² over the last {t.obs} queries × Σk² over all keys; the {t.recent} most recent keys keep every channel. Key cache saved: <b>{(100 * t.cacheSaving).toFixed(1)}%</b>. Every token is kept, so density and mass kept are 1; the change shows in the maps and the output error.
      </div>
      <table className="think-table">
        <tbody>
          {t.pruned.map((pr, h) => {
            let max = 0;
            for (let c = 0; c < d; c++) max = Math.max(max, t.scores[h * d + c]);
            return (
              <tr key={h} className={h === head ? 'selected' : ''} onClick={() => onHead(h)}>
                <td>head {h}</td>
                <td>
                  <svg width={cell * d} height={cell} role="img" aria-label={`head ${h}: pruned channels ${pr.join(', ')}`}>
                    {Array.from({ length: d }, (_, c) => {
                      const v = max > 0 ? t.scores[h * d + c] / max : 0;
                      const off = pr.includes(c);
                      return (
                        <g key={c}>
                          <rect x={c * cell} y={0} width={cell - 1} height={cell - 1} fill={`rgba(37, 99, 235, ${0.1 + 0.9 * Math.sqrt(v)})`}>
                            <title>{`channel ${c}: score ${t.scores[h * d + c].toPrecision(4)}${off ? ' — pruned' : ''}`}</title>
                          </rect>
                          {off ? <path d={`M${c * cell + 1},1 L${c * cell + cell - 2},${cell - 2} M${c * cell + cell - 2},1 L${c * cell + 1},${cell - 2}`} stroke="#b91c1c" strokeWidth={1.5} /> : null}
                        </g>
                      );
                    })}
                  </svg>
                </td>
                <td className="muted small">pruned {pr.join(', ') || 'none'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** MoBA-style gate scores of the active query against every key block of the shown head. */
function GateRow({ s, h, i, N }: { s: SparseView; h: number; i: number; N: number }) {
  const nb = s.selection.nkb;
  // A reordering method's gate rows are in its permuted order.
  const p = s.perm ? inverseOf(s.perm)[i] : i;
  const g = s.gate!.subarray((h * N + p) * nb, (h * N + p + 1) * nb);
  const codes = rowCodes(s.selection, h, p);
  const unit = s.vmoba ? 'chunk' : 'key block';
  const finite = Array.from(g).filter(Number.isFinite);
  const lo = Math.min(0, ...finite);
  const hi = Math.max(1e-9, ...finite);
  return (
    <div className="gate-row" data-testid="gate-row">
      <div className="small">
        Gate of query {i} (head {h}) against each {unit} — q·mean(k<sub>{unit}</sub>), no 1/√d; chosen {unit}s coloured:
      </div>
      <div className="gate-bars">
        {Array.from(g, (v, J) => {
          const chosen = codes[J] ? REASON_COLORS[REASONS[codes[J] - 1]] : '#d1d5db';
          const text = v === Infinity ? 'own' : v === -Infinity ? 'future' : fmtValue(v);
          const hgt = v === Infinity ? 40 : v === -Infinity ? 0 : 4 + (36 * (v - lo)) / (hi - lo);
          return (
            <span key={J} className="gate-bar" title={`${unit} ${J}: ${text}${codes[J] ? ` — ${REASONS[codes[J] - 1]}` : ''}`}>
              <span className={v === Infinity ? 'fill forced' : 'fill'} style={{ height: hgt, background: v === -Infinity ? 'transparent' : chosen }} />
              <span className="lab">{J}</span>
            </span>
          );
        })}
      </div>
    </div>
  );
}

/**
 * The sparse method's panel (ALGORITHMS.md §0.7): per head the density, the attention mass kept
 * (mean, minimum and its histogram) linked to the head grid, the output error, the FLOPs with
 * the method's own estimation apart, what it computed, and — for MoBA-style methods — the gate
 * scores of the active query.
 */
export function SparsePanel() {
  const result = useQk((s) => s.derived.result);
  const head = useQk((s) => s.view.head);
  const sel = useQk((s) => s.selection);
  const setView = useQk((s) => s.setView);
  const hoverHead = useQk((s) => s.hoverHead);
  if (!sparseActive(result)) return null;
  const s = result.sparse;
  const m = s.metrics;
  const h = Math.min(head, result.H - 1);
  const cell = activeCell(sel);
  const q = cell && cell.q < result.N ? cell.q : result.N - 1;
  // Dense pairs over all heads, from the dense FLOPs 2·(d + dv)·pairs.
  const densePairs = m.flops.dense / (2 * (result.d + s.output.length / (result.H * result.N)));
  return (
    <section className="view sparse" aria-label="sparse attention">
      <header className="view-head">
        <h2>
          Sparse attention <small>· {s.label}</small>
        </h2>
        <span className={`badge ${s.illustrative.length ? 'warn' : ''}`} title={s.citation.code ? `code: ${s.citation.code}` : undefined}>
          {s.illustrative.length ? 'partly illustrative' : s.verified === 'code' ? 'checked against the official code' : s.verified}
        </span>
        <span className="muted small" data-testid="sparse-time">
          {s.ms.toFixed(0)} ms · kernel computed {((100 * s.computedPairs) / Math.max(1, densePairs)).toFixed(1)}% of the dense pairs
        </span>
      </header>
      <SideBySide />
      {s.think ? <ThinkDetail s={s} head={h} onHead={(g) => setView({ head: g })} /> : s.direct ? (
        <p className="small" data-testid="linear-detail">
          Linear attention against softmax attention on the same queries and keys: the maps are NaLaFormer&apos;s implicit weights φ<sub>q</sub>(q)·φ<sub>k</sub>(k) over their row sum (switch to dense and difference above the heatmap); the output error below is against softmax attention. Every key is kept.
        </p>
      ) : (
        <ReasonLegend s={s} />
      )}
      <div className="sparse-body">
        <table className="stats-table sparse-table" data-testid="sparse-table" hidden={!!s.gridless}>
          <thead>
            <tr>
              <th>head</th>
              <th title="allowed pairs over the causal pairs">density</th>
              <th title="dense attention mass on the allowed keys, mean over queries">mass kept</th>
              <th title="the least mass kept by any query">min</th>
              <th title="queries by mass kept, 0 (left) to 1 (right)">per query</th>
              {s.flex ? <th title="FlexPrefill's pattern and budgets (vertical / slash blocks)">pattern</th> : null}
            </tr>
          </thead>
          <tbody>
            {Array.from({ length: result.H }, (_, g) => (
              <tr key={g} className={g === h ? 'selected' : ''} onClick={() => setView({ head: g })} onPointerEnter={() => hoverHead(g)} onPointerLeave={() => hoverHead(null)} aria-selected={g === h}>
                <td>{g}</td>
                <td className="num">{(100 * m.density[g]).toFixed(1)}%</td>
                <td className="num">{m.recallMean[g].toFixed(3)}</td>
                <td className="num">{m.recallMin[g].toFixed(3)}</td>
                <td>
                  <RecallHist hist={m.recallHist.subarray(g * BINS, (g + 1) * BINS)} />
                </td>
                {s.flex ? (
                  <td title={`JS distance ${s.flex.heads[g].djs}`}>
                    <span className="badge">{s.flex.heads[g].type}</span> {s.flex.heads[g].type === 'dense' ? '' : `${s.flex.heads[g].nV}/${s.flex.heads[g].nS}`}
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
        <div className="sparse-metrics">
          <div className="metric" data-testid="sparse-relfrob">
            <div className="muted small">output error ‖O − O<sub>dense</sub>‖/‖O<sub>dense</sub>‖</div>
            <div className="big">{m.relFrob.toPrecision(3)}</div>
          </div>
          <div className="metric">
            <div className="muted small">
              per-token cosine: mean {(m.cosine.reduce((a, b) => a + b, 0) / m.cosine.length).toFixed(4)}, min {Math.min(...m.cosine).toFixed(4)}
            </div>
            <CosineLine cos={m.cosine} tokens={result.tokens} />
          </div>
          <PairBar label="Attention FLOPs (QKᵀ and W·V)" value={m.flops.attention} ref={m.flops.dense} fmt={fmtFlops} names={[s.label.split(' (')[0], 'dense']} extra={{ name: 'estimation', value: m.flops.overhead }} note="2·(d + dv) per allowed pair; the method's own estimation (gates, pooling) is the separate bar" />
        </div>
      </div>
      {s.gate ? <GateRow s={s} h={h} i={q} N={result.N} /> : null}
      {s.flex ? <FlexDetail s={s} h={h} /> : null}
      {s.sparsed ? <SparseDDetail s={s} /> : null}
      {s.vmoba || s.draft ? <VideoGridView s={s} result={result} h={h} q={cell ? cell.q : null} /> : null}
      {s.vmoba ? <VmobaDetail s={s} h={h} result={result} /> : null}
      {s.draft ? <DraftDetail s={s} h={h} /> : null}
      {s.tokenselect ? <TokenSelectDetail s={s} result={result} q={q} /> : null}
      <SweepChart />
      <div className="caveats small">
        <div>
          <strong>Source:</strong> {s.citation.paper}
          {s.citation.code ? <span className="muted"> · code read: {s.citation.code}</span> : null}
        </div>
        {s.illustrative.map((c, i) => (
          <div key={i} className="caveat warn">
            <span className="badge warn">illustrative</span> {c}
          </div>
        ))}
      </div>
    </section>
  );
}

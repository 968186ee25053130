import { useEffect, useMemo, useRef, useState } from 'react';
import { useQk } from '../../state/react';
import { importedLayer } from '../../state/store';
import type { Inputs } from '../../state/types';
import { DEFAULT_INPUTS } from '../../state/defaults';
import { planCompute } from '../../state/request';
import { syntheticQKV } from '../../core/synthetic';
import { attentionSteps, headWindow, type AttentionSteps, type HeadWindow } from '../../core/attentionSteps';
import { cssColor } from '../../core/colormap';
import type { QKV } from '../../core/tensor';
import { showToken } from '../shared/format';
import { STEP_EVENT } from '../../ui/events';

const MAX_COLS = 8;
const fmt = (x: number) => (x === -Infinity ? '−∞' : Math.abs(x) >= 100 || (Math.abs(x) < 0.01 && x !== 0) ? x.toExponential(1) : x.toFixed(Math.abs(x) >= 10 ? 1 : 2));

interface Step {
  id: string;
  title: string;
  /** One sentence: what this step does. */
  text: string;
  m?: { data: Float32Array; rows: number; cols: number; colLabels: string[]; kind: 'signed' | 'weights' };
}

function steps(w: HeadWindow, s: AttentionSteps): Step[] {
  const { n, d, dv, tokens } = w;
  const dims = (k: number) => Array.from({ length: k }, (_, i) => `${i}`);
  const toks = tokens.map((t) => showToken(t, 10));
  const sq = Math.sqrt(d);
  return [
    { id: 'tokens', title: '1. Tokens', text: `The text is split into tokens; these are the first ${n}. Each becomes a vector that the layer reads.` },
    { id: 'q', title: '2. Queries Q', text: `Each token's query q_i (${d} numbers for head ${w.head}): what it looks for in the other tokens.`, m: { data: w.q, rows: n, cols: d, colLabels: dims(d), kind: 'signed' } },
    { id: 'k', title: '3. Keys K', text: `Each token's key k_j (KV head ${w.kvHead}): what it offers to the queries that look for it.`, m: { data: w.k, rows: n, cols: d, colLabels: dims(d), kind: 'signed' } },
    { id: 'qk', title: '4. Q Kᵀ', text: 'Every query meets every key: the score s_ij = q_i · k_j, a sum over the dimensions.', m: { data: s.raw, rows: n, cols: n, colLabels: toks, kind: 'signed' } },
    { id: 'scale', title: `5. Scale by ${Math.abs(w.scale - 1 / sq) < 1e-9 ? `1/√d = 1/${+sq.toFixed(3)}` : `${+w.scale.toPrecision(4)}`}`, text: 'The scores are scaled so that their spread does not grow with the head dimension and the softmax stays soft.', m: { data: s.scaled, rows: n, cols: n, colLabels: toks, kind: 'signed' } },
    w.causal
      ? { id: 'mask', title: '6. Causal mask', text: 'A token may not look at later tokens: those scores become −∞, so they get no weight.', m: { data: s.masked, rows: n, cols: n, colLabels: toks, kind: 'signed' } }
      : { id: 'mask', title: '6. No mask', text: 'This source is bidirectional: every token may look at every token, so nothing is hidden (the window is normalised over its own tokens).', m: { data: s.masked, rows: n, cols: n, colLabels: toks, kind: 'signed' } },
    { id: 'softmax', title: '7. Softmax', text: 'Each row becomes weights that are positive and sum to 1: w_ij = exp(s_ij) / Σ_j exp(s_ij). This is the attention map.', m: { data: s.weights, rows: n, cols: n, colLabels: toks, kind: 'weights' } },
    { id: 'output', title: '8. Weights × V', text: `Each token's output is the weighted average of the value vectors: o_i = Σ_j w_ij v_j (${dv} numbers), which the layer passes on.`, m: { data: s.output, rows: n, cols: dv, colLabels: dims(dv), kind: 'signed' } },
  ];
}

function Matrix({ m, rowLabels, highlight }: { m: NonNullable<Step['m']>; rowLabels: string[]; highlight: number | null }) {
  const cols = Math.min(m.cols, MAX_COLS);
  let big = 1e-12;
  for (const v of m.data) if (Number.isFinite(v)) big = Math.max(big, Math.abs(v));
  const bg = (v: number) => (v === -Infinity ? '#e6e6ea' : m.kind === 'weights' ? cssColor('viridis', Math.min(1, v / big)) : cssColor('RdBu', 0.5 + (0.5 * v) / big));
  const fg = (v: number) => (v === -Infinity ? '#555' : m.kind === 'weights' ? (v / big > 0.6 ? '#000' : '#fff') : Math.abs(v / big) > 0.55 ? '#fff' : '#000');
  return (
    <table className="steps-matrix" data-testid="steps-matrix">
      <thead>
        <tr>
          <th />
          {m.colLabels.slice(0, cols).map((c, j) => (
            <th key={j} scope="col">
              {c}
            </th>
          ))}
          {m.cols > cols ? <th className="muted">… {m.cols - cols} more</th> : null}
        </tr>
      </thead>
      <tbody>
        {rowLabels.map((r, i) => (
          <tr key={i} className={i === highlight ? 'steps-row-locked' : undefined}>
            <th scope="row">{r}</th>
            {Array.from({ length: cols }, (_, j) => {
              const v = m.data[i * m.cols + j];
              return (
                <td key={j} style={{ background: bg(v), color: fg(v) }} data-v={Number.isFinite(v) ? v : String(v)}>
                  {fmt(v)}
                </td>
              );
            })}
            {m.cols > cols ? <td className="muted">…</td> : null}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * The computation of the shown head, step by step with its actual numbers (issue 8): tokens →
 * Q and K → QKᵀ → scale → mask → softmax → weights × V, on the first few tokens. Back and
 * forth with the buttons or PageUp/PageDown (n/b) while it is on screen.
 */
export function StepThrough({ large = false }: { large?: boolean }) {
  const head = useQk((s) => s.view.head);
  const locked = useQk((s) => s.selection.locked);
  const layer = useQk((s) => importedLayer(s));
  const src = useQk((s) => s.source);
  const compute = useQk((s) => s.compute);
  // The Q/K/V depend on the source and the mask only: changing head, view or method reuses them.
  const inputs: Inputs = useMemo(() => ({ ...DEFAULT_INPUTS, source: src, compute }), [src, compute]);
  const [n, setN] = useState(8);
  const [at, setAt] = useState(0);
  const box = useRef<HTMLElement>(null);
  const source = useMemo((): { x: QKV; tokens: string[]; causal: boolean; scale: number | null } | { error: string } => {
    if (inputs.source.kind === 'imported') {
      if (!layer) return { error: 'No file is open.' };
      if (!layer.qkv) return { error: 'This file holds attention weights only: the steps need its queries, keys and values (a Q/K/V dump or a model).' };
      const pre = inputs.source.positions === 'preRope' && layer.qkv.qPre && layer.qkv.kPre;
      const q = pre ? layer.qkv.qPre! : layer.qkv.q;
      const k = pre ? layer.qkv.kPre! : layer.qkv.k;
      return { x: { q, k, v: layer.qkv.v ?? k }, tokens: layer.queryTokens, causal: inputs.compute.causal, scale: inputs.compute.scale };
    }
    const p = planCompute(inputs);
    if (!p.plan) return { error: p.error };
    return { x: syntheticQKV(p.plan.spec), tokens: p.plan.tokens, causal: inputs.compute.causal, scale: inputs.compute.scale };
  }, [inputs, layer]);
  const built = useMemo(() => {
    if ('error' in source) return null;
    const w = headWindow(source.x, source.tokens, Math.min(head, source.x.q.shape[0] - 1), n, { causal: source.causal, scale: source.scale });
    return { w, list: steps(w, attentionSteps(w)) };
  }, [source, head, n]);
  const count = built?.list.length ?? 1;
  useEffect(() => {
    const on = (e: Event) => {
      // Only the step-through on screen answers (it may sit in a closed panel), and not while a lesson owns the step keys.
      if (!box.current || box.current.offsetParent === null || document.documentElement.dataset.lesson) return;
      setAt((a) => Math.max(0, Math.min(count - 1, a + (e as CustomEvent<number>).detail)));
    };
    window.addEventListener(STEP_EVENT, on);
    return () => window.removeEventListener(STEP_EVENT, on);
  }, [count]);
  if ('error' in source || !built) return <p className="small muted">{'error' in source ? source.error : ''}</p>;
  const { w, list } = built;
  const step = list[Math.min(at, list.length - 1)];
  const rowLabels = w.tokens.map((t, i) => `${i} ${showToken(t, 10)}`);
  const highlight = locked && locked.q < w.n ? locked.q : null;
  return (
    <section ref={box} className={`view steps${large ? ' steps-large' : ''}`} aria-label="step-through of the attention computation" data-testid="steps" data-step={step.id}>
      <div className="ctl-row">
        <button onClick={() => setAt(Math.max(0, at - 1))} disabled={at === 0} aria-label="previous step">
          ←
        </button>
        <span className="steps-dots" aria-hidden="true">
          {list.map((s, i) => (
            <button key={s.id} className={i === at ? 'on' : ''} onClick={() => setAt(i)} title={s.title} tabIndex={-1} />
          ))}
        </span>
        <button onClick={() => setAt(Math.min(list.length - 1, at + 1))} disabled={at === list.length - 1} aria-label="next step">
          →
        </button>
        <span className="small muted">
          step {at + 1} of {list.length} · head {w.head}
          {w.kvHead !== w.head ? ` (KV head ${w.kvHead})` : ''} · first{' '}
          <select value={n} onChange={(e) => setN(Number(e.target.value))} aria-label="tokens in the step-through">
            {[4, 6, 8, 10, 12].map((x) => (
              <option key={x}>{x}</option>
            ))}
          </select>{' '}
          tokens · PageDown / PageUp step
        </span>
      </div>
      <h3 data-testid="steps-title">{step.title}</h3>
      <p data-testid="steps-text">{step.text}</p>
      {step.m ? (
        <Matrix m={step.m} rowLabels={rowLabels} highlight={highlight} />
      ) : (
        <div className="tokens steps-tokens">
          {w.tokens.map((t, i) => (
            <span key={i} className="tok-chip">
              {showToken(t, 20)}
            </span>
          ))}
        </div>
      )}
      <p className="small muted">
        The source&apos;s own attention (no method applied), computed here in full precision
        {w.causal ? '; with the causal mask these rows are exactly those of the whole text' : ''}.
      </p>
    </section>
  );
}

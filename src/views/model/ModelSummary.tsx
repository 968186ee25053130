import { useQk } from '../../state/react';
import type { ModelSummary as Summary, NamedHead } from '../../core/modelSpec';
import { fmtBytes } from '../shared/PairBar';

const count = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} B` : n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : String(n));

/** The rows of the architecture table, each a label and a value in words. */
export function architectureRows(s: Summary): [string, string][] {
  const c = s.config;
  const gqa = c.kvHeads === c.heads ? `${c.heads} (multi-head: one K/V per head)` : `${c.heads} query heads over ${c.kvHeads} K/V heads (${c.heads / c.kvHeads} per group${c.kvHeads === 1 ? ', multi-query' : ', grouped-query'})`;
  const mlp = c.intermediate === 0 ? 'none (attention-only)' : c.family === 'gpt2' ? `GELU, width ${c.intermediate}` : `SwiGLU, width ${c.intermediate}`;
  return [
    ['architecture', `${c.modelType}${c.family === 'llama' ? ' (Llama family)' : ''}`],
    ['layers', String(c.layers)],
    ['heads', gqa],
    ['head dimension', String(c.headDim)],
    ['hidden size', String(c.hidden)],
    ['MLP', mlp],
    ['positions', c.family === 'llama' ? `RoPE, θ = ${c.ropeTheta} (half-split)` : `learned, ${c.maxPositions}`],
    ['norm', c.family === 'llama' ? `RMSNorm, ε = ${c.normEps}` : `LayerNorm, ε = ${c.normEps}`],
    ['vocabulary', `${c.vocab}${c.tiedEmbeddings ? ', output tied to the embedding' : ''}`],
    ['tokenizer', s.tokenizerVocab === null ? 'none: the model reads token ids' : `tokenizer.json, ${s.tokenizerVocab} ids`],
    ['parameters', count(s.parameters)],
    ['weights', `${s.dtypes.join('/')}, ${fmtBytes(s.diskBytes)} on disk, ${fmtBytes(s.loadedBytes)} as float32 on the backend`],
  ];
}

function headLabel(h: NamedHead): string {
  return `L${h.layer}H${h.head}`;
}

/**
 * The loaded model at a glance (issue 3): its architecture, memory and last run; the five
 * likeliest next tokens after the text; and, for a built-in model, its training step and the
 * heads its card names, with their scores at this step. Clicking a named head shows it.
 */
export function ModelSummary() {
  const s = useQk((st) => (st.source.kind === 'imported' ? st.imported?.checkpoint?.summary : undefined));
  const layer = useQk((st) => st.source.layer);
  const head = useQk((st) => st.view.head);
  const setSource = useQk((st) => st.setSource);
  const setView = useQk((st) => st.setView);
  if (!s) return null;
  const b = s.builtin;
  const pMax = Math.max(1e-9, ...s.next.map((n) => n.p));
  return (
    <section className="view model-summary" aria-label="model summary" data-testid="model-summary">
      <header className="view-head">
        <h2>
          Model <small>· {s.name}</small>
        </h2>
        {b ? (
          <a className="small" href={`models/${encodeURIComponent(b.id)}/MODEL_CARD.md`} target="_blank" rel="noreferrer">
            model card
          </a>
        ) : null}
      </header>
      <table className="model-table small">
        <tbody>
          {architectureRows(s).map(([k, v]) => (
            <tr key={k}>
              <th>{k}</th>
              <td>{v}</td>
            </tr>
          ))}
          {b ? (
            <tr>
              <th>training</th>
              <td data-testid="model-step">
                checkpoint {b.step + 1} of {b.steps}
                {b.trainingStep !== null ? `, step ${b.trainingStep} of ${b.lastStep}` : ''}
                {b.loss !== null ? `, loss ${b.loss.toFixed(3)}` : ''}
              </td>
            </tr>
          ) : null}
          <tr>
            <th>last run</th>
            <td>
              {s.tokens} tokens on {s.backend} in {s.ms.toFixed(0)} ms
            </td>
          </tr>
        </tbody>
      </table>
      {b && b.heads.length ? (
        <div className="named-heads" data-testid="named-heads">
          <p className="small">Heads the model card names{b.trainingStep !== null ? `, scored at step ${b.trainingStep}` : ''}:</p>
          <ul>
            {b.heads.map((h) => (
              <li key={`${h.kind}-${h.layer}-${h.head}`}>
                <button
                  className={`link${h.layer === layer && h.head === head ? ' current' : ''}`}
                  data-testid={`named-head-${h.layer}-${h.head}`}
                  onClick={() => {
                    setSource({ layer: h.layer });
                    setView({ head: h.head });
                  }}
                  title={`show layer ${h.layer}, head ${h.head}`}
                >
                  {headLabel(h)}
                </button>{' '}
                <span className="small" title={h.kind === 'select-and-copy' ? 'share of the card\'s questions on which this head\'s QK-score picks the right option (Sec. 11)' : undefined}>
                  {h.kind}
                  {h.score !== null ? (h.kind === 'select-and-copy' ? ` ${(100 * h.score).toFixed(1)} % right` : ` ${h.score.toFixed(2)}`) : ''}
                </span>
              </li>
            ))}
          </ul>
        </div>
      ) : b ? (
        <p className="small muted">The model card names no head of this model.</p>
      ) : null}
      {s.next.length ? (
        <div className="next-tokens" data-testid="next-tokens">
          <p className="small">Likeliest next tokens after the text:</p>
          <ol>
            {s.next.map((n, i) => (
              <li key={i}>
                <code>{JSON.stringify(n.token)}</code>
                <span className="bar" style={{ width: `${(60 * n.p) / pMax}px` }} aria-hidden="true" />
                <span className="small">{(100 * n.p).toFixed(1)} %</span>
              </li>
            ))}
          </ol>
        </div>
      ) : null}
    </section>
  );
}

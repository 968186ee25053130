import { useQk } from '../../state/react';
import { methodActive } from '../../state/result';
import { AssignmentDiagram } from './AssignmentDiagram';
import { MethodMetrics } from './MethodMetrics';
import { DgqaTimeline } from './DgqaTimeline';
import { PgqaPanel } from './PgqaPanel';
import { QkNormPanel } from './QkNormPanel';

/** The grouped-heads view: the assignment, the method's numbers against the reference, and its own panels. */
export function GroupingPanel() {
  const result = useQk((s) => s.derived.result);
  const m = methodActive(result) ? result.method : null;
  // Attention read from a file has no queries and keys to group; a sparse method has its own panel.
  if (result && ((!result.scores && !m) || result.sparse)) return null;
  return (
    <section className="view grouping" aria-label="grouped heads">
      <header className="view-head">
        <h2>
          Grouped heads{' '}
          <small>
            {m ? `· ${m.label}` : result ? `· the source: ${result.H} query heads, ${result.Hkv} KV heads${result.Hkv === result.H ? ' (MHA)' : result.Hkv === 1 ? ' (MQA)' : ' (GQA)'}` : ''}
          </small>
        </h2>
        {m ? (
          <span className={`badge ${m.verified === 'illustrative' || m.caveats.some((c) => /illustrative/.test(c)) ? 'warn' : ''}`} title={m.citation.code ? `code: ${m.citation.code}` : undefined}>
            {m.caveats.some((c) => /illustrative/.test(c)) ? 'partly illustrative' : m.verified === 'code' ? 'checked against the official code' : m.verified}
          </span>
        ) : null}
        {m ? (
          <span className="muted small" data-testid="method-time">
            {m.ms.toFixed(0)} ms · {m.computedHeads === 0 ? 'every head reused' : `${m.computedHeads} of ${m.queryHeads} heads computed`}
            {m.computedHeads > 0 && m.computedHeads < m.queryHeads ? ', the others reused (same query and KV head as before)' : ''}
          </span>
        ) : null}
      </header>
      <div className="grouping-body">
        <AssignmentDiagram />
        {m && result ? <MethodMetrics m={m} tokens={result.tokens} /> : <p className="muted small">Pick a grouping method on the left to see its assignment, its attention against this reference and what it saves.</p>}
      </div>
      {m?.detail.timeline ? <DgqaTimeline m={m} /> : null}
      {m?.detail.pgqa && result ? <PgqaPanel m={m} N={result.N} /> : null}
      {m?.detail.qkNorm ? <QkNormPanel m={m} /> : null}
      {m ? (
        <div className="caveats small">
          <div>
            <strong>Source:</strong> {m.citation.paper}
            {m.citation.code ? <span className="muted"> · code read: {m.citation.code}</span> : null}
          </div>
          {m.caveats.map((c, i) => (
            <div key={i} className={/illustrative|not faithful|not what/.test(c) ? 'caveat warn' : 'caveat'}>
              {/illustrative|not faithful|not what/.test(c) ? <span className="badge warn">illustrative</span> : null} {c}
            </div>
          ))}
        </div>
      ) : null}
    </section>
  );
}

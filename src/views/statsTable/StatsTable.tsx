import { useMemo, useState } from 'react';
import { useQk } from '../../state/react';
import { kvShown, statsShown } from '../shared/mapSpec';
import { methodActive, methodName } from '../../state/result';

type Col = 'head' | 'entropy' | 'distance' | 'sinkMass';
const COLS: { id: Col; label: string; help: string }[] = [
  { id: 'head', label: 'head', help: 'query head (and the KV head it reads)' },
  { id: 'entropy', label: 'entropy', help: 'mean row entropy in nats: 0 = each query attends to one key' },
  { id: 'distance', label: 'mean distance', help: 'mean |query − key| in tokens, weighted by attention' },
  { id: 'sinkMass', label: 'sink mass', help: 'mean weight on the first token (attention sink)' },
];

/** Per-head statistics, sortable, with inline bars; clicking a row selects the head. */
export function StatsTable() {
  const result = useQk((s) => s.derived.result);
  const head = useQk((s) => s.view.head);
  const hoverHead = useQk((s) => s.selection.hoverHead);
  const setView = useQk((s) => s.setView);
  const compare = useQk((s) => s.view.compare);
  const [sort, setSort] = useState<{ col: Col; desc: boolean }>({ col: 'head', desc: false });

  const rows = useMemo(() => {
    if (!result) return [];
    const { entropy, distance, sinkMass } = statsShown(result, compare);
    const r = Array.from({ length: result.H }, (_, h) => ({ head: h, kv: kvShown(result, h, compare), entropy: entropy[h], distance: distance[h], sinkMass: sinkMass[h] }));
    r.sort((a, b) => (sort.desc ? b[sort.col] - a[sort.col] : a[sort.col] - b[sort.col]));
    return r;
  }, [result, sort, compare]);
  if (!result) return null;
  // Across two sequences (cross-attention) a query and a key have no distance between them.
  const cross = result.keyTokens !== result.tokens;
  const maxOf = (c: Exclude<Col, 'head'>) => Math.max(1e-9, ...rows.map((r) => r[c]));
  const max = { entropy: maxOf('entropy'), distance: maxOf('distance'), sinkMass: 1 };

  return (
    <section className="view stats" aria-label="per-head statistics">
      <header className="view-head">
        <h2>
          Head statistics
          {methodActive(result) ? <small> · {compare === 'reference' ? 'reference' : methodName(result.method)}</small> : result.sparse ? <small> · dense attention</small> : null}
        </h2>
      </header>
      <table className="stats-table">
        <thead>
          <tr>
            {COLS.map((c) => (
              <th key={c.id} title={c.help} aria-sort={sort.col === c.id ? (sort.desc ? 'descending' : 'ascending') : 'none'}>
                <button onClick={() => setSort((s) => ({ col: c.id, desc: s.col === c.id ? !s.desc : c.id !== 'head' }))}>
                  {c.label}
                  {sort.col === c.id ? (sort.desc ? ' ▾' : ' ▴') : ''}
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.head} className={`${r.head === head ? 'selected' : ''} ${r.head === hoverHead ? 'hovered' : ''}`} onClick={() => setView({ head: r.head })} aria-selected={r.head === head}>
              <td>
                {r.head}
                {result.Hkv !== result.H || methodActive(result) ? <span className="muted"> → kv {r.kv}</span> : null}
              </td>
              {(['entropy', 'distance', 'sinkMass'] as const).map((c) =>
                cross && c === 'distance' ? (
                  <td key={c} className="num muted" title="not defined for cross-attention: queries and keys are different sequences">
                    —
                  </td>
                ) : (
                <td key={c} className="num">
                  <span className="bar" style={{ width: `${(100 * r[c]) / max[c]}%` }} />
                  <span className="val">{r[c].toFixed(3)}</span>
                </td>
                ),
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

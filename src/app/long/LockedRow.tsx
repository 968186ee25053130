import { useMemo } from 'react';
import { useStore } from 'zustand';
import type { LongStore } from '../../state/longStore';
import { allowedFn, exactWeight } from '../../views/long/levels';
import { fmtValue, showToken } from '../../views/shared/format';

/** The locked query's strongest keys, exact, from Q, K and the row's softmax stats (N·d work, in the page). */
export function LockedRow({ store, top = 8 }: { store: LongStore; top?: number }) {
  const locked = useStore(store, (s) => s.locked);
  const view = useStore(store, (s) => s.view);
  const inputs = useStore(store, (s) => s.inputs);
  const tokens = useStore(store, (s) => s.tokens);
  const causal = useStore(store, (s) => s.causal);
  const method = useStore(store, (s) => s.method);
  const rows = useMemo(() => {
    if (!locked || !view?.stats || !inputs || locked.q >= inputs.N) return null;
    const allowed = allowedFn(causal, method);
    const w: { j: number; weight: number }[] = [];
    for (let j = 0; j < inputs.N; j++) if (allowed(locked.q, j)) w.push({ j, weight: exactWeight(inputs, view.head, view.stats, locked.q, j, allowed).weight });
    return w.sort((a, b) => b.weight - a.weight).slice(0, top);
  }, [locked, view, inputs, causal, method, top]);
  if (!locked) return <p className="small muted">Click a cell to lock its query and list the keys it attends to most.</p>;
  return (
    <section className="view" aria-label="locked query" data-testid="long-locked">
      <header className="view-head">
        <h2>
          Query {locked.q} <small>“{showToken(tokens[locked.q] ?? '', 24)}”</small>
        </h2>
        <button onClick={() => store.getState().lockAt(null)}>unlock</button>
      </header>
      <ol className="small">
        {rows?.map((r) => (
          <li key={r.j}>
            key {r.j} “{showToken(tokens[r.j] ?? '', 20)}”: {fmtValue(r.weight)}
          </li>
        ))}
      </ol>
    </section>
  );
}

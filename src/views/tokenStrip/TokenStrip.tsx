import { memo, useEffect, useRef } from 'react';
import { activeCell } from '../../state/store';
import { useQk, useQkStore } from '../../state/react';
import { cssColor } from '../../core/colormap';
import { showToken } from '../shared/format';

/**
 * The tokens in order. Hovering one makes it the query everywhere; clicking locks it. When a
 * query is active, each token is tinted by the weight the selected head gives it, so the strip
 * reads like a sentence-level attention view. Highlighting is applied to the DOM directly from
 * a store subscription: hover never re-renders the list.
 */
export function TokenStrip() {
  const store = useQkStore();
  const result = useQk((s) => s.derived.result);
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    let prevQ: number | null = null;
    let prevK: number | null = null;
    let tinted = false;
    let tintKey = '';
    const apply = () => {
      const s = store.getState();
      const r = s.derived.result;
      const spans = el.children;
      const cell = activeCell(s.selection);
      const q = cell ? cell.q : null;
      const k = cell ? cell.k : null;
      if (prevQ !== null) spans[prevQ]?.classList.remove('is-query', 'is-locked');
      if (prevK !== null) spans[prevK]?.classList.remove('is-key');
      if (q !== null) spans[q]?.classList.add('is-query');
      if (q !== null && s.selection.locked) spans[q]?.classList.add('is-locked');
      if (k !== null) spans[k]?.classList.add('is-key');
      prevQ = q;
      prevK = k;
      // Tint by the selected head's weights of the active query.
      const key = `${q}|${s.view.head}|${r?.key}|${s.view.colormap}`;
      if (key === tintKey) return;
      tintKey = key;
      if (r && q !== null && q < r.N) {
        const h = Math.min(s.view.head, r.H - 1);
        const base = (h * r.N + q) * r.N;
        let max = 0;
        for (let j = 0; j < r.N; j++) max = Math.max(max, r.weights[base + j]);
        for (let j = 0; j < r.N && j < spans.length; j++) {
          const w = r.weights[base + j];
          const sp = spans[j] as HTMLElement;
          sp.style.backgroundColor = w > 0 ? cssColor(s.view.colormap, max > 0 ? w / max : 0) : '';
          sp.style.color = w / max > 0.55 ? '#000' : w > 0 ? '#fff' : '';
        }
        tinted = true;
      } else if (tinted) {
        for (let j = 0; j < spans.length; j++) {
          const sp = spans[j] as HTMLElement;
          sp.style.backgroundColor = '';
          sp.style.color = '';
        }
        tinted = false;
      }
    };
    apply();
    return store.subscribe((s, p) => {
      if (s.selection !== p.selection || s.view.head !== p.view.head || s.derived.result !== p.derived.result || s.view.colormap !== p.view.colormap) apply();
    });
  }, [store, result]);

  const onMove = (ev: React.PointerEvent) => {
    const i = Number((ev.target as HTMLElement).dataset?.i);
    if (Number.isInteger(i)) store.getState().hover({ q: i, k: null });
  };
  const onClick = (ev: React.MouseEvent) => {
    const i = Number((ev.target as HTMLElement).dataset?.i);
    if (Number.isInteger(i)) store.getState().lock({ q: i, k: null });
  };
  return (
    <section className="view token-strip" aria-label="tokens">
      <Tokens tokens={result?.tokens ?? []} boxRef={box} onMove={onMove} onLeave={() => store.getState().hover(null)} onClick={onClick} />
    </section>
  );
}

const Tokens = memo(function Tokens({ tokens, boxRef, onMove, onLeave, onClick }: { tokens: string[]; boxRef: React.RefObject<HTMLDivElement | null>; onMove: (e: React.PointerEvent) => void; onLeave: () => void; onClick: (e: React.MouseEvent) => void }) {
  return (
    <div className="tokens" ref={boxRef} onPointerOver={onMove} onPointerLeave={onLeave} onClick={onClick} data-testid="token-strip">
      {tokens.map((t, i) => (
        <span key={i} data-i={i} className="tok" title={`token ${i}: ${t}`}>
          {showToken(t, 24)}
        </span>
      ))}
    </div>
  );
}, (a, b) => a.tokens === b.tokens);

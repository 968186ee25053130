import { memo, useEffect, useRef } from 'react';
import { activeCell } from '../../state/store';
import { useQk, useQkStore } from '../../state/react';
import { cssColor } from '../../core/colormap';
import { showToken } from '../shared/format';

/**
 * The tokens in order. Hovering one makes it the query everywhere; clicking locks it. When a
 * query is active, each token is tinted by the weight the selected head gives it (relative to
 * the row's peak, in 31 steps), so the strip reads like a sentence-level attention view. Highlighting is applied to the DOM directly from
 * a store subscription: hover never re-renders the list.
 */
export function TokenStrip() {
  const store = useQkStore();
  const result = useQk((s) => s.derived.result);
  const box = useRef<HTMLDivElement>(null);
  // Cross-attention (queries and keys are different texts): the keys get a strip of their own.
  const keyBox = useRef<HTMLDivElement>(null);
  const cross = !!result && result.keyTokens !== result.tokens;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    let prevQ: number | null = null;
    let prevK: number | null = null;
    let tintKey = '';
    // Tint level per span (−1 = none; 0…31 = weight / row max, quantised) and the 32 colours of
    // the current map: a hover rewrites only the spans whose level changed (at N = 4096 most
    // tokens keep level −1 or 0), instead of two style writes for every token.
    let levels = new Int8Array(0);
    let palette: string[] = [];
    let paletteMap = '';
    const LEVELS = 32;
    const setLevel = (sp: HTMLElement, j: number, level: number) => {
      if (levels[j] === level) return;
      levels[j] = level;
      sp.style.backgroundColor = level < 0 ? '' : palette[level];
    };
    const apply = () => {
      const s = store.getState();
      const r = s.derived.result;
      const spans = el.children;
      const kspans = (r && r.keyTokens !== r.tokens && keyBox.current ? keyBox.current : el).children;
      const cell = activeCell(s.selection);
      const q = cell ? cell.q : null;
      const k = cell ? cell.k : null;
      if (prevQ !== null) spans[prevQ]?.classList.remove('is-query', 'is-locked');
      if (prevK !== null) kspans[prevK]?.classList.remove('is-key');
      if (q !== null) spans[q]?.classList.add('is-query');
      if (q !== null && s.selection.locked) spans[q]?.classList.add('is-locked');
      if (k !== null) kspans[k]?.classList.add('is-key');
      prevQ = q;
      prevK = k;
      // Tint by the selected head's weights of the active query.
      const key = `${q}|${s.view.head}|${r?.key}|${s.view.colormap}`;
      if (key === tintKey) return;
      tintKey = key;
      if (levels.length !== kspans.length) levels = new Int8Array(kspans.length).fill(-1);
      if (paletteMap !== s.view.colormap) {
        paletteMap = s.view.colormap;
        // Translucent over the light token background, so the text can stay black: changing the
        // text colour too made the browser lay out every token again (5–12 ms at N = 4096).
        palette = Array.from({ length: LEVELS }, (_, i) => cssColor(s.view.colormap, i / (LEVELS - 1)).replace('rgb(', 'rgba(').replace(')', `, ${(0.25 + (0.75 * i) / (LEVELS - 1)).toFixed(3)})`));
        levels.fill(-2); // force a rewrite with the new colours
      }
      if (r && q !== null && q < r.N) {
        const h = Math.min(s.view.head, r.H - 1);
        const base = (h * r.N + q) * r.Nk;
        let max = 0;
        for (let j = 0; j < r.Nk; j++) max = Math.max(max, r.weights[base + j]);
        for (let j = 0; j < r.Nk && j < kspans.length; j++) {
          const w = r.weights[base + j];
          // Weights under 1/62 of the row's peak stay untinted: they would all share the lowest
          // colour, and rewriting thousands of them on every hover is what costs time.
          const level = max > 0 ? Math.round((w / max) * (LEVELS - 1)) : 0;
          setLevel(kspans[j] as HTMLElement, j, level > 0 ? level : -1);
        }
      } else {
        for (let j = 0; j < kspans.length; j++) setLevel(kspans[j] as HTMLElement, j, -1);
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
  // A key under the pointer marks that key for the active query (the first query when none is).
  const onKeyMove = (ev: React.PointerEvent) => {
    const j = Number((ev.target as HTMLElement).dataset?.i);
    const s = store.getState();
    if (Number.isInteger(j) && !s.selection.locked) s.hover({ q: s.selection.hover?.q ?? 0, k: j });
  };
  return (
    <section className="view token-strip" aria-label="tokens">
      {cross ? <span className="muted small strip-label">queries</span> : null}
      <Tokens tokens={result?.tokens ?? []} boxRef={box} onMove={onMove} onLeave={() => store.getState().hover(null)} onClick={onClick} />
      {cross ? (
        <>
          <span className="muted small strip-label">keys</span>
          <Tokens tokens={result!.keyTokens} boxRef={keyBox} onMove={onKeyMove} onLeave={() => store.getState().hover(null)} onClick={() => undefined} testId="key-strip" />
        </>
      ) : null}
    </section>
  );
}

const Tokens = memo(function Tokens({ tokens, boxRef, onMove, onLeave, onClick, testId = 'token-strip' }: { tokens: string[]; boxRef: React.RefObject<HTMLDivElement | null>; onMove: (e: React.PointerEvent) => void; onLeave: () => void; onClick: (e: React.MouseEvent) => void; testId?: string }) {
  return (
    <div className="tokens" ref={boxRef} onPointerOver={onMove} onPointerLeave={onLeave} onClick={onClick} data-testid={testId}>
      {tokens.map((t, i) => (
        <span key={i} data-i={i} className="tok" title={`token ${i}: ${t}`}>
          {showToken(t, 24)}
        </span>
      ))}
    </div>
  );
}, (a, b) => a.tokens === b.tokens);

import { useEffect } from 'react';
import type { QkStore } from '../state/store';
import { activeCell } from '../state/store';

/**
 * Page keys: Escape clears the selection; arrow keys move the query (↑↓) and key (←→) of the
 * selection and lock it; [ and ] step through heads, { and } through the layers of a model or
 * dump. Ignored while typing in a field.
 */
export function useKeyboard(store: QkStore): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable)) return;
      const s = store.getState();
      const n = s.derived.result?.N ?? 0;
      const nk = s.derived.result?.Nk ?? n;
      if (e.key === 'Escape') {
        s.clearSelection();
        return;
      }
      if (e.key === '[' || e.key === ']') {
        s.setView({ head: s.view.head + (e.key === ']' ? 1 : -1) });
        return;
      }
      if (e.key === '{' || e.key === '}') {
        const layers = s.source.kind === 'imported' ? (s.imported?.layers.length ?? 0) : 0;
        if (layers > 1) s.setSource({ layer: Math.max(0, Math.min(layers - 1, s.source.layer + (e.key === '}' ? 1 : -1))) });
        return;
      }
      const moves: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
      const m = moves[e.key];
      if (!m || n === 0) return;
      e.preventDefault();
      const c = activeCell(s.selection) ?? { q: 0, k: 0 };
      const q = Math.max(0, Math.min(n - 1, c.q + m[0]));
      const k = Math.max(0, Math.min(nk - 1, (c.k ?? Math.min(q, nk - 1)) + m[1]));
      store.setState({ selection: { ...s.selection, locked: { q, k } } });
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [store]);
}

import { useEffect } from 'react';
import type { QkStore } from '../state/store';
import { activeCell } from '../state/store';
import { STEP_EVENT, ZOOM_EVENT } from './keys';

export interface PageKeys {
  /** `?`: toggles the key list. */
  onHelp?: () => void;
  /** `p`: toggles presentation mode. */
  onPresent?: () => void;
  /** `s`: toggles the step-through. */
  onSteps?: () => void;
}

/**
 * Page keys (the list is `KEYS` in keys.ts): Escape clears the selection; arrow keys move the
 * query (↑↓) and key (←→) of the selection and lock it; [ and ] step through heads, { and }
 * through the layers of a model or dump; Enter locks the hovered cell; + − 0 zoom the heatmap;
 * PageDown/PageUp (n/b) step a lesson; ? the key list; p presentation; f full screen. Ignored
 * while typing in a field.
 */
export function useKeyboard(store: QkStore, page: PageKeys = {}): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable)) return;
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      const s = store.getState();
      const n = s.derived.result?.N ?? 0;
      const nk = s.derived.result?.Nk ?? n;
      switch (e.key) {
        case 'Escape':
          s.clearSelection();
          return;
        case '[':
        case ']':
          s.setView({ head: s.view.head + (e.key === ']' ? 1 : -1) });
          return;
        case '{':
        case '}': {
          const layers = s.source.kind === 'imported' ? (s.imported?.layers.length ?? 0) : 0;
          if (layers > 1) s.setSource({ layer: Math.max(0, Math.min(layers - 1, s.source.layer + (e.key === '}' ? 1 : -1))) });
          return;
        }
        case '?':
          page.onHelp?.();
          return;
        case 'p':
          page.onPresent?.();
          return;
        case 's':
          page.onSteps?.();
          return;
        case 'f':
          if (document.fullscreenElement) void document.exitFullscreen().catch(() => undefined);
          else void document.documentElement.requestFullscreen?.().catch(() => undefined);
          return;
        case '+':
        case '=':
        case '-':
        case '0':
          window.dispatchEvent(new CustomEvent(ZOOM_EVENT, { detail: e.key === '0' ? 0 : e.key === '-' ? 0.5 : 2 }));
          return;
        case 'PageDown':
        case 'n':
        case 'PageUp':
        case 'b':
          e.preventDefault();
          window.dispatchEvent(new CustomEvent(STEP_EVENT, { detail: e.key === 'PageDown' || e.key === 'n' ? 1 : -1 }));
          return;
        case 'Enter':
          if (t && (t.tagName === 'BUTTON' || t.tagName === 'A' || t.tagName === 'SUMMARY')) return; // the focused control's own Enter
          s.lock();
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
  }, [store, page.onHelp, page.onPresent, page.onSteps]); // eslint-disable-line react-hooks/exhaustive-deps
}

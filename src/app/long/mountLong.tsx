import { createRoot } from 'react-dom/client';
import { createLongStore, LONG_DEFAULT_SOURCE } from '../../state/longStore';
import { PATTERNS, type Pattern } from '../../core/synthetic';
import { startLongController } from './longController';
import { LongPage } from './LongPage';
import { handedText, LONG_SIZES } from './openLong';
import '../app.css';

const SIZES: readonly number[] = LONG_SIZES;

/** `?long=N[&head=h&layer=l&pattern=p]`: the long-context page on the built-in long text. */
export function mountLong(root: HTMLElement): void {
  const p = new URLSearchParams(location.search);
  const asked = Number(p.get('long'));
  const N = SIZES.includes(asked) ? asked : LONG_DEFAULT_SOURCE.kind === 'synthetic' ? LONG_DEFAULT_SOURCE.N : 8192;
  const pat = p.get('pattern');
  const pattern = (PATTERNS as readonly string[]).includes(pat ?? '') ? (pat as Pattern) : 'mixed';
  const int = (k: string, lo: number, hi: number) => Math.max(lo, Math.min(hi, Math.trunc(Number(p.get(k)) || 0)));
  // ?text=session: the main page's text, handed over in session storage.
  const text = p.get('text') === 'session' ? handedText() : null;
  const store = createLongStore({ source: { ...(LONG_DEFAULT_SOURCE as Extract<typeof LONG_DEFAULT_SOURCE, { kind: 'synthetic' }>), N, pattern, text }, head: int('head', 0, 7), layer: int('layer', 0, 3) });
  if (p.get('long') && !SIZES.includes(asked)) store.getState().set({ notice: `link: long="${p.get('long')!.slice(0, 12)}" is not one of ${SIZES.join(', ')}; showing ${N} tokens` });
  const controller = startLongController(store);
  // Tests and the benchmark reach the page's store and controller here.
  (window as unknown as { __qkLong?: unknown }).__qkLong = { store, controller };
  createRoot(root).render(<LongPage store={store} controller={controller} />);
}

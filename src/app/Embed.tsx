import { useEffect, type ReactNode } from 'react';
import { QkProvider, useQk } from '../state/react';
import type { QkStore } from '../state/store';
import { Heatmap } from '../views/heatmap/Heatmap';
import { HeadGrid } from '../views/headGrid/HeadGrid';
import { TokenStrip } from '../views/tokenStrip/TokenStrip';
import { StatsTable } from '../views/statsTable/StatsTable';
import { LayerGrid } from '../views/layerGrid/LayerGrid';
import { ErrorBoundary } from '../ui/ErrorBoundary';
import { useViewport } from '../ui/useViewport';
import { useKeyboard } from './useKeyboard';
import { useShortLink } from './useShortLink';

/** The views an embed can show (`?embed=<view>`). */
export const EMBED_VIEWS = ['heatmap', 'grid', 'tokens', 'stats', 'layers'] as const;
export type EmbedView = (typeof EMBED_VIEWS)[number];

/**
 * One view sized to a box of `w` × `h` pixels (an embed's window, a figure's container). The
 * heatmap keeps room for its title (28 px), key labels (78 px), legend (64 px) and query labels (100 px).
 */
export function ViewBody({ view, w, h }: { view: EmbedView; w: number; h: number }) {
  const body: Record<EmbedView, ReactNode> = {
    heatmap: <Heatmap compact maxSize={Math.max(120, Math.min(w - 112, h - 178))} />,
    grid: <HeadGrid maxTile={Math.max(48, Math.min(220, Math.floor(Math.min(w, h) / 3)))} />,
    tokens: <TokenStrip />,
    stats: <StatsTable />,
    layers: <LayerGrid />,
  };
  return <>{body[view]}</>;
}

/** A link to the full app with the embed's state (short form), for the corner of the figure. */
function OpenInApp() {
  const link = useShortLink();
  return (
    <a className="embed-open" href={`${location.pathname}?${link}`} target="_blank" rel="noopener" data-testid="embed-open">
      open in QK Scope ↗
    </a>
  );
}

/** Errors only (a model that could not load, a bad link): an embed has no room for notices. */
function EmbedError() {
  const error = useQk((s) => s.derived.error ?? s.importState.error);
  return error ? (
    <p className="embed-error" role="alert">
      {error}
    </p>
  ) : null;
}

/**
 * One view with minimal chrome, sized to the window it is in (an `<iframe>`), with no scroll
 * bars: the embed route `?embed=heatmap|grid|tokens|stats|layers` plus the usual link state.
 */
export function Embed({ store, view }: { store: QkStore; view: EmbedView }) {
  useKeyboard(store);
  const { w, h } = useViewport();
  useEffect(() => {
    document.documentElement.classList.add('embed-mode');
    return () => document.documentElement.classList.remove('embed-mode');
  }, []);
  return (
    <QkProvider store={store}>
      <div className="embed" data-embed={view} data-testid="embed">
        <ErrorBoundary name={view}>
          <ViewBody view={view} w={w} h={h} />
        </ErrorBoundary>
        <EmbedError />
        <OpenInApp />
      </div>
    </QkProvider>
  );
}

import { useEffect, useRef, useState } from 'react';
import { QkProvider } from '../../state/react';
import { createQkStore, importedLayer, type QkStore } from '../../state/store';
import { importTensors } from '../../io/importTensors';
import type { ImportedSource } from '../../io/types';
import type { SequentialMap } from '../../core/colormapNames';
import type { MapMode } from '../../state/types';
import { useElementWidth } from '../../ui/useElementWidth';
import { ErrorBoundary } from '../../ui/ErrorBoundary';
import { referenceResult } from '../importedResult';
import { ViewBody, EMBED_VIEWS, type EmbedView } from '../Embed';

export { EMBED_VIEWS as FIGURE_VIEWS };
export type FigureView = EmbedView;

/** What a figure shows: data in any format the importers read, and the view's settings. */
export interface AttentionFigureProps {
  /** The file's bytes (.npy, .npz, .safetensors, JSON) or JSON text / a parsed JSON object (CircuitsVis, BertViz, Inspectus, Tensor2Tensor, qkscope-qkv). */
  data?: Uint8Array | ArrayBuffer | string | object | null;
  /** Its name (the extension helps tell text formats apart). */
  filename?: string;
  /** Or an already imported source. */
  source?: ImportedSource | null;
  view?: FigureView;
  layer?: number;
  head?: number;
  lock?: { q: number; k: number | null } | null;
  colormap?: SequentialMap;
  mode?: MapMode;
  /** Height of the box for the heatmap (its width is the container's); default the width. */
  height?: number;
}

/** Reads the data the way the app's importers do (an ambiguous array takes the guessed layout). */
export function figureSource(data: NonNullable<AttentionFigureProps['data']>, filename = 'data'): ImportedSource {
  const bytes = data instanceof Uint8Array ? data : data instanceof ArrayBuffer ? new Uint8Array(data) : new TextEncoder().encode(typeof data === 'string' ? data : JSON.stringify(data));
  const o = importTensors(bytes, typeof data === 'object' && !(data instanceof Uint8Array) && !(data instanceof ArrayBuffer) && !/\.json$/i.test(filename) ? `${filename}.json` : filename);
  return o.status === 'ready' ? o.source : o.finish(o.pending.guess);
}

/** Keeps a figure's result in step with its store: computed in plain JavaScript, no tfjs, no worker. */
function follow(store: QkStore): () => void {
  const run = () => {
    const s = store.getState();
    const l = importedLayer(s);
    if (!l) return;
    const key = JSON.stringify(['figure', s.imported!.name, s.source.layer, s.source.positions, s.compute.causal, s.compute.scale]);
    if (s.derived.result?.key === key) return;
    try {
      s.setDerived({ status: 'done', result: referenceResult(l, key, { causal: s.compute.causal, scale: s.compute.scale, preRope: s.source.positions === 'preRope' }), error: null });
    } catch (e) {
      s.setDerived({ status: 'error', error: (e as Error).message });
    }
  };
  run();
  return store.subscribe((s, p) => {
    if (s.imported !== p.imported || s.source !== p.source || s.compute !== p.compute) run();
  });
}

/**
 * A QK Scope view as a React component (issue 8): pass the data (any importable format) and
 * which view, layer and head to show. Each figure holds its own store, so several coexist on
 * one page; hover and lock work in each independently.
 */
export function AttentionFigure(props: AttentionFigureProps) {
  const { data, filename, source, view = 'heatmap', layer = 0, head = 0, lock = null, colormap, mode, height } = props;
  const [store] = useState(() => createQkStore());
  const [error, setError] = useState<string | null>(null);
  // Bumped when new data is shown: opening a source resets layer and head, so the settings are applied again.
  const [version, setVersion] = useState(0);
  const box = useRef<HTMLDivElement>(null);
  const w = useElementWidth(box, 480);
  useEffect(() => follow(store), [store]);
  useEffect(() => {
    if (!source && (data === undefined || data === null)) return;
    try {
      const src = source ?? figureSource(data!, filename);
      store.getState().setImported(src);
      setError(null);
      setVersion((v) => v + 1);
    } catch (e) {
      setError((e as Error).message);
    }
  }, [store, data, filename, source]);
  useEffect(() => {
    const st = store.getState();
    st.setSource({ layer });
    st.setView({ head, ...(colormap ? { colormap } : {}), ...(mode ? { mode } : {}) });
    store.setState((s) => ({ selection: { ...s.selection, locked: lock } }));
  }, [store, version, layer, head, lock?.q, lock?.k, colormap, mode]); // eslint-disable-line react-hooks/exhaustive-deps
  return (
    <QkProvider store={store}>
      <div ref={box} className="qk-figure" data-testid="qk-figure" data-view={view}>
        {error ? (
          <p className="field-error" role="alert">
            {error}
          </p>
        ) : version === 0 ? (
          <p className="small muted" data-testid="qk-figure-empty">
            No data yet: give the figure a file (the src attribute, or the data property / prop).
          </p>
        ) : (
          <ErrorBoundary name={view}>
            <ViewBody view={view} w={w} h={height ?? w + 180} />
          </ErrorBoundary>
        )}
      </div>
    </QkProvider>
  );
}

import { useEffect, useRef, useState } from 'react';
import { useStore } from 'zustand';
import { PATTERNS, PATTERN_INFO, type Pattern } from '../../core/synthetic';
import { SEQUENTIAL_MAPS, type SequentialMap } from '../../core/colormap';
import { fmtBytes } from '../../core/longPlan';
import type { LongSource, LongStore } from '../../state/longStore';
import type { LongBackend } from '../../compute/long/protocol';
import { Checkbox, NumberField, Segmented, Select } from '../../ui/controls';
import { LongGrid } from '../../views/long/LongGrid';
import { LongHeatmap } from '../../views/long/LongHeatmap';
import { readBlob } from '../../io/read';
import { importLongTensors, LONG_MAX_TOKENS } from '../../io/longImport';
import type { LongController } from './longController';
import { LockedRow } from './LockedRow';
import { LONG_SIZES as SIZES } from './openLong';


/**
 * The long-context page (`?long=N`): a sequence of up to 16384 tokens, every head of a layer in
 * a grid and the shown head zoomable down to single cells, with the memory plan, a progress bar
 * and Cancel. Maps are computed in tiles by the WebAssembly kernel in workers, never whole.
 */
export function LongPage({ store, controller }: { store: LongStore; controller: LongController }) {
  // One selector per field: the page must not re-render on hover (the store changes on every move).
  const src = useStore(store, (x) => x.source);
  const s = {
    source: src,
    layer: useStore(store, (x) => x.layer),
    head: useStore(store, (x) => x.head),
    method: useStore(store, (x) => x.method),
    causal: useStore(store, (x) => x.causal),
    backend: useStore(store, (x) => x.backend),
    mode: useStore(store, (x) => x.mode),
    colormap: useStore(store, (x) => x.colormap),
    inputs: useStore(store, (x) => x.inputs),
    plan: useStore(store, (x) => x.plan),
    job: useStore(store, (x) => x.job),
    timings: useStore(store, (x) => x.timings),
    notice: useStore(store, (x) => x.notice),
    error: useStore(store, (x) => x.error),
  };
  const syn = src.kind === 'synthetic' ? src : null;
  const setSyn = (patch: Partial<Extract<LongSource, { kind: 'synthetic' }>>) => syn && store.getState().setSource({ ...syn, ...patch });
  const [text, setText] = useState(syn?.text ?? '');
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const [fileError, setFileError] = useState<string | null>(null);
  const layers = src.layers;

  // The address keeps the shareable part: tokens, head, layer.
  useEffect(() => {
    const p = new URLSearchParams(location.search);
    p.set('long', String(syn ? syn.N : 'dump'));
    p.set('head', String(s.head));
    p.set('layer', String(s.layer));
    history.replaceState(null, '', `?${p}`);
  }, [syn, s.head, s.layer]);

  const onText = (t: string) => {
    setText(t);
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => setSyn({ text: t.trim() ? t.slice(0, 400_000) : null }), 400);
  };
  // A file being read: Cancel stops the read (the workers are not involved yet).
  const reading = useRef<AbortController | null>(null);
  const onFile = async (f: File | undefined) => {
    if (!f) return;
    setFileError(null);
    const abort = new AbortController();
    reading.current = abort;
    try {
      const bytes = await readBlob(f, (read, total) => store.getState().set({ job: { label: `Reading ${f.name}`, done: read, total } }), abort.signal);
      store.getState().set({ job: null });
      controller.openDump(importLongTensors(bytes, f.name));
    } catch (e) {
      store.getState().set({ job: null });
      setFileError(abort.signal.aborted ? `Reading ${f.name} was cancelled; the maps on screen stay.` : (e as Error).message); // what was on screen stays
    } finally {
      if (reading.current === abort) reading.current = null;
    }
  };
  const onCancel = () => {
    if (reading.current) reading.current.abort();
    else controller.cancel();
  };

  return (
    <div className="app long-app">
      <header className="topbar">
        <h1>
          QK Scope <span className="muted">long context</span>
        </h1>
        <span className="muted small" data-testid="long-status">
          {s.inputs ? `${s.inputs.N} tokens · ${s.inputs.H} heads (${s.inputs.Hkv} KV) · d = ${s.inputs.d}` : 'preparing…'}
          {s.timings.kernel ? (s.timings.kernel.startsWith('tfjs') ? ` · ${s.timings.kernel}` : ` · WebAssembly SIMD kernel (${s.timings.kernel}) on ${controller.engine.workers} workers`) : ''}
        </span>
        <a href="?" className="small">
          ← the main view
        </a>
      </header>
      <div className="layout">
        <aside className="controls" aria-label="long-context source and settings">
          <h2>Source</h2>
          {syn ? (
            <>
              <Select label="Tokens" value={String(syn.N)} options={SIZES.map((n) => ({ value: String(n), label: `${n}` }))} onChange={(v) => setSyn({ N: Number(v) })} />
              <Select<Pattern> label="Pattern" value={syn.pattern} options={PATTERNS.map((p) => ({ value: p, label: PATTERN_INFO[p].label }))} onChange={(pattern) => setSyn({ pattern })} help={PATTERN_INFO[syn.pattern].sentence} />
              <NumberField label="Query heads" value={syn.heads} min={1} max={32} onChange={(v) => v && setSyn({ heads: v, kvHeads: v % syn.kvHeads === 0 ? syn.kvHeads : v })} />
              <NumberField label="KV heads" value={syn.kvHeads} min={1} max={syn.heads} onChange={(v) => v && setSyn({ kvHeads: v })} />
              <NumberField label="Head dim d" value={syn.headDim} min={4} max={256} onChange={(v) => v && setSyn({ headDim: v })} />
              <NumberField label="Text seed" value={syn.textSeed} min={1} max={1e6} onChange={(v) => v && setSyn({ textSeed: v, text: null })} />
              <label className="ctl">
                <span>Text (empty: the built-in long text)</span>
                <textarea rows={4} value={text} onChange={(e) => onText(e.target.value)} aria-label="text of the long sequence" placeholder="Paste a long text; its first tokens are used" />
              </label>
            </>
          ) : (
            <p className="small">
              Q/K dump <b>{src.kind === 'dump' ? src.name : ''}</b>{' '}
              <button className="link" onClick={() => store.getState().setSource({ ...(store.getState().source as LongSource), ...{ kind: 'synthetic', N: 8192, textSeed: 1, text: null, pattern: 'mixed', heads: 8, kvHeads: 8, headDim: 64, seed: 7, layers: 4 } })}>
                back to the synthetic source
              </button>
            </p>
          )}
          <label className="ctl">
            <span>Open a Q/K dump (.npz, .npy, .safetensors, .json; up to {LONG_MAX_TOKENS} tokens)</span>
            <input type="file" accept=".npz,.npy,.safetensors,.json" onChange={(e) => void onFile(e.target.files?.[0])} aria-label="open a Q/K dump" />
          </label>
          {fileError ? <p className="error small" role="alert">{fileError}</p> : null}
          <h2>Layer and head</h2>
          <Select label="Layer" value={String(s.layer)} options={Array.from({ length: layers }, (_, l) => ({ value: String(l), label: syn ? `layer ${l} (seed ${syn.seed + 1000 * l})` : `layer ${l}` }))} onChange={(v) => store.getState().set({ layer: Number(v), locked: null })} />
          <Select label="Head" value={String(s.head)} options={Array.from({ length: s.inputs?.H ?? 1 }, (_, h) => ({ value: String(h), label: `head ${h}` }))} onChange={(v) => store.getState().set({ head: Number(v), locked: null })} />
          <h2>Mask</h2>
          <Select
            label="Method"
            value={s.method.kind}
            options={[
              { value: 'dense', label: 'Dense attention' },
              { value: 'window', label: 'Sliding window' },
              { value: 'sinks', label: 'Window + attention sinks (StreamingLLM)' },
            ]}
            onChange={(kind) => store.getState().set({ method: { ...s.method, kind } })}
          />
          {s.method.kind !== 'dense' ? <NumberField label="Window (keys)" value={s.method.window} min={1} max={LONG_MAX_TOKENS} onChange={(v) => v && store.getState().set({ method: { ...s.method, window: v } })} /> : null}
          {s.method.kind === 'sinks' ? <NumberField label="Sink keys" value={s.method.sinks} min={0} max={64} onChange={(v) => v !== null && store.getState().set({ method: { ...s.method, sinks: v } })} /> : null}
          <Checkbox label="Causal" checked={s.causal} onChange={(causal) => store.getState().set({ causal })} />
          <h2>Compute</h2>
          <Select<LongBackend>
            label="Compute on"
            value={s.backend}
            options={[
              { value: 'kernel', label: `WebAssembly SIMD kernel (${controller.engine.workers} workers)` },
              { value: 'webgpu', label: 'tfjs WebGPU (tiled)' },
              { value: 'webgl', label: 'tfjs WebGL (tiled)' },
              { value: 'wasm', label: 'tfjs WASM (registered kernel)' },
              { value: 'cpu', label: 'tfjs CPU (registered kernel)' },
            ]}
            onChange={(backend) => store.getState().set({ backend })}
            help="The kernel is the fastest here (measured by npm run bench); a GPU backend may win on a machine with a GPU."
          />
          <h2>Colours</h2>
          <Segmented label="map shows" value={s.mode} options={[['logWeights', 'log weights'], ['weights', 'weights']]} onChange={(mode) => store.getState().set({ mode })} />
          <Select<SequentialMap> label="Colour map" value={s.colormap as SequentialMap} options={SEQUENTIAL_MAPS.map((m) => ({ value: m, label: m }))} onChange={(colormap) => store.getState().set({ colormap })} />
        </aside>
        <main className="views">
          {s.error ? <p className="error" role="alert">{s.error}</p> : null}
          {s.notice ? <p className="notice small" role="status">{s.notice}</p> : null}
          {s.job ? (
            <div className="long-job" role="status" data-testid="long-job">
              <span>{s.job.label}</span> <progress max={s.job.total || 1} value={s.job.done} aria-label={s.job.label} />{' '}
              <button onClick={onCancel} data-testid="long-cancel">
                Cancel
              </button>
            </div>
          ) : null}
          {s.plan ? (
            <details className="view long-plan" open data-testid="long-plan">
              <summary>
                Memory: <b>{fmtBytes(s.plan.totalBytes)}</b> of a budget of {fmtBytes(s.plan.budget)} (dense would need {fmtBytes(s.plan.denseBytes)})
              </summary>
              {s.plan.lines.map((l) => (
                <p key={l} className="small">
                  {l}
                </p>
              ))}
              <p className="small muted" data-testid="long-timings">
                {s.timings.view !== undefined ? `Shown head: ${s.timings.view.toFixed(0)} ms. ` : ''}
                {s.timings.grid !== undefined ? `Grid: ${s.timings.grid.toFixed(0)} ms. ` : ''}
                {s.timings.window !== undefined ? `Last exact window: ${s.timings.window.toFixed(0)} ms.` : ''}
              </p>
            </details>
          ) : null}
          <div className="views-row">
            <LongHeatmap store={store} />
            <div style={{ flex: '1 1 300px', minWidth: 280 }}>
              <LongGrid store={store} />
              <LockedRow store={store} />
            </div>
          </div>
        </main>
      </div>
    </div>
  );
}

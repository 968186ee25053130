import { useEffect, useRef, useState } from 'react';
import { fmtBytes } from '../views/shared/PairBar';
import { useQk, useQkStore } from '../state/react';
import { importedLayer } from '../state/store';
import { Segmented, Select } from '../ui/controls';
import { openFile, openUrl } from './importer';
import { builtinModels, openBuiltin, openCheckpoint, type BuiltinModel } from './modelLoader';
import { ModelText } from './ModelText';

/** Example files shipped with the app (public/examples), opened like a same-origin link. */
const EXAMPLES = [
  { url: 'examples/qkv-gqa-rope.safetensors', label: 'Q/K/V dump (GQA, RoPE)' },
  { url: 'examples/encoder-decoder.json', label: 'encoder-decoder (BertViz)' },
];
import { download, exportShown } from './exportView';
import { fmtShape } from '../core/tensor';
import { describeLayout } from '../io/layout';
import type { ExportFormat } from '../io/exportTensors';

const ACCEPT = '.npy,.npz,.safetensors,.json,application/json';

/**
 * Where attention comes from: the synthetic example or a file the user opened (picked, dropped
 * on the page, or named in the link). Shows the reading progress, what the file holds, its
 * layer picker, and the export of what is on screen.
 */
export function SourcePanel() {
  const store = useQkStore();
  const source = useQk((s) => s.source);
  const imported = useQk((s) => s.imported);
  const imp = useQk((s) => s.importState);
  const setSource = useQk((s) => s.setSource);
  const result = useQk((s) => s.derived.result);
  const compare = useQk((s) => s.view.compare);
  const input = useRef<HTMLInputElement>(null);
  const folder = useRef<HTMLInputElement | null>(null);
  const [builtins, setBuiltins] = useState<BuiltinModel[]>([]);
  useEffect(() => {
    builtinModels().then(setBuiltins, () => setBuiltins([]));
  }, []);
  const [exportNote, setExportNote] = useState<string | null>(null);
  const layer = importedLayer({ source, imported });

  const doExport = (format: ExportFormat) => {
    if (!result) return;
    try {
      const label = layer ? `${imported!.name.replace(/\.[^.]+$/, '')}-${layer.label}` : 'synthetic';
      const f = exportShown(result, compare, format, label);
      download(f);
      setExportNote(`Saved ${f.filename} (${fmtBytes(f.bytes.length)}).${f.note ? ` ${f.note}` : ''}`);
    } catch (e) {
      setExportNote(`Could not export: ${(e as Error).message}`);
    }
  };

  return (
    <div className="source-panel" data-testid="source-panel">
      <div className="row2">
        <Segmented
          label="source of attention"
          value={source.kind}
          options={[
            ['synthetic', 'synthetic text'],
            ['video', 'synthetic video'],
            ['imported', imported ? 'opened file' : 'file (none yet)'],
          ]}
          onChange={(kind) => {
            if (kind === 'imported' && !imported) return input.current?.click();
            setSource({ kind });
            // A video diffusion transformer's attention is bidirectional: its methods need the mask off.
            if (kind === 'video' && store.getState().compute.causal) {
              store.getState().setCompute({ causal: false });
              store.getState().addNotices(['The synthetic video is read as a video diffusion transformer\'s tokens, whose attention is bidirectional: the causal mask is now off.']);
            }
          }}
        />
      </div>
      <div className="ctl">
        <button className="open-file" onClick={() => input.current?.click()} data-testid="open-file">
          Open file…
        </button>{' '}
        <button className="open-file" onClick={() => folder.current?.click()} data-testid="open-model" title="a Hugging Face checkpoint folder: config.json, model.safetensors (or shards and model.safetensors.index.json), tokenizer.json">
          Open model folder…
        </button>
        <input
          ref={(el) => {
            folder.current = el;
            // Folder picking is not a standard attribute in React's types.
            el?.setAttribute('webkitdirectory', '');
          }}
          type="file"
          multiple
          hidden
          data-testid="model-input"
          onChange={(e) => {
            const files = Array.from(e.target.files ?? []);
            if (files.length) void openCheckpoint(store, files);
            e.target.value = '';
          }}
        />
        <input
          ref={input}
          type="file"
          accept={ACCEPT}
          hidden
          data-testid="file-input"
          onChange={(e) => {
            const f = e.target.files?.[0];
            if (f) void openFile(store, f);
            e.target.value = '';
          }}
        />
        {builtins.length ? (
          <p className="help examples" data-testid="builtin-models">
            Built-in models:{' '}
            {builtins.map((m, i) => (
              <span key={m.id}>
                {i ? ' · ' : ''}
                <a
                  href={`?model=${encodeURIComponent(m.id)}`}
                  title={m.description}
                  onClick={(e) => {
                    e.preventDefault();
                    void openBuiltin(store, m.id);
                  }}
                >
                  {m.label}
                </a>
              </span>
            ))}
          </p>
        ) : null}
        <p className="help examples">
          Examples:{' '}
          {EXAMPLES.map((x, i) => (
            <span key={x.url}>
              {i ? ' · ' : ''}
              <a
                href={`?src=${encodeURIComponent(x.url)}`}
                onClick={(e) => {
                  e.preventDefault();
                  void openUrl(store, x.url);
                }}
              >
                {x.label}
              </a>
            </span>
          ))}
        </p>
        <p className="help">
          or drop a file anywhere on the page: attention (.npy, .npz, .safetensors, CircuitsVis / BertViz / Inspectus / Tensor2Tensor JSON), a Q/K/V dump, or a GPT-2 / Llama / Mistral / Qwen2 checkpoint folder. It is read here, never uploaded.
        </p>
      </div>
      {imp.reading ? (
        <div className="ctl" data-testid="import-progress">
          <label>
            Reading {imp.reading.name} … {fmtBytes(imp.reading.bytes)}
          </label>
          <progress max={1} value={imp.reading.progress ?? undefined} aria-label={`reading ${imp.reading.name}`} />
        </div>
      ) : null}
      {imp.error && !imp.confirm ? (
        <p className="field-error" role="alert" data-testid="import-error">
          {imp.error}
        </p>
      ) : null}
      {source.kind === 'imported' && imported && layer ? (
        <div className="file-info" data-testid="file-info">
          <p>
            <b title={imported.name}>{imported.name.length > 40 ? `${imported.name.slice(0, 38)}…` : imported.name}</b> · {imported.format} · {fmtBytes(imported.bytes)}
            {imported.model ? ` · ${imported.model}` : ''}
          </p>
          <p className="muted small">
            {imported.layers.length} {imported.layers.length === 1 ? 'layer' : 'layers'} ·{' '}
            {layer.qkv
              ? `q ${fmtShape(layer.qkv.q.shape)}, k ${fmtShape(layer.qkv.k.shape)}${layer.qkv.v ? `, v ${fmtShape(layer.qkv.v.shape)}` : ''}: attention computed here`
              : `weights ${fmtShape(layer.weights!.shape)} as read`}
            {layer.causal ? ' · causal' : ''}
          </p>
          {imported.layout ? (
            <p className="muted small" data-testid="layout-used">
              Read as [{describeLayout(imported.layout.used.roles, imported.layout.pending.shape)}] of {imported.layout.used.values}.{' '}
              <button
                className="link"
                data-testid="change-layout"
                onClick={() => {
                  const l = imported.layout!;
                  store.getState().setImportState({ error: null, confirm: { pending: { ...l.pending, guess: l.used }, finish: l.relayout, url: source.url } });
                }}
              >
                Change layout…
              </button>
            </p>
          ) : null}
          {source.url || source.model ? null : (
            <p className="help">A link to this view cannot carry a file you opened from disk: serve the file beside the app and link it with ?src=name to share the view.</p>
          )}
          {imported.checkpoint ? <ModelText /> : null}
          {imported.notes.map((n, i) => (
            <p key={i} className="help">
              {n}
            </p>
          ))}
          {imported.layers.length > 1 ? (
            <Select
              label="Layer"
              value={String(Math.min(source.layer, imported.layers.length - 1))}
              options={imported.layers.map((l, i) => ({ value: String(i), label: l.label }))}
              onChange={(v) => setSource({ layer: Number(v) })}
            />
          ) : null}
          {layer.qkv?.qPre && layer.qkv.kPre ? (
            <div className="ctl">
              <label>Queries and keys</label>
              <Segmented
                label="queries and keys"
                value={source.positions}
                options={[
                  ['captured', 'as used (after RoPE)'],
                  ['preRope', 'before RoPE'],
                ]}
                onChange={(positions) => setSource({ positions })}
              />
              <p className="help">Before RoPE, the scores lose the rotary embedding's relative-position signal: compare the maps to see what position contributes.</p>
            </div>
          ) : null}
        </div>
      ) : null}
      <div className="ctl">
        <label>Export what is on screen (all heads of this layer)</label>
        <div className="export-buttons">
          <button onClick={() => doExport('npy')} disabled={!result} data-testid="export-npy">
            .npy
          </button>
          <button onClick={() => doExport('safetensors')} disabled={!result} data-testid="export-safetensors">
            .safetensors
          </button>
          <button onClick={() => doExport('circuitsvis')} disabled={!result} data-testid="export-json">
            CircuitsVis JSON
          </button>
        </div>
        {exportNote ? (
          <p className="help" data-testid="export-note">
            {exportNote}
          </p>
        ) : null}
      </div>
    </div>
  );
}

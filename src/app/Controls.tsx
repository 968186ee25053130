import { useEffect, useRef, useState } from 'react';
import { PATTERNS, PATTERN_INFO, VIDEO_PATTERNS, VIDEO_PATTERN_INFO, type Pattern } from '../core/synthetic';
import { SEQUENTIAL_MAPS, type SequentialMap } from '../core/colormap';
import { useQk } from '../state/react';
import { LIMITS } from '../state/defaults';
import { Checkbox, NumberField, Select, Slider } from '../ui/controls';
import { MethodControls } from './MethodControls';
import { SourcePanel } from './SourcePanel';
import { importedLayer } from '../state/store';
import { openLong } from './long/openLong';

function divisors(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1).filter((x) => n % x === 0);
}

/** The synthetic source and compute settings. */
export function Controls() {
  const source = useQk((s) => s.source);
  const compute = useQk((s) => s.compute);
  const colormap = useQk((s) => s.view.colormap);
  const setSource = useQk((s) => s.setSource);
  const setCompute = useQk((s) => s.setCompute);
  const setView = useQk((s) => s.setView);
  const imported = useQk((s) => s.imported);
  const layer = importedLayer({ source, imported });
  const d = layer?.qkv ? layer.qkv.q.shape[2] : source.headDim;

  // The text box keeps what the user typed even when it is refused; the store gets it after a pause.
  const [text, setText] = useState(source.text);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => setText(source.text), [source.text]);
  const onText = (t: string) => {
    setText(t);
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => setSource({ text: t.slice(0, LIMITS.maxTextChars) }), 250);
  };

  return (
    <aside className="controls" aria-label="source and settings">
      <h2>Source</h2>
      <SourcePanel />
      {layer ? null : (
        <>
      {source.kind === 'video' ? (
        <>
          <h2>Synthetic video (frames × height × width)</h2>
          <div className="ctl">
            <p className="help">
              Tokens of a video latent grid, flattened frame by frame (for VMoBA and DraftAttention). Heads cycle through: {VIDEO_PATTERNS.map((p, i) => `${i ? '; ' : ''}${p}: ${VIDEO_PATTERN_INFO[p]}`).join('')}.
            </p>
          </div>
          <div className="row3">
            {(['T', 'Hp', 'Wp'] as const).map((key) => (
              <NumberField
                key={key}
                label={key === 'T' ? 'Frames' : key === 'Hp' ? 'Height' : 'Width'}
                value={source.grid[key]}
                min={1}
                max={64}
                onChange={(v) => setSource({ grid: { ...source.grid, [key]: Math.max(1, Math.min(64, Math.trunc(v ?? 1))) } })}
              />
            ))}
          </div>
        </>
      ) : (
        <>
      <h2>Synthetic teaching example</h2>
      <div className="ctl">
        <label htmlFor="qk-text">Text (split into words and punctuation)</label>
        <textarea id="qk-text" rows={5} value={text} maxLength={LIMITS.maxTextChars} onChange={(e) => onText(e.target.value)} spellCheck={false} />
        <button className="link small" data-testid="open-long" onClick={() => openLong(text)} title="maps of up to 16384 tokens, computed in tiles">
          Long text? Open the long-context view
        </button>
      </div>
      <Select<Pattern>
        label="Pattern"
        value={source.pattern}
        options={PATTERNS.map((p) => ({ value: p, label: PATTERN_INFO[p].label }))}
        onChange={(pattern) => setSource({ pattern })}
        help={PATTERN_INFO[source.pattern].sentence}
      />
        </>
      )}
      <div className="row2">
        <Select
          label="Heads"
          value={String(source.heads)}
          options={[1, 2, 3, 4, 6, 8, 12, 16, 24, 32].map((h) => ({ value: String(h), label: String(h) }))}
          onChange={(v) => setSource({ heads: Number(v), kvHeads: Math.min(source.kvHeads, Number(v)) })}
        />
        <Select
          label="KV heads"
          value={String(source.kvHeads)}
          options={divisors(source.heads).map((h) => ({ value: String(h), label: h === source.heads ? `${h} (MHA)` : h === 1 ? '1 (MQA)' : `${h} (GQA)` }))}
          onChange={(v) => setSource({ kvHeads: Number(v) })}
        />
      </div>
      <Select
        label="Head dimension d"
        value={String(source.headDim)}
        options={[1, 2, 4, 8, 16, 32, 64, 128].map((h) => ({ value: String(h), label: String(h) }))}
        onChange={(v) => setSource({ headDim: Number(v) })}
      />
      <Slider label="Temperature" value={source.temperature} min={0.1} max={4} step={0.05} onChange={(temperature) => setSource({ temperature })} help="divides the pattern's logits: low is sharp, high is diffuse" />
      <NumberField label="Seed" value={source.seed} min={0} max={2 ** 31 - 1} onChange={(v) => setSource({ seed: Math.trunc(v ?? 0) })} />
        </>
      )}
      {layer?.weights ? null : (
        <>
          <h2>Attention</h2>
          <Checkbox label="Causal mask (a query sees only earlier keys)" checked={compute.causal} onChange={(causal) => setCompute({ causal })} />
          <NumberField label="Scale override (empty = 1/√d)" value={compute.scale} min={0.0001} max={10000} step={0.01} allowEmpty placeholder={`1/√${d} = ${(1 / Math.sqrt(d)).toFixed(4)}`} onChange={(scale) => setCompute({ scale })} />
        </>
      )}
      <h2>Method: grouped heads or sparse attention</h2>
      <MethodControls />
      <h2>Display</h2>
      <Select<SequentialMap> label="Colour map" value={colormap} options={SEQUENTIAL_MAPS.map((m) => ({ value: m, label: m }))} onChange={(c) => setView({ colormap: c })} />
    </aside>
  );
}

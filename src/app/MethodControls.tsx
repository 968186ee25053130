import { METHODS, getMethod } from '../methods/registry';
import { SPARSE_METHODS, getSparseMethod } from '../methods/sparse/registry';
import { choicesOf, defaultOf, normalizeParams, rangeOf } from '../methods/params';
import type { MethodDims, ParamSpec, ParamValue } from '../methods/types';
import { partitionOfLayer } from '../methods/sparse/vmoba';
import { useQk } from '../state/react';
import { importedLayer, sourceShape } from '../state/store';
import { useShallow } from 'zustand/react/shallow';
import { LIMITS } from '../state/defaults';
import { NumberField, Select, Slider } from '../ui/controls';

/** The control of one parameter, built from its schema. */
function ParamControl({ spec, value, dims, onChange }: { spec: ParamSpec; value: ParamValue; dims: MethodDims; onChange: (v: ParamValue) => void }) {
  if (spec.kind === 'enum') {
    return <Select label={spec.label} value={String(value)} options={spec.options.map((o) => ({ value: o.value, label: o.label }))} onChange={onChange} help={spec.help} />;
  }
  const choices = choicesOf(spec, dims);
  if (choices) {
    return <Select label={spec.label} value={String(value)} options={choices.map((c) => ({ value: String(c), label: String(c) }))} onChange={(v) => onChange(Number(v))} help={spec.help} />;
  }
  const [lo, hi] = rangeOf(spec, dims);
  if (spec.kind === 'number') return <Slider label={spec.label} value={Number(value)} min={lo} max={hi} step={spec.step} onChange={onChange} help={spec.help} />;
  if (spec.kind === 'int' && hi - lo <= 64) return <Slider label={spec.label} value={Number(value)} min={lo} max={hi} step={1} onChange={onChange} help={spec.help} />;
  return <NumberField label={spec.label} value={Number(value)} min={lo} max={hi} onChange={(v) => onChange(Math.trunc(v ?? Number(defaultOf(spec, dims))))} />;
}

/** VMoBA's parameters that matter for its current partition and selection mode. */
function vmobaParamShown(key: string, params: Record<string, ParamValue>): boolean {
  const part = params.partition === 'layer' ? partitionOfLayer(Number(params.layer)) : params.partition;
  if (key === 'layer') return params.partition === 'layer';
  if (key === 'ct1') return part === '1d';
  if (key === 'ch' || key === 'cw') return part !== '1d';
  if (key === 'ct3') return part === '3d';
  if (key === 'topk') return params.mode === 'topk';
  if (key === 'scope' || key === 'tau') return params.mode !== 'topk';
  return true;
}

/** Method picker and the active method's parameters, generated from the registry's schemas. */
export function MethodControls() {
  const method = useQk((s) => s.method);
  const shape = useQk(useShallow((s) => sourceShape(s)));
  const source = useQk((s) => s.source);
  const imported = useQk((s) => s.imported);
  const weightsOnly = !!importedLayer({ source, imported })?.weights;
  const setMethod = useQk((s) => s.setMethod);
  const setParam = useQk((s) => s.setMethodParam);
  const N = useQk((s) => s.derived.result?.N ?? 0);
  const grid = useQk((s) => s.derived.result?.grid);
  const desc = getMethod(method.id) ?? getSparseMethod(method.id) ?? METHODS[0];
  const sparse = desc.family === 'sparse';
  if (weightsOnly) return <p className="help muted small" data-testid="methods-need-qk">The methods need queries and keys; this file holds attention weights only. Open a Q/K/V dump (docs/import-formats.md) to run them on a real model.</p>;
  const dims: MethodDims = { H: shape.H, Hs: shape.Hkv, N, d: shape.d, dv: shape.dv, steps: desc.id === 'dgqa' && !importedLayer({ source, imported }) ? LIMITS.dgqaSteps : 1, grid };
  const { params } = normalizeParams(desc, dims, method.params);
  const sqaPreset = desc.id === 'sqa' && params.variant !== 'custom';
  return (
    <div className="method-controls">
      <Select
        label="Method"
        value={desc.id}
        options={[...METHODS.map((m) => ({ value: m.id, label: m.label })), ...SPARSE_METHODS.map((m) => ({ value: m.id, label: `Sparse: ${m.label}` }))]}
        onChange={setMethod}
        help={desc.summary}
      />
      {desc.params
        .filter((p) => !(sqaPreset && (p.key === 'queryHeads' || p.key === 'kvHeads')))
        .filter((p) => !(desc.id === 'dgqa' && ((p.key === 'beta' && params.variant !== 'ema') || (p.key === 'window' && params.phase !== 'train'))))
        .filter((p) => desc.id !== 'vmoba' || vmobaParamShown(p.key, params))
        .map((p) => (
          <ParamControl key={p.key} spec={p} value={params[p.key]} dims={dims} onChange={(v) => setParam(p.key, v)} />
        ))}
      {!sparse && desc.id !== 'mha' && shape.Hkv !== shape.H ? (
        <p className="help muted small">The source already shares {shape.Hkv} KV heads among {shape.H} query heads; the method pools those.</p>
      ) : null}
      {sparse ? <VersusControls dims={dims} /> : null}
    </div>
  );
}

/** A second sparse method, shown side by side with the first on the same input, and its parameters. */
function VersusControls({ dims }: { dims: MethodDims }) {
  const versus = useQk((s) => s.method.versus ?? null);
  const setVersus = useQk((s) => s.setVersus);
  const setParam = useQk((s) => s.setVersusParam);
  const desc = versus ? getSparseMethod(versus.id) : undefined;
  const { params } = desc ? normalizeParams(desc, dims, versus!.params) : { params: {} as Record<string, string | number> };
  return (
    <div className="versus-controls">
      <Select
        label="Side by side with"
        value={desc ? desc.id : 'none'}
        options={[{ value: 'none', label: 'nothing (one method)' }, ...SPARSE_METHODS.map((m) => ({ value: m.id, label: m.label }))]}
        onChange={(v) => setVersus(v === 'none' ? null : v)}
        help="a second sparse method on the same input: both maps and their numbers in one table"
      />
      {desc?.params.map((p) => <ParamControl key={p.key} spec={p} value={params[p.key]} dims={dims} onChange={(v) => setParam(p.key, v)} />)}
    </div>
  );
}

import { fail, IMPORT_CAPS } from './errors';
import { fmtShape, type Tensor } from '../core/tensor';
import { applyLayout, detectValues, firstBadValue, looksCausal, pendingOf, softmaxRows } from './layout';
import { nestedToTensor } from './nested';
import { numbered, readTokens } from './tokens';
import type { NdArray } from './npy';
import type { ArrayLayout, ImportedLayer, ImportedSource, ImportOutcome, LayerQKV } from './types';

type Base = Pick<ImportedSource, 'name' | 'bytes'>;

/** Refuses NaN and +∞ anywhere (and −∞ in weights), naming the tensor and the first bad index. */
function checkValues(t: Tensor, name: string, allowNegInf: boolean): void {
  const bad = firstBadValue(t, allowNegInf);
  if (bad) fail('values', `${name} has ${bad}; ${allowNegInf ? 'scores may use −∞ for masked keys, but not NaN or +∞' : 'values must be finite numbers'}`);
}

/**
 * A ready source from one attention array with a confirmed layout; the values are checked
 * against the layout's reading (weights must be finite; scores may use −∞).
 */
function finish(base: Base, format: string, t: Tensor, layout: ArrayLayout, tokens: { query: string[]; key: string[] }, notes: string[]): ImportedSource {
  checkValues(t, base.name, layout.values === 'scores');
  const extra = layout.values === 'scores' ? ['The values were read as scores and softmaxed over the keys.'] : [];
  if (layout.roles.includes('batch')) {
    const B = t.shape[layout.roles.indexOf('batch')];
    if (B > 1) extra.push(`The batch has ${B} items; showing item ${layout.batchIndex}.`);
  }
  return { ...base, format, kind: 'attention', layers: applyLayout(t, layout, tokens), notes: [...notes, ...extra] };
}

/** One attention array: ready when its layout is clear, otherwise waiting for the user to confirm. */
function arrayOutcome(base: Base, format: string, t: Tensor, tokens: { query: string[] | null; key: string[] | null }, notes: string[]): ImportOutcome {
  if (t.shape.length < 2) fail('shape', `${base.name}: ${fmtShape(t.shape)} is not an attention array; expected at least [queries, keys]`);
  const Nq = t.shape[t.shape.length - 2];
  const Nk = t.shape[t.shape.length - 1];
  const own = [...notes];
  const query = tokens.query ?? (tokens.key && Nq === Nk ? tokens.key : null) ?? numbered(Nq);
  const key = tokens.key ?? (Nq === Nk ? query : numbered(Nk));
  if (!tokens.query && !tokens.key) own.push('The file has no tokens: they are numbered #0, #1, …');
  const pending = pendingOf(base.name, format, t);
  const done = (layout: ArrayLayout): ImportedSource => ({ ...finish(base, format, t, layout, { query, key }, own), layout: { used: layout, pending, relayout: done } });
  if (!pending.ambiguous) return { status: 'ready', source: done(pending.guess) };
  return { status: 'confirm', pending, finish: done };
}

/** Per-layer weights from `[H, q, k]`, `[1, H, q, k]` or `[q, k]`. */
function layerWeights(t: Tensor, label: string, query: string[], key: string[], notes: Set<string>): ImportedLayer {
  let shape = t.shape;
  if (shape.length === 4 && shape[0] === 1) shape = shape.slice(1);
  if (shape.length === 2) shape = [1, ...shape];
  if (shape.length !== 3) fail('shape', `${label} has shape ${fmtShape(t.shape)}; expected [heads, q, k] or [1, heads, q, k]`);
  const [H, Nq, Nk] = shape;
  if (H > IMPORT_CAPS.maxHeads) fail('cap', `${label} has ${H} heads; the cap is ${IMPORT_CAPS.maxHeads}`);
  if (Nq > IMPORT_CAPS.maxTokens || Nk > IMPORT_CAPS.maxTokens) fail('cap', `${label} is ${Nq} × ${Nk} tokens; the views show at most ${IMPORT_CAPS.maxTokens}`);
  if (!H || !Nq || !Nk) fail('shape', `${label} has an empty axis ${fmtShape(t.shape)}`);
  if (query.length !== Nq || key.length !== Nk) fail('tokens', `${label} is ${Nq} queries × ${Nk} keys but the file gives ${query.length} query and ${key.length} key tokens`);
  const v = detectValues(t);
  checkValues(t, label, v.values === 'scores');
  let data = t.data;
  if (v.values === 'scores') {
    data = softmaxRows(data, Nk);
    notes.add('Some layers were scores, not weights: they were softmaxed over the keys.');
  }
  const weights = { shape, data };
  return { label, weights, queryTokens: query, keyTokens: key, causal: looksCausal(weights), scale: null };
}

// ---------------------------------------------------------------- JSON

const isObj = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x);

/** Layers of one BertViz/T2T part given as a list per layer (or one stacked array). */
function partLayers(x: unknown, part: string, name: string, query: string[], key: string[], notes: Set<string>): ImportedLayer[] {
  if (!Array.isArray(x)) fail('format', `${name}: ${part} must be a list with one attention array per layer`);
  const t = nestedToTensor(x, `${name}: ${part}`);
  // [L, 1, H, q, k] or [L, H, q, k]: one entry per layer.
  const per = t.shape.slice(1);
  if (per.length !== 3 && per.length !== 4) fail('shape', `${name}: ${part} has shape ${fmtShape(t.shape)}; expected one (1, heads, q, k) array per layer`);
  if (t.shape[0] > IMPORT_CAPS.maxLayers) fail('cap', `${name}: ${part} has ${t.shape[0]} layers; the cap is ${IMPORT_CAPS.maxLayers}`);
  const n = per.reduce((a, b) => a * b, 1);
  return Array.from({ length: t.shape[0] }, (_, l) => layerWeights({ shape: per, data: t.data.subarray(l * n, (l + 1) * n) }, `${part} ${l}`, query, key, notes));
}

function fromJsonObject(o: Record<string, unknown>, base: Base): ImportOutcome {
  const notes: string[] = [];
  const name = base.name;
  const n = new Set<string>();
  const ready = (format: string, layers: ImportedLayer[]): ImportOutcome => ({ status: 'ready', source: { ...base, format, kind: 'attention', layers, notes: [...notes, ...n] } });
  // BertViz encoder-decoder: model_view(encoder_attention=…, decoder_attention=…, cross_attention=…).
  if ('encoder_attention' in o || 'decoder_attention' in o || 'cross_attention' in o) {
    const enc = o.encoder_tokens !== undefined ? readTokens(o.encoder_tokens, `${name}: encoder_tokens`, notes) : null;
    const dec = o.decoder_tokens !== undefined ? readTokens(o.decoder_tokens, `${name}: decoder_tokens`, notes) : null;
    const layers: ImportedLayer[] = [];
    if (o.encoder_attention !== undefined) {
      if (!enc) fail('tokens', `${name}: encoder_attention needs encoder_tokens`);
      layers.push(...partLayers(o.encoder_attention, 'encoder', name, enc, enc, n));
    }
    if (o.decoder_attention !== undefined) {
      if (!dec) fail('tokens', `${name}: decoder_attention needs decoder_tokens`);
      layers.push(...partLayers(o.decoder_attention, 'decoder', name, dec, dec, n));
    }
    if (o.cross_attention !== undefined) {
      if (!enc || !dec) fail('tokens', `${name}: cross_attention needs encoder_tokens and decoder_tokens`);
      layers.push(...partLayers(o.cross_attention, 'cross', name, dec, enc, n));
    }
    return ready('BertViz encoder-decoder JSON', layers);
  }
  // Tensor2Tensor's attention visualisation: {inp_inp, inp_out, out_out, all: {att, top_text, bot_text}}.
  const t2tParts = ['inp_inp', 'out_out', 'inp_out'].filter((k) => isObj(o[k]));
  if (t2tParts.length || isObj(o.all)) {
    const parts = t2tParts.length ? t2tParts : ['all'];
    const label: Record<string, string> = { inp_inp: 'encoder', out_out: 'decoder', inp_out: 'cross', all: 'layer' };
    const layers = parts.flatMap((p) => {
      const v = o[p] as Record<string, unknown>;
      const keys = readTokens(v.top_text, `${name}: ${p}.top_text`, notes);
      const queries = readTokens(v.bot_text, `${name}: ${p}.bot_text`, notes);
      return partLayers(v.att ?? v.attn, label[p], name, queries, keys, n);
    });
    return ready('Tensor2Tensor visualisation JSON', layers);
  }
  // Inspectus: attn [q,k] | [H,q,k] | [L,H,q,k] with query_tokens and key_tokens.
  if ('query_tokens' in o || 'key_tokens' in o) {
    const a = o.attn ?? o.attention;
    if (a === undefined) fail('format', `${name}: Inspectus JSON needs "attn" beside query_tokens/key_tokens`);
    const t = nestedToTensor(a, `${name}: attn`);
    const query = o.query_tokens !== undefined ? readTokens(o.query_tokens, `${name}: query_tokens`, notes) : null;
    const key = o.key_tokens !== undefined ? readTokens(o.key_tokens, `${name}: key_tokens`, notes) : query;
    if (t.shape.length < 2 || t.shape.length > 4) fail('shape', `${name}: Inspectus attn has shape ${fmtShape(t.shape)}; expected [q, k], [H, q, k] or [L, H, q, k]`);
    const roles = t.shape.length === 4 ? (['layer', 'head', 'query', 'key'] as const) : t.shape.length === 3 ? (['head', 'query', 'key'] as const) : (['query', 'key'] as const);
    const Nq = t.shape[t.shape.length - 2];
    const tq = query ?? numbered(Nq);
    const tk = key ?? tq;
    const v = detectValues(t).values;
    return { status: 'ready', source: finish(base, 'Inspectus JSON', t, { roles: [...roles], batchIndex: 0, values: v }, { query: tq, key: tk }, notes) };
  }
  const att = o.attention ?? o.attentions ?? o.attn ?? o.attention_pattern ?? o.attention_patterns;
  if (att === undefined) fail('format', `${name}: no attention found; expected a key "attention" (CircuitsVis, BertViz, Tensor2Tensor), "attn" with query_tokens (Inspectus), or encoder_attention/decoder_attention/cross_attention`);
  const tokens = o.tokens !== undefined ? readTokens(o.tokens, `${name}: tokens`, notes) : null;
  const t = nestedToTensor(att, `${name}: attention`);
  const format = t.shape.length === 3 || t.shape.length === 2 ? 'CircuitsVis JSON' : t.shape.length === 5 ? 'BertViz / Tensor2Tensor JSON' : 'attention JSON';
  return arrayOutcome(base, format, t, { query: tokens, key: tokens }, notes);
}

/** Reads any supported JSON (CircuitsVis, BertViz, Inspectus, Tensor2Tensor, or a bare nested array). */
export function fromJson(text: string, base: Base): ImportOutcome {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch (e) {
    fail('format', `${base.name} is not valid JSON: ${(e as Error).message.slice(0, 120)}`);
  }
  if (Array.isArray(o)) return arrayOutcome(base, 'JSON array', nestedToTensor(o, base.name), { query: null, key: null }, []);
  if (!isObj(o)) fail('format', `${base.name} holds a JSON ${o === null ? 'null' : typeof o}; expected an object with "attention" and "tokens" or a nested array`);
  return fromJsonObject(o, base);
}

// ---------------------------------------------------------------- arrays (npy, npz, safetensors)

const QKV_KEY = /^(?:model\.)?(?:layers?|blocks?|h)[._](\d{1,4})[._](q|k|v|q_pre_rope|k_pre_rope)$/;
const ATTN_KEY = /^(?:(?:attentions?|attn|layers?|blocks?)[._](\d{1,4})(?:[._](?:attention|attn|pattern))?|arr_(\d{1,4})|layer(\d{1,4}))$/;

function numeric(a: NdArray, key: string, name: string): Tensor {
  if (!a.data) fail('dtype', `${name}: "${key}" holds strings; expected numbers`);
  return { shape: a.shape, data: a.data };
}

function metaTokens(meta: Record<string, string>, arrays: Map<string, NdArray>, name: string, notes: string[]): string[] | null {
  if (meta.tokens !== undefined) {
    let t: unknown;
    try {
      t = JSON.parse(meta.tokens);
    } catch {
      fail('tokens', `${name}: the "tokens" metadata is not a JSON list of strings`);
    }
    return readTokens(t, `${name}: tokens`, notes);
  }
  const a = arrays.get('tokens');
  if (!a) return null;
  if (!a.strings) fail('tokens', `${name}: the "tokens" entry holds numbers; expected strings (np.array(tokens))`);
  return readTokens(a.strings, `${name}: tokens`, notes);
}

function squeeze(t: Tensor): Tensor {
  return t.shape.length === 4 && t.shape[0] === 1 ? { shape: t.shape.slice(1), data: t.data } : t;
}

/** Validates one layer of a Q/K/V dump and returns it with its N. */
function qkvLayer(parts: Map<string, Tensor>, l: number, name: string): LayerQKV {
  const at = `${name}, layer ${l}`;
  const get = (r: string) => {
    const t = parts.get(r);
    if (!t) return undefined;
    const s = squeeze(t);
    if (s.shape.length !== 3) fail('shape', `${at}: ${r} has shape ${fmtShape(t.shape)}; expected [heads, N, d] (or [1, heads, N, d])`);
    checkValues(s, `${at}: ${r}`, false);
    return s;
  };
  const q = get('q');
  const k = get('k');
  if (!q || !k) fail('format', `${at} has ${[...parts.keys()].join(', ')}; a Q/K/V dump needs at least q and k`);
  const v = get('v') ?? null;
  const [H, N, d] = q.shape;
  const [Hkv, Nk, dk] = k.shape;
  if (Nk !== N) fail('shape', `${at}: q has ${N} tokens but k has ${Nk}`);
  if (dk !== d) fail('shape', `${at}: q has head dimension ${d} but k has ${dk}`);
  if (H % Hkv !== 0) fail('shape', `${at}: q has ${H} heads and k has ${Hkv}; the query heads must be a multiple of the KV heads`);
  if (H > IMPORT_CAPS.maxHeads) fail('cap', `${at}: ${H} heads is more than the cap of ${IMPORT_CAPS.maxHeads}`);
  if (N > IMPORT_CAPS.maxTokens) fail('cap', `${at}: ${N} tokens; the views show at most ${IMPORT_CAPS.maxTokens}${IMPORT_CAPS.maxTokens < IMPORT_CAPS.maxLongTokens && N <= IMPORT_CAPS.maxLongTokens ? ` — open it in the long-context view (?long=8192), which computes maps of up to ${IMPORT_CAPS.maxLongTokens} tokens in tiles` : ''}`);
  if (d > IMPORT_CAPS.maxHeadDim) fail('cap', `${at}: head dimension ${d} is more than the cap of ${IMPORT_CAPS.maxHeadDim}`);
  if (!N || !d || !H) fail('shape', `${at}: q has an empty axis ${fmtShape(q.shape)}`);
  if (v && (v.shape[0] !== Hkv || v.shape[1] !== N)) fail('shape', `${at}: v has shape ${fmtShape(v.shape)}; expected [${Hkv}, ${N}, dv] to match k`);
  const qPre = get('q_pre_rope');
  const kPre = get('k_pre_rope');
  if (qPre && qPre.shape.join() !== q.shape.join()) fail('shape', `${at}: q_pre_rope has shape ${fmtShape(qPre.shape)}; expected ${fmtShape(q.shape)} like q`);
  if (kPre && kPre.shape.join() !== k.shape.join()) fail('shape', `${at}: k_pre_rope has shape ${fmtShape(kPre.shape)}; expected ${fmtShape(k.shape)} like k`);
  return { q, k, v, ...(qPre ? { qPre } : {}), ...(kPre ? { kPre } : {}) };
}

/**
 * Reads the arrays of an `.npz` or `.safetensors` file: a `qkscope-qkv` dump (keys
 * `layers.{i}.q|k|v|q_pre_rope|k_pre_rope`), attention per layer (`attentions.{i}`, …), or one
 * attention array whose layout is guessed.
 */
export function fromArrays(arrays: Map<string, NdArray>, meta: Record<string, string>, base: Base, container: string): ImportOutcome {
  const name = base.name;
  const notes: string[] = [];
  const tokens = metaTokens(meta, arrays, name, notes);
  const keys = [...arrays.keys()].filter((k) => k !== 'tokens' && k !== 'metadata');
  // Q/K/V dump: layers.{i}.{role}, or bare q/k/v for one layer.
  const qkvKeys = keys.map((k) => [k, QKV_KEY.exec(k)] as const).filter(([, m]) => m);
  const bare = keys.includes('q') && keys.includes('k');
  if (qkvKeys.length || bare) {
    const byLayer = new Map<number, Map<string, Tensor>>();
    if (bare) byLayer.set(0, new Map(['q', 'k', 'v', 'q_pre_rope', 'k_pre_rope'].filter((r) => arrays.has(r)).map((r) => [r, numeric(arrays.get(r)!, r, name)])));
    for (const [k, m] of qkvKeys) {
      const l = Number(m![1]);
      if (!byLayer.has(l)) byLayer.set(l, new Map());
      byLayer.get(l)!.set(m![2], numeric(arrays.get(k)!, k, name));
    }
    if (byLayer.size > IMPORT_CAPS.maxLayers) fail('cap', `${name} has ${byLayer.size} layers; the cap is ${IMPORT_CAPS.maxLayers}`);
    const causal = meta.causal === undefined ? true : meta.causal === 'true' || meta.causal === '1' ? true : meta.causal === 'false' || meta.causal === '0' ? false : fail('header', `${name}: metadata causal="${meta.causal.slice(0, 20)}"; expected "true" or "false"`);
    let scale: number | null = null;
    if (meta.scale !== undefined) {
      scale = Number(meta.scale);
      if (!Number.isFinite(scale) || scale <= 0) fail('header', `${name}: metadata scale="${meta.scale.slice(0, 20)}"; expected a positive number`);
    }
    const layers = [...byLayer.keys()].sort((a, b) => a - b).map((l) => {
      const qkv = qkvLayer(byLayer.get(l)!, l, name);
      const N = qkv.q.shape[1];
      if (tokens && tokens.length !== N) fail('tokens', `${name}: the file has ${tokens.length} tokens but layer ${l} has ${N}`);
      const tk = tokens ?? numbered(N);
      return { label: `layer ${l}`, qkv, queryTokens: tk, keyTokens: tk, causal, scale } satisfies ImportedLayer;
    });
    if (!tokens) notes.push('The file has no tokens: they are numbered #0, #1, …');
    if (layers.some((l) => !l.qkv!.v)) notes.push('The dump has no v: outputs (and output-error metrics) use k as the values.');
    const H = layers[0].qkv!.q.shape[0];
    const Hkv = layers[0].qkv!.k.shape[0];
    if (H !== Hkv) notes.push(`Grouped-query attention: ${H} query heads read ${Hkv} KV heads (${H / Hkv} per group).`);
    return { status: 'ready', source: { ...base, format: `Q/K/V dump (${container})`, kind: 'qkv', layers, notes, model: meta.model } };
  }
  const numericKeys = keys.filter((k) => arrays.get(k)!.data);
  if (numericKeys.length === 0) fail('format', `${name} has no numeric arrays (entries: ${keys.slice(0, 8).join(', ') || 'none'})`);
  const perLayer = numericKeys.map((k) => [k, ATTN_KEY.exec(k)] as const);
  if (numericKeys.length > 1) {
    if (perLayer.some(([, m]) => !m)) {
      fail('format', `${name} holds several arrays (${numericKeys.slice(0, 6).join(', ')}${numericKeys.length > 6 ? ', …' : ''}); expected one attention array, per-layer arrays named attentions.0, attentions.1, …, or a Q/K/V dump with layers.{i}.q and layers.{i}.k`);
    }
    const sorted = perLayer.map(([k, m]) => [k, Number(m![1] ?? m![2] ?? m![3])] as const).sort((a, b) => a[1] - b[1]);
    const first = squeeze(numeric(arrays.get(sorted[0][0])!, sorted[0][0], name));
    const Nq = first.shape[first.shape.length - 2];
    const Nk = first.shape[first.shape.length - 1];
    const tq = tokens ?? numbered(Nq);
    const tk = tokens ?? numbered(Nk);
    if (!tokens) notes.push('The file has no tokens: they are numbered #0, #1, …');
    const n = new Set<string>();
    const layers = sorted.map(([k, l]) => layerWeights(numeric(arrays.get(k)!, k, name), `layer ${l}`, tq, tk, n));
    return { status: 'ready', source: { ...base, format: `attention per layer (${container})`, kind: 'attention', layers, notes: [...notes, ...n], model: meta.model } };
  }
  const only = numeric(arrays.get(numericKeys[0])!, numericKeys[0], name);
  // Cross-attention written by exportTensors keeps its two token lists apart.
  const list = (k: string) => (meta[k] !== undefined ? metaTokens({ tokens: meta[k] }, new Map(), name, notes) : null);
  const query = list('query_tokens') ?? tokens;
  const key = list('key_tokens') ?? tokens;
  return arrayOutcome(base, `attention array (${container})`, only, { query, key }, notes);
}

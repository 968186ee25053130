import { fileFromBlob, inspectCheckpoint, readWeights, type CheckpointInfo, type ModelFile } from '../models/checkpoint';
import { loadTokenizer, type TextTokenizer } from '../models/tokenizer';
import { ModelError } from '../models/config';
import { IMPORT_CAPS } from '../io/errors';
import type { ImportedSource } from '../io/types';
import type { ModelSummary, NamedHead } from '../core/modelSpec';
import type { ComputeClient } from '../compute/client';
import type { BackendName } from '../compute/backends';
import type { QkStore } from '../state/store';
import { fmtBytes } from '../views/shared/PairBar';
import { MODEL_DEFAULT_TEXT } from '../state/defaults';

/** Largest model uploaded to the backend here, as float32 (a GPT-2-small checkpoint needs 0.5 GB). */
export const MODEL_CAP_BYTES = 1.5 * 2 ** 30;

/**
 * Refuses, before any weight is read, a checkpoint whose float32 weights exceed `cap` (the
 * page's budget: tfjs's WASM memory is 32-bit, and the weights, the file's slices and the
 * activations must fit together). The message names the model, its size and the limit.
 */
export function refuseTooLarge(name: string, info: CheckpointInfo, cap = MODEL_CAP_BYTES): void {
  if (info.loadedBytes > cap) throw new ModelError(name, `${describeCheckpoint(info)}. That is more than the ${fmt(cap)} this page loads; pick a smaller model (fewer layers or a smaller hidden size)`);
}


let client: ComputeClient | null = null;
/** The compute client models run on (null before `mount`). */
export const modelClient = (): ComputeClient | null => client;
/** The page's compute client (set once by `mount`), where checkpoints are loaded and run. */
export function setModelClient(c: ComputeClient): void {
  client = c;
}

// Binary units, as the rest of the page (GiB, MiB, KiB).
const fmt = fmtBytes;
const fmtCount = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} B` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} M` : `${(n / 1e3).toFixed(1)} k`);

/** One line describing a checkpoint before it is loaded: architecture, size and memory. */
export function describeCheckpoint(info: CheckpointInfo): string {
  const c = info.config;
  const heads = c.kvHeads === c.heads ? `${c.heads} heads` : `${c.heads} query heads over ${c.kvHeads} KV heads`;
  return `${c.modelType}: ${c.layers} layers, ${heads} of d = ${c.headDim}, hidden ${c.hidden}, vocabulary ${c.vocab}${c.family === 'llama' ? `, RoPE θ = ${c.ropeTheta}` : ''}${c.intermediate === 0 ? ', attention-only (no MLP)' : ''}; ${fmtCount(info.parameters)} parameters, ${info.dtypes.join('/')} ${fmt(info.diskBytes)} on disk, ${fmt(info.loadedBytes)} as float32 on the backend`;
}

/**
 * Token ids a model without a tokenizer runs first: token 0, then twelve ids repeated, so an
 * induction head has something to copy (ids reduced modulo the vocabulary).
 */
function defaultIds(vocab: number): string {
  const seg = [17, 5, 42, 9, 33, 21, 8, 50, 12, 3, 27, 44].map((x) => x % vocab);
  return [0, ...seg, ...seg].join(' ');
}

/** The loaded model as the source panel holds it: what it is, its tokenizer, and how to run new text. */
export interface LoadedCheckpoint {
  name: string;
  summary: string;
  info: CheckpointInfo;
  tokenizer: TextTokenizer | null;
  /** A built-in model: its id and the step of its training timeline shown. */
  builtin?: { id: string; step: number; timeline: TimelineStep[]; heads: BuiltinHeads | null };
}

/** The heads a built-in model's card names (public/models/<id>/heads.json), as [layer, head] pairs. */
export interface BuiltinHeads {
  previous_token?: [number, number][];
  induction?: [number, number][];
  select_and_copy?: [number, number][];
  scores?: { prev_token?: number[][]; induction?: number[][] };
  /** QK-score accuracy of every head at the final weights (mcqa-tiny's heads.json). */
  qk_accuracy?: number[][];
}

/**
 * Opens a checkpoint from the files of its folder (picked or dropped): checks config and headers
 * and says what it is and what it needs before reading any weight, refuses one too large for
 * this page, reads the weights slice by slice with a progress bar, uploads them where tfjs runs
 * (the worker), then runs the default text. Failures become messages; what was shown stays.
 */
export async function openCheckpoint(store: QkStore, files: File[], backend: BackendName = 'wasm'): Promise<void> {
  const first = files[0] as File & { webkitRelativePath?: string };
  const name = first?.webkitRelativePath?.split('/')[0] || 'checkpoint';
  await loadCheckpoint(store, name, files.map((f) => fileFromBlob(f, f.name)), { backend });
}

/**
 * Loads checkpoint files (a folder the user gave, or a built-in model fetched from this page)
 * and runs `text` (default: the previous text, or a sentence). Failures become messages and
 * what was shown stays.
 */
async function loadCheckpoint(store: QkStore, name: string, files: ModelFile[], opts: { backend?: BackendName; text?: string; ownText?: string; builtin?: LoadedCheckpoint['builtin'] } = {}): Promise<void> {
  const st = () => store.getState();
  st().setImportState({ reading: { name, progress: 0, bytes: 0 }, error: null, confirm: null });
  try {
    if (!client) throw new Error('the compute client is not ready');
    const info = await inspectCheckpoint(files);
    const summary = describeCheckpoint(info);
    refuseTooLarge(name, info);
    if (!opts.builtin) st().addNotices([`Loading ${name} — ${summary}.`]);
    let tokenizer: TextTokenizer | null = null;
    if (info.tokenizer) {
      const cfg = info.files.find((f) => f.name === 'tokenizer_config.json');
      tokenizer = loadTokenizer(await readJson(info.tokenizer), cfg ? await readJson(cfg) : {}, info.config.vocab);
    }
    // The bar moves at most every 100 ms: each update re-renders the panel, and a checkpoint has hundreds of tensors.
    let shown = 0;
    const weights = await readWeights(info, (read, total) => {
      const now = performance.now();
      if (now - shown < 100 && read < total) return;
      shown = now;
      st().setImportState({ reading: { name, progress: total ? read / total : null, bytes: read } });
    });
    await client.loadModel(info.config, weights, opts.backend ?? 'wasm');
    const model: LoadedCheckpoint = { name, summary, info, tokenizer, builtin: opts.builtin };
    let text = opts.text ?? opts.ownText ?? (tokenizer ? MODEL_DEFAULT_TEXT : defaultIds(info.config.vocab));
    // A built-in model with a small word vocabulary (mcqa-tiny) cannot read the previous model's
    // text: its own example is shown instead of a row of unknown tokens, and the user is told.
    if (opts.text && opts.ownText && tokenizer?.unknownId != null) {
      const unknown = tokenizer.encode(opts.text).ids.filter((i) => i === tokenizer!.unknownId).length;
      if (unknown > 0) {
        text = opts.ownText;
        st().addNotices([`${name} does not know ${unknown} of the words of the previous text (they would all be one unknown token); it shows its own example instead.`]);
      }
    }
    await runCheckpoint(store, model, text);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    st().setImportState({ reading: null, confirm: null, error: msg });
    st().addNotices([`The checkpoint could not be opened — ${msg}. What was on screen is kept.`]);
    // A link's model that could not be opened: the synthetic example stays, and the link stops naming it.
    if (!st().imported && st().source.kind === 'imported') st().setSource({ kind: 'synthetic', model: null });
  }
}

async function readJson(f: ModelFile): Promise<unknown> {
  try {
    return JSON.parse(new TextDecoder().decode(await f.read(0, f.size)));
  } catch (e) {
    throw new ModelError(f.name, `is not valid JSON (${(e as Error).message.slice(0, 80)})`);
  }
}

/** One checkpoint of a built-in model's training timeline (public/models/<id>/timeline.json). */
export interface TimelineStep {
  step: number;
  file: string;
  train_loss?: number;
  val_loss?: number;
  loss?: number;
  /** Per-head scores at this step, as [layer][head]. */
  prev_token_score?: number[][];
  induction_score?: number[][];
  /** QK-score accuracy of every head on the model's question set (mcqa-tiny). */
  select_and_copy_score?: number[][];
}

/** The built-in models this page ships (public/models/index.json). */
export interface BuiltinModel {
  id: string;
  label: string;
  description: string;
  /** The text the model opens on when no other is given (e.g. a question for mcqa-tiny). */
  text?: string;
}

/** Fetches one file of a built-in model from this page's own origin (never from elsewhere). */
async function fetchFile(id: string, file: string, as = file): Promise<ModelFile> {
  const res = await fetch(`models/${id}/${file}`);
  if (!res.ok) throw new ModelError(`models/${id}/${file}`, `could not be fetched from this page: HTTP ${res.status}`);
  return fileFromBlob(await res.blob(), as);
}

/** The list of built-in models (empty when the page ships none). */
export async function builtinModels(): Promise<BuiltinModel[]> {
  const res = await fetch('models/index.json');
  if (!res.ok) return [];
  const j = (await res.json()) as { models?: BuiltinModel[] };
  return Array.isArray(j.models) ? j.models : [];
}

/**
 * Opens a built-in model at step `step` of its training timeline (−1 or beyond the end: the
 * final weights), keeping the text the previous model ran when there was one. `backend` is the
 * one the weights are loaded on (default WASM; stories use CPU).
 */
export async function openBuiltin(store: QkStore, id: string, step = -1, text?: string, backend?: BackendName): Promise<void> {
  try {
    if (!/^[a-z0-9][a-z0-9-]{0,40}$/.test(id)) throw new ModelError(`model=${id.slice(0, 40)}`, 'is not the name of a built-in model');
    // The list, the timeline and the named heads are fetched together (the first paint waits on them).
    const optionalJson = <T,>(path: string): Promise<T | null> =>
      fetch(path).then(
        (r) => (r.ok ? (r.json() as Promise<T>).catch(() => null) : null),
        () => null,
      );
    const [list, timelineJson, heads] = await Promise.all([builtinModels(), optionalJson<TimelineStep[]>(`models/${id}/timeline.json`), optionalJson<BuiltinHeads>(`models/${id}/heads.json`)]);
    const meta = list.find((m) => m.id === id);
    if (!meta) throw new ModelError(`model=${id}`, `is not a built-in model here (there are: ${list.map((m) => m.id).join(', ') || 'none'})`);
    const timeline = Array.isArray(timelineJson) ? timelineJson : [];
    const at = step >= 0 && step < timeline.length ? step : timeline.length - 1;
    const weightsFile = at >= 0 && at < timeline.length - 1 ? timeline[at].file : 'model.safetensors';
    const names = ['config.json', 'tokenizer.json', 'tokenizer_config.json'];
    const files = await Promise.all([...names.map((n) => fetchFile(id, n).catch(() => null)), fetchFile(id, weightsFile, 'model.safetensors')]);
    const prev = store.getState().imported?.checkpoint;
    await loadCheckpoint(store, meta.label, files.filter((f): f is ModelFile => !!f), { backend, text: text ?? (prev ? prev.text : undefined), ownText: meta.text, builtin: { id, step: at, timeline, heads } });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const st = store.getState();
    st.setImportState({ reading: null, confirm: null, error: msg });
    st.addNotices([`The built-in model could not be opened — ${msg}. What was on screen is kept.`]);
    if (!st.imported && st.source.kind === 'imported') st.setSource({ kind: 'synthetic', model: null });
  }
}

/**
 * Runs text (or, without a tokenizer, whitespace-separated token ids) through the loaded model
 * and shows every layer's queries, keys and values as the source: the views compute attention
 * from them, and the Llama family's pre-RoPE copies allow the "before RoPE" view.
 */
export async function runCheckpoint(store: QkStore, model: LoadedCheckpoint, text: string): Promise<void> {
  const st = () => store.getState();
  if (!client) throw new Error('the compute client is not ready');
  const c = model.info.config;
  let ids: number[];
  let tokens: string[];
  if (model.tokenizer) {
    // Each token shown as the text it decodes to (" mat", not the byte-level "Ġmat").
    const tok = model.tokenizer;
    ids = tok.encode(text).ids;
    tokens = ids.map((i) => tok.decode([i]));
  } else {
    const parts = text.trim().split(/\s+/).filter(Boolean);
    ids = parts.map(Number);
    const bad = parts.findIndex((p, i) => !/^\d+$/.test(p) || ids[i] >= c.vocab);
    if (bad >= 0) throw new ModelError(model.name, `came without tokenizer.json, so the text must be token ids from 0 to ${c.vocab - 1} separated by spaces; "${parts[bad].slice(0, 20)}" is not one`);
    tokens = ids.map((i) => `#${i}`);
  }
  const cap = Math.min(IMPORT_CAPS.maxTokens, c.family === 'gpt2' ? c.maxPositions : IMPORT_CAPS.maxTokens);
  if (ids.length === 0) throw new ModelError(model.name, 'the text gives no tokens: type at least one word');
  if (ids.length > cap) throw new ModelError(model.name, `the text gives ${ids.length} tokens; the cap is ${cap}${c.family === 'gpt2' && cap === c.maxPositions ? ' (the positions GPT-2 learned)' : ''}`);
  const r = await client.runModel(ids);
  // The worker sends the last position's logits only ([1, vocab]).
  const next = r.logits ? topNext(r.logits.data.subarray(r.logits.data.length - c.vocab), 5).map(({ id, p }) => ({ token: model.tokenizer ? model.tokenizer.decode([id]) : `#${id}`, p })) : [];
  const rope = c.family === 'llama';
  const src: ImportedSource = {
    name: model.name,
    format: `${model.builtin ? `built-in ${c.modelType} model${model.builtin.timeline.length ? ` at training step ${model.builtin.timeline[model.builtin.step]?.step ?? '?'}` : ''}` : `${c.modelType} checkpoint`}, run here on ${r.backend} in ${r.ms.toFixed(0)} ms`,
    kind: 'qkv',
    layers: r.layers.map((l, i) => ({ label: `layer ${i}`, qkv: { q: l.q, k: l.k, v: l.v, ...(rope ? { qPre: l.qPre, kPre: l.kPre } : {}) }, queryTokens: tokens, keyTokens: tokens, causal: true, scale: null })),
    notes: [],
    model: c.modelType,
    bytes: model.info.diskBytes,
    checkpoint: { model, text, ids, summary: summarize(model, r.backend, r.ms, ids.length, next), lastLogits: r.logits ? r.logits.data.slice(r.logits.data.length - c.vocab) : null },
  };
  st().setImported(src, null, model.builtin ? { id: model.builtin.id, step: model.builtin.step } : null);
}

/** The `k` likeliest ids of one logits row, with their softmax probabilities. */
export function topNext(logits: ArrayLike<number>, k: number): { id: number; p: number }[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  const ids = Array.from({ length: logits.length }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
  return ids.slice(0, k).map((id) => ({ id, p: Math.exp(logits[id] - max) / sum }));
}

/** The model summary panel's data: the architecture, memory, the last run and, for a built-in model, its named heads at this step. */
function summarize(model: LoadedCheckpoint, backend: string, ms: number, tokens: number, next: ModelSummary['next']): ModelSummary {
  const b = model.builtin;
  let builtin: ModelSummary['builtin'] = null;
  if (b) {
    const at = b.timeline[b.step];
    const score = (kind: NamedHead['kind'], l: number, h: number) => {
      const table = kind === 'induction' ? (at?.induction_score ?? b.heads?.scores?.induction) : kind === 'select-and-copy' ? (at?.select_and_copy_score ?? b.heads?.qk_accuracy) : (at?.prev_token_score ?? b.heads?.scores?.prev_token);
      const v = table?.[l]?.[h];
      return typeof v === 'number' ? v : null;
    };
    const named = (kind: NamedHead['kind'], list: [number, number][] | undefined): NamedHead[] =>
      (list ?? []).filter((x) => Array.isArray(x) && x.length === 2).map(([layer, head]) => ({ kind, layer, head, score: score(kind, layer, head) }));
    builtin = {
      id: b.id,
      step: b.step,
      steps: b.timeline.length,
      trainingStep: at?.step ?? null,
      lastStep: b.timeline.length ? b.timeline[b.timeline.length - 1].step : null,
      loss: at ? (at.val_loss ?? at.loss ?? at.train_loss ?? null) : null,
      heads: [...named('previous-token', b.heads?.previous_token), ...named('induction', b.heads?.induction), ...named('select-and-copy', b.heads?.select_and_copy)],
    };
  }
  const i = model.info;
  return { name: model.name, config: i.config, parameters: i.parameters, dtypes: i.dtypes, diskBytes: i.diskBytes, loadedBytes: i.loadedBytes, tokenizerVocab: model.tokenizer ? model.tokenizer.vocabSize : null, unused: i.unused, backend, ms, tokens, next, builtin };
}

/**
 * QK Scope's library entry. The app itself uses it; later features add to it. Tensors are
 * `{ shape, data: Float32Array }` row-major, with `q [H, Nq, d]`, `k [Hkv, Nk, d]`,
 * `v [Hkv, Nk, dv]`; query head h reads KV head ⌊h / (H/Hkv)⌋ unless `layout` says otherwise.
 * Works in the browser (WebGPU, WebGL, WASM, CPU) and in Node (CPU).
 *
 * @example
 * const r = await computeAttention({ q, k, v }, { causal: true });
 * r.weights; // Float32Array [H, Nq, Nk]
 */
// Nothing here imports tfjs statically: a page that only needs the worker client (the app's
// entry) does not download tfjs on its main thread; computeAttention loads it on first use.
import type { BackendChoice, BackendFailure, BackendName } from './core/backendNames';
import type { QKV } from './core/tensor';
import { inBrowser } from './core/runtime';
import { ModelError } from './models/config';
import type { HeadLayout } from './core/headMap';

export type { Tensor, QKV, AttentionDims } from './core/tensor';
export { attentionDims, ShapeError } from './core/tensor';
export type { HeadLayout } from './core/headMap';
export { headMapping, kvHeadOf } from './core/headMap';
export { referenceAttention } from './core/referenceAttention';
export { headStats, type HeadStats } from './core/headStats';
export { syntheticQKV, PATTERNS, PATTERN_INFO, type Pattern, type SyntheticSpec } from './core/synthetic';
export { tokenize, type Token } from './core/tokenize';
export { BACKENDS, type BackendChoice, type BackendName, type BackendFailure } from './core/backendNames';
export { ComputeClient, type Outcome } from './compute/client';
export type { EngineResult, ProbeResult } from './compute/engine';

/** Options of {@link computeAttention}. */
export interface ComputeOptions {
  /** Causal mask `j ≤ i + (Nk − Nq)`; default true. */
  causal?: boolean;
  /** Logit scale; default `1/√d`. */
  scale?: number | null;
  /** tfjs backend; default `auto` in a browser (fastest measured) and `cpu` in Node. */
  backend?: BackendChoice;
  /** Query → KV head mapping; default `contiguous`. */
  layout?: HeadLayout;
}

/** Result of {@link computeAttention}. */
export interface AttentionResult {
  /** Scaled logits `[H, Nq, Nk]`; masked pairs are `-Infinity`. */
  scores: Float32Array;
  /** Softmax weights `[H, Nq, Nk]`; a row with no visible key is all zero. */
  weights: Float32Array;
  /** Head outputs `[H, Nq, dv]`. */
  output: Float32Array;
  /** Per-head entropy (nats), mean attention distance (tokens) and sink mass (weight on key 0), each `[H]`. */
  stats: { entropy: Float32Array; distance: Float32Array; sinkMass: Float32Array };
  /** The backend that computed it. */
  backend: BackendName;
  /** Backends tried before it, and why each failed. */
  fallbacks: BackendFailure[];
}

/**
 * Dense multi-head (MHA/GQA/MQA) attention with tfjs. Throws a `ShapeError` naming the wrong
 * tensor and the expected shape when inputs do not fit; falls back to the next backend when
 * one fails, listing it in `fallbacks`.
 */
export async function computeAttention(inputs: QKV, opts: ComputeOptions = {}): Promise<AttentionResult> {
  const { runAttention } = await import('./compute/engine');
  const r = await runAttention({
    inputs,
    options: { causal: opts.causal ?? true, scale: opts.scale ?? null, layout: opts.layout ?? 'contiguous' },
    backend: opts.backend ?? (inBrowser() ? 'auto' : 'cpu'),
  });
  return {
    scores: r.scores!,
    weights: r.weights!,
    output: r.output!,
    stats: r.stats!,
    backend: r.backend,
    fallbacks: r.fallbacks,
  };
}

export { METHODS, METHOD_IDS, getMethod, SQA_VARIANTS } from './methods/registry';
export { normalizeParams, defaultOf } from './methods/params';
export { kdgqaAllocation, dgqaAllocate, dgqaTimeline } from './methods/allocation';
export { roundHalfEven } from './core/numeric';
export type { MethodDescriptor, ParamSpec, Params, MethodInput, GroupingResult, GroupingMetrics, GroupingDetail, DgqaStep } from './methods/types';
export type { MethodRun, Attend, AttendRequest, AttendResult } from './methods/run';

// Positions and query–key scores (issue 7; ALGORITHMS.md §11, §12.1, §12.2, §12.6). RoPE, QK-norm
// and MergeLock on Q/K/V are also methods: runMethod('rope' | 'qknorm' | 'mergelock', …).
/**
 * The QK-score readout of select-and-copy heads (§11): format a question, find p_N and the
 * option line ends on the real tokenization, score every head, and rank heads over a set.
 *
 * @example
 * const r = await runModel(model, formatPrompt(question));
 * const readout = qkReadout(r.layers.map((l) => l!), locateOptions(r.tokens)); // [layer].qk[head][option]
 */
export { formatPrompt, parsePrompt, locateOptions, qkScores, attentionScores, qkReadout, headAccuracy, parseQuestionSet, LETTERS, McqaError, type McqaQuestion } from './methods/positional/qkscore';
export { qkNorm, logitHistograms } from './methods/positional/qknorm';
export { sampleMergeLock, applyMergeLock, mergeLockWarnings, type AKind, type MergeLockKeys } from './methods/positional/mergelock';
export { applyRope, mergeLockQkv } from './methods/positional/qkTransforms';
export { ropeInvFreq, ropeRotate, ropeDistanceCurve, type RopeLayout } from './core/rope';

/** Options of {@link runMethod}. */
export interface RunMethodOptions {
  /** tfjs backend; default `auto` in a browser and `cpu` in Node. */
  backend?: BackendChoice;
  /** Also return the method's pre-softmax scores. */
  scores?: boolean;
}

/**
 * Runs an attention method from the registry on `input` (`q [H, N, d]`, `k`, `v [Hs, N, ·]`,
 * optional `causal`, `scale`, `steps` for DGQA) with `params` (missing ones take the method's
 * defaults; a bad one throws, naming the parameter and what it allows). Returns the grouping
 * (query head → KV head), the method's weights and outputs, the source's attention, and the
 * metrics of ALGORITHMS.md §0.7 against it.
 *
 * @example
 * const r = await runMethod('kdgqa', { q, k, v, causal: false }, { groups: 4 });
 * r.allocation; // query heads per KV head, e.g. [3, 2, 0, 3]
 */
export async function runMethod(id: string, input: import('./methods/types').MethodInput, params: Record<string, unknown> = {}, opts: RunMethodOptions = {}): Promise<import('./methods/run').MethodRun> {
  const [{ runAttention }, { runGrouping }] = await Promise.all([import('./compute/engine'), import('./methods/run')]);
  const backend = opts.backend ?? (inBrowser() ? 'auto' : 'cpu');
  return runGrouping(
    id,
    input,
    params,
    async (r) => {
      const res = await runAttention({ inputs: r.inputs, options: { causal: r.causal, scale: r.scale, layout: 'contiguous' }, backend, want: { weights: true, output: true, stats: true, scores: !!r.scores } });
      return { weights: res.weights!, output: res.output!, scores: res.scores, stats: res.stats };
    },
    { strict: true, scores: opts.scores },
  );
}

/**
 * Runs a sparse-attention method (`SPARSE_METHODS`: MoBA, FlashMoBA, FlexPrefill, SALE, SparseD,
 * ThinK, NaLaFormer, VMoBA, DraftAttention, TokenSelect, sliding window + sinks; ALGORITHMS.md
 * §4–§10, §12.3, §12.4, §12.7) on `q [H, N, d]`, `k`, `v [Hkv, N, ·]`: the selection with the
 * reason of every block, the block-sparse attention over it (computed by a kernel that skips
 * unselected blocks), the dense reference, and density, recall, output error and FLOPs (§0.7).
 * `causal` defaults to true; the video methods (VMoBA, DraftAttention) need `causal: false` and
 * read the tokens as the `grid` (frames × height × width, or their `frames`/`height`/`width`
 * parameters). For VMoBA and DraftAttention `selection` is in their permuted token order
 * (`perm[p]` = the original token at position p); weights and outputs are in the original order.
 *
 * @example
 * const r = await runSparseMethod('moba', { q, k, v }, { block: 64, topk: 3 });
 * r.selection.codes; // [H, N, nb] per query: 0 = not chosen, else a reason code (forced, topk, …)
 * r.metrics.density; r.metrics.recallMean; r.metrics.relFrob; r.metrics.flops
 */
export async function runSparseMethod(id: string, input: QKV & { causal?: boolean; scale?: number | null; grid?: { T: number; Hp: number; Wp: number } }, params: Record<string, unknown> = {}, opts: RunMethodOptions = {}): Promise<import('./methods/sparse/run').SparseRun> {
  const [{ runAttention }, { runSparse }] = await Promise.all([import('./compute/engine'), import('./methods/sparse/run')]);
  const backend = opts.backend ?? (inBrowser() ? 'auto' : 'cpu');
  return runSparse(
    id,
    input,
    params,
    async (inputs, o, sel, rule) => {
      const r = await runAttention({ inputs, options: { ...o, layout: 'contiguous' }, backend, want: { weights: true, output: true }, sparse: { rowsPer: sel.rowsPer, nRows: sel.nRows, block: sel.block, nkb: sel.nkb, codes: sel.codes, rule } });
      return { weights: r.weights!, output: r.output!, pairs: r.sparse!.pairs, computed: r.sparse!.computed };
    },
    async (inputs, o) => {
      const r = await runAttention({ inputs, options: { ...o, layout: 'contiguous' }, backend, want: { weights: true, output: true } });
      return { weights: r.weights!, output: r.output! };
    },
    { strict: true },
  );
}
export { SPARSE_METHODS, getSparseMethod, type SparseDescriptor, type SparsePlan } from './methods/sparse/registry';
export { REASONS, reasonOf, type BlockSelection, type Reason, type TokenRule } from './methods/sparse/selection';
export type { SparseRun } from './methods/sparse/run';
export type { SparseMetrics } from './methods/sparse/sparseMetrics';

// Bring your own tensors (docs/import-formats.md): pure functions, no tfjs, no DOM.
/**
 * Opens a tensor file from its bytes: `.npy`, `.npz`, `.safetensors`, CircuitsVis / BertViz
 * (incl. encoder-decoder) / Inspectus / Tensor2Tensor JSON, or a `qkscope-qkv` Q/K/V dump.
 *
 * @example
 * const o = importTensors(new Uint8Array(await file.arrayBuffer()), file.name);
 * const src = o.status === 'ready' ? o.source : o.finish(o.pending.guess); // or ask the user
 * src.layers[0].weights; // { shape: [H, Nq, Nk], data } — or .qkv for a Q/K/V dump
 */
export { importTensors, sniffFormat, type FileFormat } from './io/importTensors';
/**
 * Writes attention maps `[H, Nq, Nk]` with their tokens as `.npy`, `.safetensors` or
 * CircuitsVis JSON (Inspectus form for cross-attention); the last two re-import unchanged.
 */
export { exportTensors, safeJson, type ExportFormat, type ExportInput, type ExportedFile } from './io/exportTensors';
export { ImportError, IMPORT_CAPS, type ImportProblem } from './io/errors';
export type { ImportOutcome, ImportedSource, ImportedLayer, LayerQKV, PendingArray, ArrayLayout, AxisRole } from './io/types';

// Real models (issue 3): Hugging Face checkpoints of GPT-2 and the Llama family, read from the
// user's own files (never fetched), run by a tfjs forward pass that captures every layer.
export { parseConfig, ModelError, SUPPORTED_TYPES } from './models/config';
export { inspectCheckpoint, readWeights, fileFromBytes, fileFromBlob, type ModelFile, type CheckpointInfo } from './models/checkpoint';
export { loadTokenizer, type TextTokenizer } from './models/tokenizer';
export type { ModelConfig } from './core/modelSpec';
export type { LayerCapture, ForwardResult } from './compute/forward';

/** A checkpoint loaded on a tfjs backend, with its tokenizer when the files held one. */
export interface LoadedModel {
  info: import('./models/checkpoint').CheckpointInfo;
  tokenizer: import('./models/tokenizer').TextTokenizer | null;
  backend: string;
  /** @internal the weights on the backend */
  tf: import('./compute/forward').TfModel;
  dispose(): void;
}

/**
 * Loads a checkpoint from its files (`config.json`, `model.safetensors` or the shards of
 * `model.safetensors.index.json`, optional `tokenizer.json` and `tokenizer_config.json`):
 * checks the config and every tensor's shape and dtype before reading weights, reads them one
 * slice at a time, and uploads them to `backend` (default `wasm` in a browser, `cpu` in Node).
 * Every problem is a {@link ModelError} naming the file.
 *
 * @example
 * const model = await loadModel([...input.files].map((f) => fileFromBlob(f)));
 * const r = await runModel(model, 'When Mary and John went to the store');
 * r.layers[3]!.weights; // [H, N, N] of layer 3
 */
export async function loadModel(files: import('./models/checkpoint').ModelFile[], opts: { backend?: BackendName; onProgress?: (read: number, total: number) => void } = {}): Promise<LoadedModel> {
  const [{ inspectCheckpoint, readWeights }, { loadTokenizer }, { createModel }, { activate }] = await Promise.all([import('./models/checkpoint'), import('./models/tokenizer'), import('./compute/forward'), import('./compute/backends')]);
  const info = await inspectCheckpoint(files);
  let tokenizer = null;
  if (info.tokenizer) {
    const read = async (f: import('./models/checkpoint').ModelFile) => {
      try {
        return JSON.parse(new TextDecoder().decode(await f.read(0, f.size)));
      } catch (e) {
        throw new ModelError(f.name, `is not valid JSON (${(e as Error).message.slice(0, 80)})`);
      }
    };
    const cfgFile = info.files.find((f) => f.name === 'tokenizer_config.json');
    tokenizer = loadTokenizer(await read(info.tokenizer), cfgFile ? await read(cfgFile) : {}, info.config.vocab);
  }
  const backend = opts.backend ?? (inBrowser() ? 'wasm' : 'cpu');
  const why = await activate(backend);
  if (why) throw new Error(`the ${backend} backend is not available here: ${why}`);
  const weights = await readWeights(info, opts.onProgress);
  const tfModel = createModel(info.config, weights);
  return { info, tokenizer, backend, tf: tfModel, dispose: () => tfModel.dispose() };
}

/**
 * Runs text (through the model's tokenizer) or token ids through a loaded model and returns,
 * with each token as the text it decodes to,
 * for the layers in `capture` (default all), Q and K before and after RoPE, V, the scaled scores,
 * the causal weights and the head outputs, plus the next-token logits and the tokens.
 */
export async function runModel(model: LoadedModel, input: string | number[], opts: { capture?: number[]; logits?: boolean } = {}): Promise<import('./compute/forward').ForwardResult & { tokens: string[] }> {
  const { forward } = await import('./compute/forward');
  let ids: number[];
  let tokens: string[];
  if (typeof input === 'string') {
    if (!model.tokenizer) throw new Error('this checkpoint came without tokenizer.json: pass token ids, or add tokenizer.json to the files');
    ids = model.tokenizer.encode(input).ids;
    tokens = ids.map((i) => model.tokenizer!.decode([i]));
  } else {
    ids = input;
    tokens = ids.map((i) => (model.tokenizer ? model.tokenizer.decode([i]) : `#${i}`));
  }
  const r = await forward(model.tf, ids, { capture: opts.capture, logits: opts.logits });
  return { ...r, tokens };
}

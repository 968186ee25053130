/**
 * The model part of the benchmark harness (issue 3): a GPT-2-small-shaped checkpoint made in the
 * page, and load and forward timings of a model on one backend. Used by `npm run bench`.
 */
import { activate, backendBytes, peakBytesDuring, type BackendName } from '../compute/backends';
import { createModel, forward } from '../compute/forward';
import { fileFromBytes, inspectCheckpoint, readWeights, type ModelFile } from '../models/checkpoint';
import { expectedTensors, parseConfig } from '../models/config';
import { toHalf } from '../io/dtype';
import { safetensorsHeader } from '../io/safetensors';
import { mulberry32 } from '../core/prng';
import { time } from './harnessTime';

/**
 * A GPT-2-small-shaped checkpoint (12 layers, 12 heads, 768 wide, 50257 tokens, 1024 positions,
 * tied embeddings) with seeded random F16 weights, in the Hugging Face layout: config.json and
 * one model.safetensors (≈ 250 MB). Values come from a 4096-entry table of normal(0, 0.02)
 * halves (norm weights around 1), so the 124 M values are written quickly.
 */
function gpt2SmallFiles(seed = 1): ModelFile[] {
  const cfg = { model_type: 'gpt2', n_layer: 12, n_head: 12, n_embd: 768, vocab_size: 50257, n_positions: 1024, activation_function: 'gelu_new', layer_norm_epsilon: 1e-5, tie_word_embeddings: true };
  const rnd = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const small = Uint16Array.from({ length: 4096 }, () => toHalf(0.02 * gauss()));
  const one = Uint16Array.from({ length: 4096 }, () => toHalf(1 + 0.02 * gauss()));
  const tensors = expectedTensors(parseConfig(cfg));
  const { header, dataBytes } = safetensorsHeader(tensors.map((t) => ({ name: t.name, dtype: 'F16' as const, shape: t.shape })));
  const out = new Uint8Array(header.length + dataBytes);
  out.set(header);
  const data = new Uint16Array(out.buffer, header.length, dataBytes / 2);
  let o = 0;
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const table = /ln_[12f]?\.weight$|ln_f\.weight$/.test(t.name) ? one : small;
    for (let i = 0; i < n; i++) data[o + i] = table[(rnd() * 4096) | 0];
    o += n;
  }
  return [fileFromBytes('config.json', new TextEncoder().encode(JSON.stringify(cfg))), fileFromBytes('model.safetensors', out)];
}

/**
 * Model benchmark (issue 3): load time (header check, reading and converting the weights,
 * uploading them to the backend, and a first 8-token run that compiles the kernels) and the
 * forward time at each N as the app runs it (every layer's Q/K/V captured and read back, the
 * last position's logits), with peak memory: the backend's tensor bytes (tf.profile's peak)
 * and the JS heap. `model` is a built-in id (fetched from this page) or 'gpt2-small' (random).
 */
export async function benchModel(opts: { backend: BackendName; model: string; sizes: number[]; reps: number; budgetMs: number }) {
  const why = await activate(opts.backend);
  if (why) return { backend: opts.backend, model: opts.model, error: why };
  const heap = () => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0;
  let files: ModelFile[];
  if (opts.model === 'gpt2-small') files = gpt2SmallFiles();
  else {
    files = [];
    for (const n of ['config.json', 'model.safetensors']) {
      const r = await fetch(`models/${opts.model}/${n}`);
      if (!r.ok) return { backend: opts.backend, model: opts.model, error: `models/${opts.model}/${n}: HTTP ${r.status}` };
      files.push(fileFromBytes(n, new Uint8Array(await r.arrayBuffer())));
    }
  }
  const fileBytes = files.reduce((a, f) => a + f.size, 0);
  const heap0 = heap();
  const t0 = performance.now();
  const info = await inspectCheckpoint(files);
  const weights = await readWeights(info);
  const tRead = performance.now();
  const model = createModel(info.config, weights);
  weights.clear();
  const vocab = info.config.vocab;
  const rnd = mulberry32(7);
  const idsOf = (N: number) => Array.from({ length: N }, () => Math.floor(rnd() * vocab));
  try {
    await forward(model, idsOf(8), { maps: false, logits: 'last' });
    const loadMs = performance.now() - t0;
    const modelBytes = backendBytes();
    const rows: { N: number; medianMs: number; runs: number[]; peakBackendBytes: number; heapAfterBytes: number; error?: string }[] = [];
    for (const N of opts.sizes) {
      if (info.config.family === 'gpt2' && N > info.config.maxPositions) continue;
      const ids = idsOf(N);
      try {
        const peak = await peakBytesDuring(() => forward(model, ids, { maps: false, logits: 'last' }));
        const t = await time(() => forward(model, ids, { maps: false, logits: 'last' }), opts.reps, opts.budgetMs, false);
        rows.push({ N, medianMs: t.median, runs: t.runs, peakBackendBytes: peak, heapAfterBytes: heap() - heap0 });
      } catch (e) {
        rows.push({ N, medianMs: NaN, runs: [], peakBackendBytes: 0, heapAfterBytes: 0, error: (e as Error).message });
        break;
      }
    }
    return { backend: opts.backend, model: opts.model, config: info.config, parameters: info.parameters, fileBytes, readMs: tRead - t0, loadMs, modelBytes, rows };
  } finally {
    model.dispose();
  }
}

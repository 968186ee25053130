import { readWeights } from '../models/checkpoint';
import { applyMergeLock, mergeLockWarnings, sampleMergeLock, type AKind } from '../methods/positional/mergelock';
import type { ModelCompareReport } from '../compute/protocol';
import type { Tensor } from '../core/tensor';
import type { ModelConfig } from '../core/modelSpec';
import { modelClient, type LoadedCheckpoint } from './modelLoader';

/** MergeLock holds a second copy of the weights in the worker: models above this are refused. */
export const MERGELOCK_CAP_BYTES = 512 * 2 ** 20;

/** One MergeLock check: the keys' warnings, how far the locked model's run moved, and one weight block before and after. */
export interface MergeLockRun {
  seed: number;
  aKind: AKind;
  warnings: string[];
  report: ModelCompareReport;
  /** W_Q of one head (`[d, hidden]`, each row a query channel) before and after, and the largest change relative to its largest entry. */
  sample: { layer: number; head: number; d: number; hidden: number; before: Float32Array; after: Float32Array; change: number };
}

/** Head `h`'s W_Q block of layer `l` as `[d, hidden]` rows (GPT-2's fused Conv1D is transposed). */
export function queryBlock(c: ModelConfig, w: Map<string, Tensor>, l: number, h: number): Float32Array {
  const d = c.headDim;
  const E = c.hidden;
  const out = new Float32Array(d * E);
  if (c.family === 'gpt2') {
    const t = w.get(`transformer.h.${l}.attn.c_attn.weight`)!; // [E, 3E]
    for (let i = 0; i < d; i++) for (let j = 0; j < E; j++) out[i * E + j] = t.data[j * 3 * E + h * d + i];
  } else out.set(w.get(`model.layers.${l}.self_attn.q_proj.weight`)!.data.subarray(h * d * E, (h + 1) * d * E));
  return out;
}

/** The model's weights read again from its files, and the same weights locked with seeded keys. */
async function lockModel(model: LoadedCheckpoint, seed: number, aKind: AKind) {
  if (model.info.loadedBytes > MERGELOCK_CAP_BYTES) throw new Error(`the check holds a second copy of the weights, and this model needs ${(model.info.loadedBytes / 2 ** 20).toFixed(0)} MiB as float32 (the limit is ${MERGELOCK_CAP_BYTES / 2 ** 20} MiB)`);
  const c = model.info.config;
  const weights = await readWeights(model.info);
  const keys = sampleMergeLock(c, seed, aKind, 'half');
  return { c, weights, locked: applyMergeLock(c, weights, keys), warnings: mergeLockWarnings(c, keys) };
}

const clampAt = (c: ModelConfig, at: { layer: number; head: number }) => ({ layer: Math.min(at.layer, c.layers - 1), head: Math.min(at.head, c.heads - 1) });

/**
 * MergeLock on the loaded model (ALGORITHMS.md §12.6): reads its weights again from its files,
 * applies seeded keys, and lets the worker run the same tokens through the original and the
 * locked model. Throws with the reason when the model is too large for two copies.
 */
export async function runMergeLock(model: LoadedCheckpoint, ids: number[], seed: number, aKind: AKind, at: { layer: number; head: number }): Promise<MergeLockRun> {
  const client = modelClient();
  if (!client) throw new Error('the compute client is not ready');
  const { c, weights, locked, warnings } = await lockModel(model, seed, aKind);
  const { layer, head } = clampAt(c, at);
  const before = queryBlock(c, weights, layer, head);
  const after = queryBlock(c, locked, layer, head);
  let change = 0;
  let big = 0;
  for (let i = 0; i < before.length; i++) {
    change = Math.max(change, Math.abs(after[i] - before[i]));
    big = Math.max(big, Math.abs(before[i]));
  }
  // Every tensor of the locked model is transferred to the worker (the page keeps no copy).
  const report = await client.compareModel(c, locked, ids, { layer, head });
  return { seed, aKind, warnings, report, sample: { layer, head, d: c.headDim, hidden: c.hidden, before, after, change: change / Math.max(1e-30, big) } };
}

/**
 * The merge demo of §12.6: every weight of the locked model averaged with the original's (what a
 * model merge does), run on the same tokens. The lock alone leaves attention unchanged; the merge
 * does not, because the average of W·A and W is not a re-parameterisation of W.
 */
export async function runMerge(model: LoadedCheckpoint, ids: number[], seed: number, aKind: AKind, at: { layer: number; head: number }): Promise<ModelCompareReport> {
  const client = modelClient();
  if (!client) throw new Error('the compute client is not ready');
  const { c, weights, locked } = await lockModel(model, seed, aKind);
  const merged = new Map<string, Tensor>();
  for (const [name, t] of weights) {
    const l = locked.get(name) ?? t;
    merged.set(name, { shape: t.shape, data: t.data.map((v, i) => 0.5 * (v + l.data[i])) });
  }
  return client.compareModel(c, merged, ids, clampAt(c, at));
}

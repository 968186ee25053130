import * as tf from '@tensorflow/tfjs-core';
import { activate, loseWebglContext, setForcedFailures } from './backends';
import { probe, runAttention, setMeasuredFastest } from './engine';
import type { FromWorker, ModelCompareReport, ToWorker } from './protocol';
import { createModel, forward, type TfModel } from './forward';

/** The model loaded in this worker (one at a time: loading another frees it). */
let model: TfModel | null = null;

/** Handles one message, in the worker or on the main thread (the fallback path). Never throws. */
export async function handle(msg: ToWorker): Promise<FromWorker> {
  try {
    switch (msg.kind) {
      case 'attention':
        return { id: msg.id, ok: true, kind: 'attention', result: await runAttention(msg.req) };
      case 'probe':
        return { id: msg.id, ok: true, kind: 'probe', result: await probe() };
      case 'memory': {
        const m = tf.memory();
        return { id: msg.id, ok: true, kind: 'memory', numTensors: m.numTensors, numBytes: m.numBytes, backend: tf.getBackend() ?? 'none' };
      }
      case 'lose-context':
        return { id: msg.id, ok: true, kind: 'lose-context', lost: loseWebglContext() };
      case 'model-load': {
        const t0 = performance.now();
        const why = await activate(msg.backend);
        if (why) throw new Error(`the ${msg.backend} backend is not available: ${why}`);
        model?.dispose();
        model = null;
        model = createModel(msg.config, new Map(msg.weights));
        return { id: msg.id, ok: true, kind: 'model-load', config: msg.config, backend: tf.getBackend() ?? 'none', ms: performance.now() - t0 };
      }
      case 'model-run': {
        if (!model) throw new Error('no model is loaded');
        const t0 = performance.now();
        const r = await forward(model, msg.ids, { maps: false, logits: 'last' });
        const layers = r.layers.map((l) => ({ q: l!.q, k: l!.k, v: l!.v, qPre: l!.qPre, kPre: l!.kPre }));
        return { id: msg.id, ok: true, kind: 'model-run', layers, logits: r.logits ?? null, backend: r.backend, ms: performance.now() - t0 };
      }
      case 'model-compare': {
        // A second model from the given weights (e.g. MergeLock's): both run the same ids, and
        // the differences of every layer's attention and hidden state and of the logits come back.
        if (!model) throw new Error('no model is loaded');
        const t0 = performance.now();
        const other = createModel(msg.config, new Map(msg.weights));
        try {
          const a = await forward(model, msg.ids);
          const b = await forward(other, msg.ids);
          const maxAbs = (x: Float32Array) => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
          const maxDiff = (x: Float32Array, y: Float32Array) => x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i])), 0);
          const layers = a.layers.map((la, l) => {
            const lb = b.layers[l]!;
            return { weightsMaxAbs: maxDiff(la!.weights.data, lb.weights.data), hiddenMaxRel: maxDiff(la!.hiddenOut.data, lb.hiddenOut.data) / Math.max(1e-30, maxAbs(la!.hiddenOut.data)) };
          });
          const logitsMaxRel = a.logits && b.logits ? maxDiff(a.logits.data, b.logits.data) / Math.max(1e-30, maxAbs(a.logits.data)) : NaN;
          const V = msg.config.vocab;
          const argmaxLast = (x: Float32Array | undefined) => (x ? x.subarray(x.length - V).reduce((best, v, i, row) => (v > row[best] ? i : best), 0) : -1);
          const nextId: [number, number] = [argmaxLast(a.logits?.data), argmaxLast(b.logits?.data)];
          let diff: ModelCompareReport['diff'];
          if (msg.at && a.layers[msg.at.layer] && b.layers[msg.at.layer]) {
            const N = msg.ids.length;
            const { layer, head } = msg.at;
            const wa = a.layers[layer]!.weights.data.subarray(head * N * N, (head + 1) * N * N);
            const wb = b.layers[layer]!.weights.data.subarray(head * N * N, (head + 1) * N * N);
            diff = { layer, head, N, data: wb.map((v, i) => v - wa[i]) };
          }
          return { id: msg.id, ok: true, kind: 'model-compare', report: { layers, logitsMaxRel, nextId, diff, backend: tf.getBackend() ?? 'none', ms: performance.now() - t0 } };
        } finally {
          other.dispose();
        }
      }
      case 'config':
        setForcedFailures(msg.forcedFailures);
        setMeasuredFastest(msg.fastest);
        // Start the first backend while the page is still rendering.
        if (msg.warm) void activate(msg.warm);
        return { id: msg.id, ok: true, kind: 'config' };
    }
  } catch (e) {
    return { id: msg.id, ok: false, error: (e as Error).message ?? String(e) };
  }
}

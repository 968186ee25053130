import * as tf from '@tensorflow/tfjs-core';
import { activate, setForcedFailures } from './backends';
import { probe, runAttention, setMeasuredFastest } from './engine';
import type { FromWorker, ToWorker } from './protocol';

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

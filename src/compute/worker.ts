/// <reference lib="webworker" />
import { handle } from './handler';
// The worker always runs in a browser: load the WASM backend with the worker itself rather than
// after the first request (one round trip less before the first result).
import './browserBackends';
import { tensorBuffers, transferables, type ToWorker } from './protocol';

// The compute worker: all tfjs work happens here so the page never blocks on it.
self.onmessage = async (e: MessageEvent<ToWorker>) => {
  const reply = await handle(e.data);
  const transfer = !reply.ok ? [] : reply.kind === 'attention' ? transferables(reply.result) : reply.kind === 'model-run' ? tensorBuffers([...reply.layers.flatMap((l) => [l.q, l.k, l.v, l.qPre, l.kPre]), reply.logits]) : [];
  (self as unknown as DedicatedWorkerGlobalScope).postMessage(reply, transfer);
};

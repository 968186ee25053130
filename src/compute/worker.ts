/// <reference lib="webworker" />
import { handle } from './handler';
import { transferables, type ToWorker } from './protocol';

// The compute worker: all tfjs work happens here so the page never blocks on it.
self.onmessage = async (e: MessageEvent<ToWorker>) => {
  const reply = await handle(e.data);
  const transfer = reply.ok && reply.kind === 'attention' ? transferables(reply.result) : [];
  (self as unknown as DedicatedWorkerGlobalScope).postMessage(reply, transfer);
};

/// <reference lib="webworker" />
import { LongServer } from './serve';
import type { ToLongWorker } from './protocol';

// A long-context worker: one WebAssembly kernel, one share of the rows.
const server = new LongServer();
const scope = self as unknown as DedicatedWorkerGlobalScope;
// One message at a time: a tfjs request awaits its backend, and new inputs must not arrive mid-way.
let chain: Promise<void> = Promise.resolve();
scope.onmessage = (e: MessageEvent<ToLongWorker>) => {
  chain = chain.then(async () => {
    const { reply, transfer } = await server.handle(e.data, (m) => scope.postMessage(m));
    scope.postMessage(reply, transfer);
  });
};

/// <reference lib="webworker" />
import { LongServer } from './serve';
import type { ToLongWorker } from './protocol';

// A long-context worker: one WebAssembly kernel, one share of the rows.
const server = new LongServer();
const scope = self as unknown as DedicatedWorkerGlobalScope;
scope.onmessage = (e: MessageEvent<ToLongWorker>) => {
  const { reply, transfer } = server.handle(e.data, (m) => scope.postMessage(m));
  scope.postMessage(reply, transfer);
};

import type { EngineRequest, EngineResult, ProbeResult } from './engine';
import type { BackendName } from './backends';

/** Messages from the page to the compute worker. */
export type ToWorker =
  | { id: number; kind: 'attention'; req: EngineRequest }
  | { id: number; kind: 'probe' }
  | { id: number; kind: 'memory' }
  | { id: number; kind: 'config'; forcedFailures: BackendName[]; fastest: BackendName | null; warm?: BackendName | null };

/** Messages from the compute worker to the page. */
export type FromWorker =
  | { id: number; ok: true; kind: 'attention'; result: EngineResult }
  | { id: number; ok: true; kind: 'probe'; result: ProbeResult }
  | { id: number; ok: true; kind: 'config' }
  | { id: number; ok: true; kind: 'memory'; numTensors: number; numBytes: number; backend: string }
  | { id: number; ok: false; error: string };

/** Typed arrays of a result, to transfer instead of copy. */
export function transferables(r: EngineResult): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const a of [r.scores, r.weights, r.output, r.stats?.entropy, r.stats?.distance, r.stats?.sinkMass]) {
    if (a && a.buffer instanceof ArrayBuffer && !out.includes(a.buffer)) out.push(a.buffer);
  }
  return out;
}

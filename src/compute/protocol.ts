import type { EngineRequest, EngineResult, ProbeResult } from './engine';
import type { ModelConfig } from '../core/modelSpec';
import type { Tensor } from '../core/tensor';

/** One layer's queries, keys and values from the model (pre-RoPE copies for the Llama family). */
export interface ModelLayerQKV {
  q: Tensor;
  k: Tensor;
  v: Tensor;
  qPre: Tensor;
  kPre: Tensor;
}
import type { BackendName } from './backends';

/** Messages from the page to the compute worker. */
export type ToWorker =
  | { id: number; kind: 'attention'; req: EngineRequest }
  | { id: number; kind: 'probe' }
  | { id: number; kind: 'memory' }
  /** Test hook: lose the WebGL context (WEBGL_lose_context), as a GPU reset or out-of-memory would. */
  | { id: number; kind: 'lose-context' }
  | { id: number; kind: 'model-load'; config: ModelConfig; weights: [string, Tensor][]; backend: BackendName }
  | { id: number; kind: 'model-run'; ids: number[] }
  | { id: number; kind: 'model-compare'; config: ModelConfig; weights: [string, Tensor][]; ids: number[]; at?: { layer: number; head: number } }
  | { id: number; kind: 'config'; forcedFailures: BackendName[]; fastest: BackendName | null; warm?: BackendName | null };

/** Messages from the compute worker to the page. */
export type FromWorker =
  | { id: number; ok: true; kind: 'attention'; result: EngineResult }
  | { id: number; ok: true; kind: 'probe'; result: ProbeResult }
  | { id: number; ok: true; kind: 'config' }
  | { id: number; ok: true; kind: 'memory'; numTensors: number; numBytes: number; backend: string }
  | { id: number; ok: true; kind: 'lose-context'; lost: boolean }
  | { id: number; ok: true; kind: 'model-load'; config: ModelConfig; backend: string; ms: number }
  | { id: number; ok: true; kind: 'model-run'; layers: ModelLayerQKV[]; logits: Tensor | null; backend: string; ms: number }
  | { id: number; ok: true; kind: 'model-compare'; report: ModelCompareReport }
  | { id: number; ok: false; error: string };

/** How far a second set of weights moves the loaded model's run: per layer, and the logits. */
export interface ModelCompareReport {
  layers: { weightsMaxAbs: number; hiddenMaxRel: number }[];
  logitsMaxRel: number;
  /** The likeliest next token after the last position: the loaded model's and the other's. */
  nextId: [number, number];
  /** When asked for a head: its attention map `[N, N]` in the other model minus the loaded model's. */
  diff?: { layer: number; head: number; N: number; data: Float32Array };
  backend: string;
  ms: number;
}

/** Buffers of a list of tensors, to transfer instead of copy. */
export function tensorBuffers(ts: (Tensor | null | undefined)[]): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const t of ts) if (t && t.data.buffer instanceof ArrayBuffer && !out.includes(t.data.buffer)) out.push(t.data.buffer);
  return out;
}

/** Typed arrays of a result, to transfer instead of copy. */
export function transferables(r: EngineResult): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const a of [r.scores, r.weights, r.output, r.stats?.entropy, r.stats?.distance, r.stats?.sinkMass]) {
    if (a && a.buffer instanceof ArrayBuffer && !out.includes(a.buffer)) out.push(a.buffer);
  }
  return out;
}

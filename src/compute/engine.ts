import { activate, BACKENDS, fallbackChain, webglContextLost, type BackendChoice, type BackendFailure, type BackendName } from './backends';
import { DEFAULT_VARIANT, denseAttention, WANT_ALL, type DenseResult, type KernelVariant, type Want } from './attention';
import { attentionDims, type QKV } from '../core/tensor';
import type { AttentionOptions } from '../core/referenceAttention';
import { syntheticQKV } from '../core/synthetic';
import { headStats } from '../core/headStats';
import { blockSparseAttention, type SparseSpec } from './blockSparse';

/** One request to the compute engine (the same object crosses to the worker). */
export interface EngineRequest {
  inputs: QKV;
  options: AttentionOptions;
  backend: BackendChoice;
  want?: Want;
  /** A sparse pattern: compute block-sparse attention over it instead of dense attention. */
  sparse?: SparseSpec;
}

/** A computed result: typed arrays, plus which backend produced it and which failed on the way. */
export interface EngineResult extends DenseResult {
  backend: BackendName;
  /** How the matrix products were issued (see KernelVariant). */
  variant: KernelVariant;
  /** Backends that were tried first and failed, with the reason (shown to the user). */
  fallbacks: BackendFailure[];
  /** Wall time of the attention call including read-back, in ms. */
  ms: number;
  /** For a sparse request: allowed pairs, and pairs the kernel computed (unions and padding included). */
  sparse?: { pairs: number; computed: number };
}

/** Probe timings per backend (ms per call, median of a few), or the reason the backend failed. */
export interface ProbeResult {
  /** Each backend's time with its faster kernel variant. */
  timings: Partial<Record<BackendName, number>>;
  /** The faster kernel variant of each backend, and the time of each variant. */
  variants: Partial<Record<BackendName, { best: KernelVariant; ms: Partial<Record<KernelVariant, number>> }>>;
  failures: BackendFailure[];
  fastest: BackendName;
}

let measuredFastest: BackendName | null = null;
/** Kernel variant per backend measured by the probe (before it: DEFAULT_VARIANT). */
const measuredVariant = new Map<BackendName, KernelVariant>();

/** The kernel variant a backend uses now. */
export function variantFor(name: BackendName): KernelVariant {
  return measuredVariant.get(name) ?? DEFAULT_VARIANT[name] ?? 'batched';
}
/** Backends found broken in this context; skipped until the page reloads. */
const broken = new Map<BackendName, string>();

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

/**
 * Runs dense attention on the requested backend, falling back along WebGPU → WebGL → WASM → CPU
 * when a backend fails to initialise or fails during the computation (e.g. a WebGL texture
 * larger than the GPU allows). `auto` uses the fastest backend measured by {@link probe}, or the
 * quick-start order WASM → WebGL → WebGPU → CPU before any probe has run.
 */
export async function runAttention(req: EngineRequest): Promise<EngineResult> {
  attentionDims(req.inputs); // a shape error is the caller's, not a backend's: report it as is
  const fallbacks: BackendFailure[] = [];
  let chain: BackendName[];
  if (req.backend === 'auto') {
    chain = measuredFastest ? [measuredFastest, ...BACKENDS.filter((b) => b !== measuredFastest)] : ['wasm', 'webgl', 'webgpu', 'cpu'];
  } else {
    chain = fallbackChain(req.backend);
  }
  for (const name of chain) {
    const known = broken.get(name);
    if (known) {
      fallbacks.push({ backend: name, reason: known });
      continue;
    }
    const why = await activate(name);
    if (why) {
      broken.set(name, why);
      fallbacks.push({ backend: name, reason: why });
      continue;
    }
    // A lost WebGL context (GPU reset, out of memory) makes every later WebGL result wrong or
    // failing: WebGL is marked broken for this page and the request goes on to the next backend.
    const LOST = 'the WebGL context was lost (a GPU reset or out of memory); WebGL is off until the page reloads';
    if (name === 'webgl' && webglContextLost()) {
      broken.set(name, LOST);
      fallbacks.push({ backend: name, reason: LOST });
      continue;
    }
    const t0 = now();
    try {
      const variant = variantFor(name);
      if (req.sparse) {
        const want = req.want ?? WANT_ALL;
        const r = await blockSparseAttention(req.inputs, req.options, req.sparse, !!want.weights || !!want.stats);
        const { H, Nq, Nk } = attentionDims(req.inputs);
        const stats = want.stats && r.weights ? headStats(r.weights, H, Nq, Nk) : undefined;
        return { weights: want.weights ? r.weights : undefined, output: r.output, stats, backend: name, variant, fallbacks, ms: now() - t0, sparse: { pairs: r.pairs, computed: r.computed } };
      }
      const res = await denseAttention(req.inputs, req.options, req.want ?? WANT_ALL, { variant });
      // Lost during the computation: its numbers cannot be trusted (reads of a lost context are zeros).
      if (name === 'webgl' && webglContextLost()) throw new Error(LOST);
      return { ...res, backend: name, variant, fallbacks, ms: now() - t0 };
    } catch (e) {
      if (name === 'webgl' && webglContextLost()) {
        broken.set(name, LOST);
        fallbacks.push({ backend: name, reason: LOST });
        continue;
      }
      // A compute failure is specific to this request (size), so the backend is not marked broken.
      fallbacks.push({ backend: name, reason: `failed while computing: ${(e as Error).message}` });
    }
  }
  throw new Error(`no backend could compute this attention: ${fallbacks.map((f) => `${f.backend}: ${f.reason}`).join('; ')}`);
}

/**
 * Measures every backend, with each kernel variant, on a fixed workload (H = 8, N = 256,
 * d = 64, causal, weights and output read back) and remembers the fastest backend for `auto`
 * and the faster variant of each backend. Each pair gets one warm-up call (shader compilation)
 * and then the median of three timed calls.
 */
export async function probe(sizes = { H: 8, N: 256, d: 64 }): Promise<ProbeResult> {
  const { H, N, d } = sizes;
  const tokens = Array.from({ length: N }, (_, i) => `t${i % 97}`);
  const inputs = syntheticQKV({ tokens, pattern: 'random', heads: H, kvHeads: H, headDim: d, temperature: 1, seed: 1 });
  const timings: Partial<Record<BackendName, number>> = {};
  const variants: ProbeResult['variants'] = {};
  const failures: BackendFailure[] = [];
  for (const name of BACKENDS) {
    const why = broken.get(name) ?? (await activate(name));
    if (why) {
      broken.set(name, why);
      failures.push({ backend: name, reason: why });
      continue;
    }
    try {
      const want = { weights: true, output: true };
      const ms: Partial<Record<KernelVariant, number>> = {};
      for (const variant of ['batched', 'perHead'] as const) {
        await denseAttention(inputs, { causal: true }, want, { variant });
        const ts: number[] = [];
        for (let r = 0; r < 3; r++) {
          const t0 = now();
          await denseAttention(inputs, { causal: true }, want, { variant });
          ts.push(now() - t0);
        }
        ts.sort((a, b) => a - b);
        ms[variant] = ts[1];
      }
      const best: KernelVariant = ms.perHead! < ms.batched! ? 'perHead' : 'batched';
      measuredVariant.set(name, best);
      variants[name] = { best, ms };
      timings[name] = ms[best];
    } catch (e) {
      failures.push({ backend: name, reason: `failed while computing: ${(e as Error).message}` });
    }
  }
  const ranked = (Object.entries(timings) as [BackendName, number][]).sort((a, b) => a[1] - b[1]);
  const fastest = ranked.length ? ranked[0][0] : 'cpu';
  measuredFastest = fastest;
  return { timings, variants, failures, fastest };
}

/** Tells the engine which backend a previous probe found fastest (e.g. remembered by the page). */
export function setMeasuredFastest(name: BackendName | null): void {
  measuredFastest = name;
}

import * as tf from '@tensorflow/tfjs-core';
// tfjs-core plus the backends we use, rather than the umbrella package (which adds layers,
// converter and data). Each backend's code is loaded when it is first asked for, so the worker
// starts with only what the first request needs.

import { BACKENDS, type BackendName } from '../core/backendNames';
import { inBrowser } from '../core/runtime';
export { BACKENDS, isBackendName, type BackendName, type BackendChoice, type BackendFailure } from '../core/backendNames';


/** True in a page or a Web Worker; false in Node, where only the cpu backend exists. */
export const isBrowser = inBrowser();

const loading = new Map<BackendName, Promise<void>>();

/** Loads and registers one backend's code (WASM binaries come from our own build). */
function registerBackend(name: BackendName): Promise<void> {
  let p = loading.get(name);
  if (!p) {
    p =
      name === 'cpu'
        ? import('@tensorflow/tfjs-backend-cpu').then(() => undefined)
        : name === 'webgl'
          ? import('@tensorflow/tfjs-backend-webgl').then(() => {
              // Shapes as uniforms: one compiled program serves every shape of an op, instead of
              // one per shape (each new N or block size compiled anew before).
              tf.env().set('WEBGL_USE_SHAPES_UNIFORMS', true);
            })
          : name === 'wasm'
            ? import('./browserBackends').then((m) => m.register())
            : import('./browserBackends').then((m) => m.registerWebgpu());
    loading.set(name, p);
  }
  return p;
}

/** Backends forced to fail: a test hook (`?fail=webgpu,webgl` in the app's URL). */
const forcedFailures = new Set<BackendName>();
export function setForcedFailures(names: readonly BackendName[]): void {
  forcedFailures.clear();
  for (const n of names) forcedFailures.add(n);
}

async function preflight(name: BackendName): Promise<string | null> {
  if (forcedFailures.has(name)) return `forced to fail by the test hook (fail=${name})`;
  if (name === 'webgpu') {
    const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } }).navigator?.gpu;
    if (!gpu) return 'navigator.gpu is missing: this browser has no WebGPU (Chromium needs --enable-unsafe-webgpu on Linux)';
    try {
      const adapter = await gpu.requestAdapter();
      if (!adapter) return 'navigator.gpu.requestAdapter() returned null: no WebGPU adapter';
    } catch (e) {
      return `requestAdapter() threw: ${(e as Error).message}`;
    }
  }
  if (name === 'webgl' && typeof OffscreenCanvas !== 'undefined') {
    const gl = new OffscreenCanvas(1, 1).getContext('webgl2');
    if (!gl) return 'no WebGL2 context could be created';
  }
  return null;
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * Makes `name` the active tfjs backend. Resolves with `null` on success, or the reason it failed.
 * Never throws. Calls are serialised, so a warm-up and a request cannot race.
 */
export function activate(name: BackendName): Promise<string | null> {
  const p = queue.then(() => activateNow(name));
  queue = p.catch(() => undefined);
  return p;
}

async function activateNow(name: BackendName): Promise<string | null> {
  if (!isBrowser && name !== 'cpu') return 'only the cpu backend runs outside a browser';
  try {
    await registerBackend(name);
  } catch (e) {
    return `its code could not be loaded: ${(e as Error).message}`;
  }
  // Only wait for an initialisation already under way: a bare tf.ready() would first
  // initialise the highest-priority backend (a WebGL context) even when WASM is wanted.
  const pending = (tf.engine() as unknown as { pendingBackendInit?: Promise<unknown> | null }).pendingBackendInit;
  if (pending) await pending.catch(() => undefined);
  if (tf.getBackend() === name && !forcedFailures.has(name)) return null;
  const why = await preflight(name);
  if (why) return why;
  try {
    const ok = await tf.setBackend(name);
    if (!ok) return `tf.setBackend('${name}') failed to initialise`;
    await tf.ready();
    return null;
  } catch (e) {
    return `initialisation threw: ${(e as Error).message}`;
  }
}

/** Backends to try, in order, starting at `first` and falling back along {@link BACKENDS}. */
export function fallbackChain(first: BackendName): BackendName[] {
  const i = BACKENDS.indexOf(first);
  return [...BACKENDS.slice(i), ...BACKENDS.slice(0, i).filter((b) => b === 'cpu')];
}


/** Number of live tfjs tensors (for leak checks). */
export function liveTensors(): number {
  return tf.memory().numTensors;
}

/** Bytes of all live tensors on the current backend. */
export function backendBytes(): number {
  return tf.memory().numBytes;
}

/** Runs `fn` and returns the most bytes the backend's tensors held meanwhile (tf.profile's peak; it counts tensors made before, too). */
export async function peakBytesDuring(fn: () => Promise<unknown>): Promise<number> {
  const info = await tf.profile(async () => {
    await fn();
  });
  return info.peakBytes;
}

/** The WebGL backend's context, when WebGL is the active backend. */
function webglContext(): WebGLRenderingContext | null {
  if (tf.getBackend() !== 'webgl') return null;
  return (tf.backend() as unknown as { gpgpu?: { gl?: WebGLRenderingContext } }).gpgpu?.gl ?? null;
}

/** Whether the active WebGL backend has lost its context (a GPU reset, a driver's out-of-memory, too many contexts). */
export function webglContextLost(): boolean {
  return webglContext()?.isContextLost() ?? false;
}

/** Test hook: loses the active WebGL context through WEBGL_lose_context; false when WebGL is not active. */
export function loseWebglContext(): boolean {
  const gl = webglContext();
  const ext = gl?.getExtension('WEBGL_lose_context');
  if (!ext) return false;
  ext.loseContext();
  return true;
}

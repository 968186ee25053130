import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
// Served from our own build (no CDN): Vite copies each binary and hands us its URL.
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

/** Registers WASM with our own binaries. Threads are off (TOOLCHAIN.md pitfalls). */
export function register(): void {
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  setWasmPaths({
    'tfjs-backend-wasm.wasm': new URL(wasmPlain, import.meta.url).href,
    'tfjs-backend-wasm-simd.wasm': new URL(wasmSimd, import.meta.url).href,
    'tfjs-backend-wasm-threaded-simd.wasm': new URL(wasmThreaded, import.meta.url).href,
  });
}

/** Loads the WebGPU backend only when it is asked for (it is large, and unused on many machines). */
export async function registerWebgpu(): Promise<void> {
  await import('@tensorflow/tfjs-backend-webgpu');
}

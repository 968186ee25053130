// The page's entry: it starts the compute worker first, so that tfjs and its WASM binary load
// while the interface code (React, views) is still downloading, then loads the interface.
import { ComputeClient } from '../index';
import { isBackendName } from '../core/backendNames';
import { decodeState, isBlankLink } from '../state/urlCodec';
import { DEFAULT_LINK } from '../state/defaults';
import { rememberedFastest } from './remembered';

const params = new URLSearchParams(location.search);
// ?long=N: the long-context page, with its own workers (it needs no tfjs).
if (params.has('long')) void import('./long/mountLong').then((m) => m.mountLong(document.getElementById('root')!));
else start();

function start(): void {
  // A bare address opens the default example: the built-in language model on its best-known head.
  // A lesson link sets its own states, so it starts from the plain synthetic example instead.
  const decoded = decodeState(isBlankLink(location.search) ? (params.has('lesson') ? 'v=1' : DEFAULT_LINK) : location.search);
  // Test hook: ?fail=webgpu,webgl makes those backends fail to initialise, to exercise fallback.
  const forced = (params.get('fail') ?? '').split(',').filter(isBackendName);
  const fastest = rememberedFastest();
  const first = decoded.inputs.compute.backend === 'auto' ? (fastest ?? 'wasm') : decoded.inputs.compute.backend;
  // Test hook: ?worker=0 runs tfjs on the main thread, the path used when no worker can start.
  const client = new ComputeClient({ forcedFailures: forced, fastest, warm: first, worker: params.get('worker') === '0' ? false : undefined });

  // Test hook: ?hooks=1 lets a browser test lose the WebGL context (as a GPU reset would).
  if (params.get('hooks') === '1') (window as unknown as { qkHooks: unknown }).qkHooks = { loseWebglContext: () => client.loseWebglContext(), memory: () => client.memory() };
  void import('./mount').then((m) => m.mount(document.getElementById('root')!, client, decoded));
}

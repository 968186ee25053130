// The page's entry: it starts the compute worker first, so that tfjs and its WASM binary load
// while the interface code (React, views) is still downloading, then loads the interface.
import { ComputeClient } from '../index';
import { isBackendName } from '../core/backendNames';
import { decodeState } from '../state/urlCodec';
import { rememberedFastest } from './remembered';

const params = new URLSearchParams(location.search);
const decoded = decodeState(location.search);
// Test hook: ?fail=webgpu,webgl makes those backends fail to initialise, to exercise fallback.
const forced = (params.get('fail') ?? '').split(',').filter(isBackendName);
const fastest = rememberedFastest();
const first = decoded.inputs.compute.backend === 'auto' ? (fastest ?? 'wasm') : decoded.inputs.compute.backend;
// Test hook: ?worker=0 runs tfjs on the main thread, the path used when no worker can start.
const client = new ComputeClient({ forcedFailures: forced, fastest, warm: first, worker: params.get('worker') === '0' ? false : undefined });

void import('./mount').then((m) => m.mount(document.getElementById('root')!, client, decoded));

import { createRoot } from 'react-dom/client';
import { ComputeClient } from '../index';
import { isBackendName } from '../compute/backends';
import { createQkStore } from '../state/store';
import { decodeState } from '../state/urlCodec';
import { App } from './App';
import { rememberedFastest, startController } from './controller';
import './app.css';

const params = new URLSearchParams(location.search);
const decoded = decodeState(location.search);
// Test hook: ?fail=webgpu,webgl makes those backends fail to initialise, to exercise fallback.
const forced = (params.get('fail') ?? '').split(',').filter(isBackendName);
const store = createQkStore({ ...decoded.inputs, locked: decoded.locked, notices: decoded.messages });
const client = new ComputeClient({ forcedFailures: forced, fastest: rememberedFastest() });
startController(store, client, { syncUrl: true });
createRoot(document.getElementById('root')!).render(<App store={store} />);

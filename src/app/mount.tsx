import { createRoot } from 'react-dom/client';
import type { ComputeClient } from '../compute/client';
import { createQkStore } from '../state/store';
import type { decodeState } from '../state/urlCodec';
import { App } from './App';
import { startController } from './controller';
import './app.css';

/** Creates the page's store from the decoded link, wires it to compute, and renders the app. */
export function mount(root: HTMLElement, client: ComputeClient, decoded: ReturnType<typeof decodeState>): void {
  const store = createQkStore({ ...decoded.inputs, locked: decoded.locked, notices: decoded.messages });
  startController(store, client, { syncUrl: true });
  createRoot(root).render(<App store={store} />);
}

import { createRoot } from 'react-dom/client';
import type { ComputeClient } from '../compute/client';
import { createQkStore } from '../state/store';
import type { decodeState } from '../state/urlCodec';
import { App } from './App';
import { Embed, EMBED_VIEWS, type EmbedView } from './Embed';
import { startController } from './controller';
import { openUrl } from './importer';
import { openBuiltin, setModelClient } from './modelLoader';
import './app.css';

/** Creates the page's store from the decoded link, wires it to compute, and renders the app. */
export function mount(root: HTMLElement, client: ComputeClient, decoded: ReturnType<typeof decodeState>): void {
  const store = createQkStore({ ...decoded.inputs, locked: decoded.locked, notices: decoded.messages });
  // ?embed=<view>: one view for an <iframe>; its address stays the one the page was given.
  const embed = new URLSearchParams(location.search).get('embed');
  const view = embed === null ? null : (EMBED_VIEWS as readonly string[]).includes(embed) ? (embed as EmbedView) : 'heatmap';
  if (embed !== null && view !== embed) store.getState().addNotices([`link: embed="${embed.slice(0, 30)}" is not one of ${EMBED_VIEWS.join(', ')}; showing the heatmap`]);
  startController(store, client, { syncUrl: view === null });
  setModelClient(client);
  // ?present=1 opens in presentation mode (a lecturer's bookmark); p toggles it.
  const present = new URLSearchParams(location.search).get('present') === '1';
  createRoot(root).render(view ? <Embed store={store} view={view} /> : <App store={store} present={present} />);
  // A link with ?src= reopens its file (same-origin only); the default example shows meanwhile.
  const model = decoded.inputs.source.model;
  if (model) void openBuiltin(store, model.id, model.step);
  const url = decoded.inputs.source.url;
  if (url) {
    // Until the file is read the synthetic example shows; the link's layer, head and cell wait in the store.
    void openUrl(store, url);
  }
}

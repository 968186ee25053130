import { createRoot } from 'react-dom/client';
import type { ComputeClient } from '../compute/client';
import { createQkStore } from '../state/store';
import type { decodeState } from '../state/urlCodec';
import { App } from './App';
import { Embed, EMBED_VIEWS, type EmbedView } from './Embed';
import { lessonById, LESSONS } from './lessons';
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
  const params = new URLSearchParams(location.search);
  const present = params.get('present') === '1';
  // ?lesson=<id>&lstep=<k>: a lesson, at a step (a lecturer's bookmark); its steps set the state.
  const lessonId = params.get('lesson');
  const lesson = lessonId && lessonById(lessonId) ? { id: lessonId, step: Math.max(0, Math.trunc(Number(params.get('lstep')) || 0)) } : null;
  if (lessonId && !lesson) store.getState().addNotices([`link: lesson="${lessonId.slice(0, 30)}" is not one of the lessons (${LESSONS.map((l) => l.id).join(', ')})`]);
  createRoot(root).render(view ? <Embed store={store} view={view} /> : <App store={store} present={present} lesson={lesson} />);
  // A link with ?src= reopens its file (same-origin only); the default example shows meanwhile.
  const model = decoded.inputs.source.model;
  if (model) void openBuiltin(store, model.id, model.step);
  const url = decoded.inputs.source.url;
  if (url) {
    // Until the file is read the synthetic example shows; the link's layer, head and cell wait in the store.
    void openUrl(store, url);
  }
}

import { importTensors } from '../io/importTensors';
import { ImportError } from '../io/errors';
import { readBlob, readStream } from '../io/read';
import type { QkStore } from '../state/store';
import type { ArrayLayout } from '../io/types';

/** Progress is written to the store at most this often (a 150 MB file arrives in ~2,300 chunks). */
const PROGRESS_MS = 100;

function progressWriter(store: QkStore, name: string) {
  let last = 0;
  return (read: number, total: number) => {
    const now = performance.now();
    if (now - last < PROGRESS_MS && read !== total) return;
    last = now;
    // Without a known size (a compressed or chunked response) the bar is indeterminate.
    store.getState().setImportState({ reading: { name, progress: total > 0 ? read / total : null, bytes: read } });
  };
}

/** A failed import: the message goes to the source panel and the notices; what was on screen stays. */
function failed(store: QkStore, name: string, e: unknown): void {
  const msg = e instanceof ImportError ? e.message : `${name} could not be opened: ${(e as Error)?.message ?? String(e)}`;
  const st = store.getState();
  st.setImportState({ reading: null, confirm: null, error: msg });
  // A link's file that could not be opened: the synthetic example stays, and the link stops naming the file.
  if (!st.imported && st.source.kind === 'imported') st.setSource({ kind: 'synthetic', url: null });
  st.addNotices([`Import failed — ${msg}. What was on screen is kept.`]);
}

/** Parses bytes and either shows the source or asks the user to confirm an ambiguous layout. */
function accept(store: QkStore, bytes: Uint8Array, name: string, url: string | null): void {
  performance.mark('qk:import-read');
  const outcome = importTensors(bytes, name);
  // Marks for the benchmark: file read, parsed and validated (the views draw after).
  performance.mark('qk:import-parsed');
  const st = store.getState();
  if (outcome.status === 'ready') {
    st.setImported(outcome.source, url);
    return;
  }
  st.setImportState({
    reading: null,
    error: null,
    confirm: { pending: outcome.pending, finish: (layout: ArrayLayout) => outcome.finish(layout), url },
  });
}

/** Applies the layout the user confirmed in the dialog (an error keeps the dialog open with the message). */
export function confirmLayout(store: QkStore, layout: ArrayLayout): void {
  const st = store.getState();
  const c = st.importState.confirm;
  if (!c) return;
  try {
    st.setImported(c.finish(layout), c.url);
  } catch (e) {
    st.setImportState({ error: e instanceof Error ? e.message : String(e) });
  }
}

/** Closes the layout dialog without changing what is shown. */
export function cancelLayout(store: QkStore): void {
  store.getState().setImportState({ confirm: null, error: null });
}

/** Opens a file the user dropped or picked. Never throws: failures become messages. */
export async function openFile(store: QkStore, file: File): Promise<void> {
  const name = file.name || 'the file';
  performance.mark('qk:import-start');
  store.getState().setImportState({ reading: { name, progress: 0, bytes: 0 }, error: null, confirm: null });
  try {
    const bytes = await readBlob(file, progressWriter(store, name));
    accept(store, bytes, name, null);
  } catch (e) {
    failed(store, name, e);
  }
}

/**
 * Opens a same-origin URL from the link (`?src=`). Other origins are refused: nothing is fetched
 * from the network at run time except files the page itself serves.
 */
export async function openUrl(store: QkStore, src: string): Promise<void> {
  let url: URL;
  try {
    url = new URL(src, location.href);
  } catch {
    failed(store, src, new ImportError('format', `"${src.slice(0, 80)}" is not a URL`));
    return;
  }
  const name = decodeURIComponent(url.pathname.split('/').pop() || src);
  if (url.origin !== location.origin) {
    failed(store, name, new ImportError('format', `src=${src.slice(0, 80)} is on another origin (${url.origin}); QK Scope opens only files served by this page, or files you drop or pick`));
    return;
  }
  store.getState().setImportState({ reading: { name, progress: 0, bytes: 0 }, error: null, confirm: null });
  try {
    const res = await fetch(url.href);
    if (!res.ok || !res.body) throw new ImportError('format', `${name} could not be fetched: HTTP ${res.status} ${res.statusText}`);
    const size = Number(res.headers.get('content-length') ?? 0);
    // A compressed response's length is not the body's: read without a known size then.
    const encoded = !!res.headers.get('content-encoding');
    const bytes = await readStream(res.body, encoded ? 0 : size, progressWriter(store, name));
    accept(store, bytes, name, src);
  } catch (e) {
    failed(store, name, e);
  }
}

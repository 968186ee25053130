import { ComputeClient } from '../src/compute/client';
import { startController } from '../src/app/controller';
import { openBuiltin, setModelClient } from '../src/app/modelLoader';
import { DEFAULT_INPUTS } from '../src/state/defaults';
import { createQkStore, type QkStore } from '../src/state/store';

/**
 * A store holding a built-in model run on `text`, as the app holds it: the weights loaded on
 * the CPU backend by a main-thread compute client (stories have no worker), the controller
 * computing the views' results. Storybook serves `public/` (staticDirs), so the model's files
 * come from the same origin as in the app. Rejects with the app's own message when the model
 * cannot be opened.
 */
export async function builtinModelStore(id: string, text: string, at: { layer?: number; head?: number } = {}): Promise<QkStore> {
  const client = new ComputeClient({ worker: false });
  const store = createQkStore({ compute: { ...DEFAULT_INPUTS.compute, backend: 'cpu' } });
  startController(store, client, { syncUrl: false, probe: false });
  setModelClient(client);
  await openBuiltin(store, id, -1, text, 'cpu');
  const st = store.getState();
  if (!st.imported?.checkpoint) throw new Error(st.importState.error ?? `the built-in model ${id} did not open`);
  if (at.layer !== undefined) st.setSource({ layer: at.layer });
  if (at.head !== undefined) st.setView({ head: at.head });
  // The first result of the model's maps (the controller computes it from the store).
  await new Promise<void>((resolve, reject) => {
    const done = () => {
      const d = store.getState().derived;
      if (d.status === 'done' && d.result?.key.includes('import')) return resolve(), true;
      if (d.status === 'error') return reject(new Error(d.error ?? 'the model maps failed')), true;
      return false;
    };
    if (done()) return;
    const off = store.subscribe(() => done() && off());
  });
  return store;
}

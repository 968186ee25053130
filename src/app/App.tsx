import { QkProvider } from '../state/react';
import type { QkStore } from '../state/store';
import { Controls } from './Controls';
import { LinkedViews } from './LinkedViews';
import { StatusBar } from './StatusBar';
import { Messages } from './Messages';
import { useKeyboard } from './useKeyboard';
import { LayoutDialog } from './LayoutDialog';
import { DropZone } from './DropZone';

/** The QK Scope page: source controls, status, and the linked views. */
export function App({ store }: { store: QkStore }) {
  useKeyboard(store);
  return (
    <QkProvider store={store}>
      <DropZone store={store} />
      <LayoutDialog />
      <div className="app">
        <header className="topbar">
          <h1>
            QK Scope <span className="muted">attention microscope</span>
          </h1>
          <StatusBar />
        </header>
        <Messages />
        <div className="layout">
          <Controls />
          <LinkedViews />
        </div>
      </div>
    </QkProvider>
  );
}
